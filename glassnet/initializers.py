"""Weight initializers, like ``keras.initializers``: ``init(shape, dtype=None)`` returns a NumPy array.

Random ones draw from ``backend.make_rng(seed)``: a seeded initializer gives the same array every call, an unseeded
one draws from glassnet's global generator (``set_random_seed`` makes that reproducible too). Glorot, He and LeCun are
VarianceScaling with Keras's scale, mode and distribution.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from glassnet import backend
from glassnet.keras_names import missing_attribute

# Standard deviation of a unit normal truncated to [−2, 2]: dividing by it restores the requested stddev.
TRUNCATED_NORMAL_STDDEV_CORRECTION = 0.87962566103423978


def compute_fans(shape: tuple[int, ...]) -> tuple[float, float]:
    """(fan_in, fan_out) as Keras computes them: a kernel (fan_in, units), a vector (n,) → (n, n), a scalar (1, 1);
    for higher ranks the leading axes are the receptive field: fan_in = shape[-2]·field, fan_out = shape[-1]·field."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive_field = math.prod(shape[:-2])
    return float(shape[-2] * receptive_field), float(shape[-1] * receptive_field)


def _dtype(dtype) -> np.dtype:
    return np.dtype(dtype or backend.floatx())


def _truncated_normal(rng: np.random.Generator, shape, mean: float, stddev: float) -> np.ndarray:
    """Normal(mean, stddev) samples, each one beyond 2 stddev drawn again until all lie within."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return mean + stddev * values


class Initializer:
    """Base class: ``__call__(shape, dtype=None)`` returns an array of ``dtype`` (``backend.floatx()`` by default)."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(shape, dtype=None)")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Constant(Initializer):
    """Every entry equal to ``value``."""

    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.full(tuple(shape), self.value, dtype=_dtype(dtype))

    def get_config(self) -> dict:
        return {"value": self.value}


class Zeros(Constant):
    """All zeros (Keras's default for biases)."""

    def __init__(self):
        super().__init__(0.0)

    def get_config(self) -> dict:
        return {}


class Ones(Constant):
    """All ones."""

    def __init__(self):
        super().__init__(1.0)

    def get_config(self) -> dict:
        return {}


class RandomInitializer(Initializer):
    """An initializer that draws from a generator made from ``seed`` on each call."""

    def __init__(self, seed: int | None = None):
        if seed is not None:
            backend.make_rng(seed)  # validates the seed now rather than at the first call
        self.seed = seed

    def _rng(self) -> np.random.Generator:
        return backend.make_rng(self.seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """Samples from Normal(mean, stddev)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return self._rng().normal(self.mean, self.stddev, tuple(shape)).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(RandomInitializer):
    """Samples from Uniform[minval, maxval)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return self._rng().uniform(self.minval, self.maxval, tuple(shape)).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(RandomInitializer):
    """Samples from Normal(mean, stddev), redrawing any beyond two standard deviations from the mean."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return _truncated_normal(self._rng(), tuple(shape), self.mean, self.stddev).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(RandomInitializer):
    """Var(W) = scale / n, with n = fan_in, fan_out or their mean (``mode``), drawn from ``distribution``:

    'truncated_normal' (stddev √(scale/n) / 0.8796…, so the truncated draw keeps that variance),
    'untruncated_normal' (stddev √(scale/n)) or 'uniform' (limit √(3·scale/n)).
    """

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in self.MODES:
            raise ValueError(f"Invalid `mode` argument: expected one of {list(self.MODES)}. Received: mode={mode}")
        distribution = distribution.lower()
        if distribution == "normal":  # Keras accepts 'normal' as 'truncated_normal'
            distribution = "truncated_normal"
        if distribution not in self.DISTRIBUTIONS:
            raise ValueError(
                f"Invalid `distribution` argument: expected one of {list(self.DISTRIBUTIONS)}. "
                f"Received: distribution={distribution}"
            )
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = tuple(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            values = _truncated_normal(rng, shape, 0.0, math.sqrt(variance) / TRUNCATED_NORMAL_STDDEV_CORRECTION)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(variance), shape)
        else:
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, shape)
        return values.astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _variance_scaling_preset(class_name: str, scale: float, mode: str, distribution: str, doc: str) -> type:
    """A VarianceScaling subclass with fixed scale, mode and distribution and only ``seed`` as argument."""

    def __init__(self, seed: int | None = None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}

    return type(class_name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc,
                                                 "__module__": __name__})


GlorotUniform = _variance_scaling_preset(
    "GlorotUniform", 1.0, "fan_avg", "uniform",
    "Xavier/Glorot uniform: Uniform[−limit, limit], limit = √(6 / (fan_in + fan_out)) (Keras's default kernel).")
GlorotNormal = _variance_scaling_preset(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal",
    "Xavier/Glorot normal: truncated normal with stddev √(2 / (fan_in + fan_out)).")
HeUniform = _variance_scaling_preset(
    "HeUniform", 2.0, "fan_in", "uniform", "He uniform: Uniform[−limit, limit], limit = √(6 / fan_in) (for ReLU).")
HeNormal = _variance_scaling_preset(
    "HeNormal", 2.0, "fan_in", "truncated_normal", "He normal: truncated normal with stddev √(2 / fan_in) (for ReLU).")
LecunUniform = _variance_scaling_preset(
    "LecunUniform", 1.0, "fan_in", "uniform", "LeCun uniform: Uniform[−limit, limit], limit = √(3 / fan_in).")
LecunNormal = _variance_scaling_preset(
    "LecunNormal", 1.0, "fan_in", "truncated_normal",
    "LeCun normal: truncated normal with stddev √(1 / fan_in) (for SELU).")


class Identity(Initializer):
    """gain · I for a 2-D shape (Keras's Identity; rectangular shapes get ones on the main diagonal)."""

    def __init__(self, gain: float = 1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer can only be used for 2D matrices. Received: shape={shape}")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain}


class Orthogonal(RandomInitializer):
    """gain · Q with orthonormal rows or columns: the Q factor of a normal matrix, signs fixed by R's diagonal."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = float(gain)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer requires a shape of at least two dimensions. Received: "
                             f"shape={shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


#: The built-in initializers by class name (deserialize and the Keras file reader look names up here).
INITIALIZER_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, GlorotUniform,
                GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Identity, Orthogonal)
}
_SNAKE_NAMES = {
    "zeros": "Zeros", "ones": "Ones", "constant": "Constant", "random_normal": "RandomNormal",
    "random_uniform": "RandomUniform", "truncated_normal": "TruncatedNormal", "variance_scaling": "VarianceScaling",
    "glorot_uniform": "GlorotUniform", "glorot_normal": "GlorotNormal", "he_uniform": "HeUniform",
    "he_normal": "HeNormal", "lecun_uniform": "LecunUniform", "lecun_normal": "LecunNormal",
    "identity": "Identity", "orthogonal": "Orthogonal",
}

# Keras's lower-case function-style aliases: initializers.glorot_uniform(seed=0) and the like.
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, identity, orthogonal = VarianceScaling, Identity, Orthogonal
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal


def serialize(initializer: Initializer) -> dict:
    """``{'class_name': 'GlorotUniform', 'config': {'seed': None}}``: what model files store."""
    if not isinstance(initializer, Initializer):
        raise ValueError(f"Cannot serialize the initializer {initializer!r}: only glassnet.initializers classes can "
                         "be saved in a config")
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def _class_for(name: str) -> type:
    cls = INITIALIZER_CLASSES.get(_SNAKE_NAMES.get(name, name))
    if cls is None:
        raise ValueError(
            f"Unknown initializer: {name!r}. Expected one of {sorted(_SNAKE_NAMES)} (or their class names)."
        )
    return cls


def deserialize(config: dict | str) -> Initializer:
    """An initializer from a name or a ``{'class_name': ..., 'config': {...}}`` dict (known classes only)."""
    if isinstance(config, str):
        return _class_for(config)()
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"An initializer config must be a dict with a 'class_name' key, received {config!r}")
    return _class_for(config["class_name"]).from_config(dict(config.get("config") or {}))


def get(identifier: str | dict | Initializer | Callable | None) -> Initializer | Callable | None:
    """An initializer from a snake_case or class name, a config dict, an instance, or any ``f(shape, dtype)``."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

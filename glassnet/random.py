"""``keras.random``: random tensors drawn with NumPy generators, with Keras 3's seeding semantics.

``seed`` is, as in Keras 3:

- ``None``: a fresh draw from glassnet's global generator (``backend.make_rng()``), so ``backend.set_random_seed``
  (``keras.utils.set_random_seed``) makes a whole program reproducible;
- an integer: the same values on every call with the same seed (stateless);
- a ``SeedGenerator``: the next seed of its sequence, so each call draws new values, reproducibly from its own seed.

An integer seed s draws as a ``SeedGenerator(s)``'s first call does (both use the seed state [s, 0]), as in Keras.
Every function returns a glassnet Tensor; ``dropout`` and ``shuffle`` of a Tensor are differentiable (a product
with the mask, an index).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from glassnet import backend
from glassnet.autodiff.tensor import Tensor, as_tensor
from glassnet.keras_names import missing_attribute

#: Truncated normal draws farther than this many standard deviations from the mean are drawn again (Keras 3).
TRUNCATION = 2.0
_SEED_MODULUS = 2**64


class SeedGenerator:
    """A seed that advances: each random call given it draws new values, the sequence fixed by ``seed``.

    ``state`` is [seed, counter]; ``next()`` returns the current state and advances the counter. ``seed=None`` draws
    the initial seed from glassnet's global generator (reproducible under ``backend.set_random_seed``)."""

    def __init__(self, seed: int | None = None, name: str | None = None):
        self.initial_seed = seed
        if seed is None:
            seed = int(backend.make_rng().integers(1, 10**9))
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed!r}")
        self.name = name or "seed_generator"
        self.state = np.array([int(seed) % _SEED_MODULUS, 0], dtype=np.uint64)

    def next(self, ordered: bool = True) -> np.ndarray:
        """The current [seed, counter], then advance the counter (``ordered=False``: scramble the state instead,
        as Keras's global generator does)."""
        current = self.state.copy()
        if ordered:
            self.state[1] += np.uint64(1)
        else:
            self.state = np.array([(int(s) + 1) * 5387 % 933199 for s in self.state], dtype=np.uint64)
        return current

    def get_config(self) -> dict:
        return {"seed": self.initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> SeedGenerator:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name!r} state={self.state.tolist()}>"


def generator(seed: int | SeedGenerator | None = None) -> np.random.Generator:
    """The NumPy generator one random call draws from, for ``seed`` as described in the module's docstring."""
    if seed is None:
        return backend.make_rng()
    if isinstance(seed, SeedGenerator):
        state = seed.next()
    elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        state = np.array([int(seed) % _SEED_MODULUS, 0], dtype=np.uint64)
    else:
        raise ValueError("Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
                         f"Received: seed={seed!r} (of type {type(seed).__name__})")
    return np.random.default_rng([int(s) for s in state])


def _float_dtype(dtype, function: str) -> np.dtype:
    dtype = np.dtype(backend.floatx() if dtype is None else dtype)
    if dtype.kind != "f":
        raise ValueError(f"`glassnet.random.{function}` requires a floating point `dtype`. Received: dtype={dtype}")
    return dtype


def _shape(shape, function: str) -> tuple[int, ...]:
    shape = (shape,) if isinstance(shape, numbers.Integral) else shape
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"`glassnet.random.{function}` expects `shape` as a tuple of non-negative integers. "
                         f"Received: shape={shape!r}") from None
    if any(d < 0 for d in dims) or any(isinstance(d, bool) for d in shape):
        raise ValueError(f"`glassnet.random.{function}` expects `shape` as a tuple of non-negative integers. "
                         f"Received: shape={shape!r}")
    return dims


def normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None) -> Tensor:
    """Draws from N(mean, stddev²): x = mean + stddev·z, z ~ N(0, 1), in ``dtype`` (default ``floatx()``)."""
    dtype, shape = _float_dtype(dtype, "normal"), _shape(shape, "normal")
    z = generator(seed).standard_normal(shape)
    return Tensor((mean + stddev * z).astype(dtype), dtype=dtype)


def uniform(shape, minval: float = 0.0, maxval: float = 1.0, dtype=None, seed=None) -> Tensor:
    """Draws from U[minval, maxval): x = minval + (maxval − minval)·u, u ~ U[0, 1); a value that rounds up to
    ``maxval`` in ``dtype`` is set to the largest value below it."""
    dtype, shape = _float_dtype(dtype, "uniform"), _shape(shape, "uniform")
    if not maxval > minval:
        raise ValueError(f"`glassnet.random.uniform` expects minval < maxval. Received: minval={minval}, "
                         f"maxval={maxval}")
    x = (minval + (maxval - minval) * generator(seed).random(shape)).astype(dtype)
    x = np.where(x >= maxval, np.nextafter(dtype.type(maxval), dtype.type(-np.inf)), x)
    return Tensor(x, dtype=dtype)


def truncated_normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None) -> Tensor:
    """Draws from N(mean, stddev²) restricted to [mean − 2·stddev, mean + 2·stddev]: values beyond two standard
    deviations are drawn again (Keras 3)."""
    dtype, shape = _float_dtype(dtype, "truncated_normal"), _shape(shape, "truncated_normal")
    rng = generator(seed)
    z = rng.standard_normal(shape)
    outside = np.abs(z) > TRUNCATION
    while outside.any():
        z[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(z) > TRUNCATION
    return Tensor((mean + stddev * z).astype(dtype), dtype=dtype)


def randint(shape, minval: int, maxval: int, dtype="int32", seed=None) -> Tensor:
    """Integers drawn uniformly from [minval, maxval), in an integer ``dtype`` (default ``'int32'``)."""
    dtype, shape = np.dtype(dtype), _shape(shape, "randint")
    if dtype.kind not in "iu":
        raise ValueError(f"`glassnet.random.randint` requires an integer `dtype`. Received: dtype={dtype}")
    if not maxval > minval:
        raise ValueError(f"`glassnet.random.randint` expects minval < maxval. Received: minval={minval}, "
                         f"maxval={maxval}")
    return Tensor(generator(seed).integers(minval, maxval, size=shape).astype(dtype), dtype=dtype)


def dropout(inputs, rate: float, noise_shape: Sequence[int | None] | None = None, seed=None) -> Tensor:
    """Each value (or each slice, with ``noise_shape``) is kept with probability 1 − rate: y = x·mask / (1 − rate),
    mask ~ Bernoulli(1 − rate); differentiable in x. ``noise_shape`` broadcasts to x's shape (None: x's size)."""
    x = as_tensor(inputs)
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
        raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                         f"Received: rate={rate!r}")
    if noise_shape is None:
        shape = x.shape
    else:
        if len(noise_shape) != x.ndim:
            raise ValueError(f"`noise_shape` must have one entry per axis of the inputs {x.shape}. "
                             f"Received: noise_shape={tuple(noise_shape)}")
        shape = tuple(n if d is None else int(d) for d, n in zip(noise_shape, x.shape))
        if any(d not in (1, n) for d, n in zip(shape, x.shape)):
            raise ValueError(f"`noise_shape` {tuple(noise_shape)} does not broadcast to the inputs' shape {x.shape}")
    keep = 1.0 - rate
    kept = generator(seed).random(shape) < keep
    mask = np.where(kept, 1.0 / keep, 0.0) if keep > 0 else np.zeros(shape)
    return x * Tensor(mask.astype(x.dtype), dtype=x.dtype)


def shuffle(x, axis: int = 0, seed=None) -> Tensor:
    """The slices of ``x`` along ``axis`` in a uniformly random order (a permutation; differentiable in x)."""
    x = as_tensor(x)
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"`glassnet.random.shuffle`: axis {axis!r} is out of range for an input of shape {x.shape}")
    axis = int(axis) % x.ndim
    order = generator(seed).permutation(x.shape[axis])
    return x[(slice(None),) * axis + (order,)]


__all__ = ["SeedGenerator", "dropout", "generator", "normal", "randint", "shuffle", "truncated_normal", "uniform"]


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

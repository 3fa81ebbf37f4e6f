"""Weight regularizers, like ``keras.regularizers``: ``reg(w)`` is a scalar Tensor penalty added to the loss.

L2: λ Σ w² (weight decay, the course's λ/2m ‖W‖² with the constants folded into λ); L1: λ Σ |w|. The penalty is
built from glassnet ops, so backward adds its gradient (2λw for L2) to the weight's gradient.
"""

from __future__ import annotations

from collections.abc import Callable

from glassnet import ops
from glassnet.autodiff.tensor import Tensor, as_tensor
from glassnet.keras_names import missing_attribute


def _non_negative(value, name: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. "
                         f"Received: {name}={value!r}")
    return float(value)


class Regularizer:
    """Base class: ``__call__(w)`` returns a scalar Tensor; ``get_config``/``from_config`` describe it."""

    def __call__(self, x) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(x)")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """penalty = l1 · Σ|w| + l2 · Σ w²  (Keras defaults l1 = l2 = 0)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _non_negative(l1, "l1")
        self.l2 = _non_negative(l2, "l2")

    def __call__(self, x) -> Tensor:
        x = as_tensor(x)
        penalty = Tensor(0.0, dtype=x.dtype)
        if self.l1:
            penalty = penalty + self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * ops.sum(ops.square(x))
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """penalty = l1 · Σ|w|  (Keras default l1 = 0.01)."""

    def __init__(self, l1: float = 0.01):
        self.l1 = _non_negative(l1, "l1")

    def __call__(self, x) -> Tensor:
        return self.l1 * ops.sum(ops.abs(x))

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(Regularizer):
    """penalty = l2 · Σ w²  (Keras default l2 = 0.01)."""

    def __init__(self, l2: float = 0.01):
        self.l2 = _non_negative(l2, "l2")

    def __call__(self, x) -> Tensor:
        return self.l2 * ops.sum(ops.square(x))

    def get_config(self) -> dict:
        return {"l2": self.l2}


# Keras's lower-case aliases: regularizers.l2(0.001) is L2(0.001).
l1, l2, l1_l2 = L1, L2, L1L2

#: The built-in regularizers by class name and alias (deserialize and the Keras file reader look names up here).
REGULARIZER_CLASSES: dict[str, type] = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": L1L2}


def serialize(regularizer: Regularizer) -> dict:
    """``{'class_name': 'L2', 'config': {'l2': 0.01}}``: what model files store."""
    if not isinstance(regularizer, Regularizer):
        raise ValueError(f"Cannot serialize the regularizer {regularizer!r}: only glassnet.regularizers classes can "
                         "be saved in a config")
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config: dict | str) -> Regularizer:
    """A regularizer from a name (``'l2'``) or a ``{'class_name': ..., 'config': {...}}`` dict (known classes only)."""
    name, kwargs = (config, {}) if isinstance(config, str) else (config.get("class_name"), config.get("config") or {})
    if name not in REGULARIZER_CLASSES:
        raise ValueError(f"Unknown regularizer: {name!r}. Expected one of {sorted(REGULARIZER_CLASSES)}.")
    return REGULARIZER_CLASSES[name].from_config(dict(kwargs))


def get(identifier: str | dict | Regularizer | Callable | None) -> Regularizer | Callable | None:
    """A regularizer from a name, a config dict, an instance, any ``f(w) -> scalar`` callable, or None."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

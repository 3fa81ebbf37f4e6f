"""Weight constraints, like ``keras.constraints``: ``constraint(w)`` returns the weights projected back into the
allowed set, and the optimizer assigns that to the variable right after each update (``variable.constraint``).

Norms are taken over ``axis`` (for a Dense kernel of shape (fan_in, units), ``axis=0`` gives each unit's incoming
weight vector its own norm); ε is ``backend.epsilon()``, as in Keras. Each is written with glassnet ops, so its
math can be read (and differentiated) like any other step.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable

from glassnet import backend, ops
from glassnet.autodiff.tensor import Tensor, as_tensor
from glassnet.keras_names import missing_attribute


class Constraint:
    """Base class: ``__call__(w)`` returns the constrained weights (this base returns them unchanged);
    ``get_config``/``from_config`` describe it."""

    def __call__(self, w) -> Tensor:
        return as_tensor(w)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _norms(w: Tensor, axis) -> Tensor:
    """‖w‖ over ``axis``, kept as size-1 axes so that it broadcasts against w."""
    return ops.sqrt(ops.sum(ops.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """w ← w · clip(‖w‖, 0, max_value) / (ε + ‖w‖): vectors longer than ``max_value`` are scaled down to it."""

    def __init__(self, max_value: float = 2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w) -> Tensor:
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        return w * (ops.clip(norms, 0, self.max_value) / (backend.epsilon() + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """w ← w · (rate·clip(‖w‖, min, max) + (1 − rate)·‖w‖) / (ε + ‖w‖): rate = 1 enforces the bounds at once,
    rate < 1 moves the norms toward them a step at a time."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w) -> Tensor:
        w = as_tensor(w)
        norms = _norms(w, self.axis)
        desired = self.rate * ops.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """w ← max(w, 0)."""

    def __call__(self, w) -> Tensor:
        return ops.maximum(as_tensor(w), 0.0)


class UnitNorm(Constraint):
    """w ← w / (ε + ‖w‖): every vector along ``axis`` gets norm 1."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w) -> Tensor:
        w = as_tensor(w)
        return w / (backend.epsilon() + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


# Keras's lower-case aliases: constraints.max_norm(3) is MaxNorm(3).
max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


#: The built-in constraints by class name and snake-case alias (deserialize and get look names up here).
CONSTRAINT_CLASSES: dict[str, type] = {
    key: cls for cls in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)
    for key in (cls.__name__, _snake_case(cls.__name__))}


def serialize(constraint: Constraint) -> dict:
    """``{'class_name': 'MaxNorm', 'config': {'max_value': 2, 'axis': 0}}``: what model files store."""
    if not isinstance(constraint, Constraint):
        raise ValueError(f"Cannot serialize the constraint {constraint!r}: only glassnet.constraints.Constraint "
                         "instances can be saved in a config")
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}


def deserialize(config: dict | str, custom_objects: dict | None = None) -> Constraint:
    """A constraint from a name (``'max_norm'``) or a ``{'class_name': ..., 'config': {...}}`` dict; classes not
    built in are looked up in ``custom_objects``."""
    name, kwargs = (config, {}) if isinstance(config, str) else (config.get("class_name"), config.get("config") or {})
    known = {**CONSTRAINT_CLASSES, **(custom_objects or {})}
    if name not in known:
        raise ValueError(f"Unknown constraint: {name!r}. Expected one of {sorted(CONSTRAINT_CLASSES)}, or pass it "
                         f"in custom_objects={{{name!r}: cls}}")
    return known[name].from_config(dict(kwargs))


def get(identifier: str | dict | Constraint | Callable | None) -> Constraint | Callable | None:
    """A constraint from a name, a config dict, a Constraint class or instance, any ``f(w) -> w`` callable, or
    None (no constraint)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    obj = CONSTRAINT_CLASSES.get(identifier) if isinstance(identifier, str) else identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret constraint identifier: {identifier}")


__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get", "max_norm",
           "min_max_norm", "non_neg", "serialize", "unit_norm"]


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

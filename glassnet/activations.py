"""Activation functions, like ``keras.activations``: each is composed from glassnet ops, so its gradient comes from
the engine, and a user-defined activation written the same way (``lambda z: z * ops.sigmoid(z)``) trains as is.

Keras 3 formulas and defaults. ``get(identifier)`` turns a name, None or a callable into a function;
``serialize(fn)`` gives back its name.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from glassnet import ops
from glassnet.autodiff.ops_special import erf
from glassnet.autodiff.tensor import Tensor, as_tensor
from glassnet.keras_names import missing_attribute

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def linear(x) -> Tensor:
    """a = z (the identity; what ``activation=None`` means)."""
    return as_tensor(x)


def relu(x, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> Tensor:
    """a = max(z, 0); with Keras's options: slope ``negative_slope`` below ``threshold``, capped at ``max_value``."""
    if max_value is None and threshold == 0:
        return ops.relu(x) if negative_slope == 0 else ops.leaky_relu(x, negative_slope)
    x = as_tensor(x)
    out = ops.where(x > threshold, x, 0.0)
    if max_value is not None:
        out = ops.minimum(out, max_value)
    if negative_slope != 0:
        out = out - negative_slope * ops.relu(threshold - x)
    return out


def relu6(x) -> Tensor:
    """a = min(max(z, 0), 6)."""
    return ops.clip(x, 0.0, 6.0)


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """a = z if z > 0 else negative_slope · z."""
    return ops.leaky_relu(x, negative_slope)


def sigmoid(x) -> Tensor:
    """a = σ(z) = 1 / (1 + e^−z), stable for any z."""
    return ops.sigmoid(x)


def tanh(x) -> Tensor:
    """a = tanh(z)."""
    return ops.tanh(x)


def softmax(x, axis: int = -1) -> Tensor:
    """a = e^z / Σ e^z along ``axis``, stable for any z."""
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis: int = -1) -> Tensor:
    """a = z − ln Σ e^z along ``axis``."""
    return ops.log_softmax(x, axis=axis)


def softplus(x) -> Tensor:
    """a = ln(1 + e^z), stable for any z."""
    return ops.softplus(x)


def softsign(x) -> Tensor:
    """a = z / (1 + |z|)."""
    return ops.divide(x, 1 + ops.abs(x))


def elu(x, alpha: float = 1.0) -> Tensor:
    """a = z if z > 0 else α(e^z − 1); the exponential only sees min(z, 0), so it never overflows."""
    x = as_tensor(x)
    return ops.where(x > 0, x, alpha * (ops.exp(ops.minimum(x, 0.0)) - 1))


def selu(x) -> Tensor:
    """a = scale · elu(z, α) with Klambauer et al.'s self-normalizing constants α ≈ 1.6733, scale ≈ 1.0507."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def gelu(x, approximate: bool = False) -> Tensor:
    """a = z · Φ(z) = ½ z (1 + erf(z / √2)); with ``approximate``, ½ z (1 + tanh(√(2/π) (z + 0.044715 z³)))."""
    x = as_tensor(x)
    if approximate:
        return 0.5 * x * (1 + ops.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)))
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def silu(x) -> Tensor:
    """a = z · σ(z) (also called swish)."""
    return ops.multiply(x, ops.sigmoid(x))


swish = silu


def mish(x) -> Tensor:
    """a = z · tanh(softplus(z))."""
    return ops.multiply(x, ops.tanh(ops.softplus(x)))


def hard_sigmoid(x) -> Tensor:
    """a = relu6(z + 3) / 6: 0 below −3, 1 above 3, z/6 + ½ between (Keras 3's definition)."""
    return relu6(ops.add(x, 3.0)) / 6.0


def hard_silu(x) -> Tensor:
    """a = z · hard_sigmoid(z) (also called hard_swish)."""
    return ops.multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def exponential(x) -> Tensor:
    """a = e^z (overflows to inf beyond z ≈ 88 in float32, like Keras's)."""
    return ops.exp(x)


#: The built-in activations by name (what serialize gives and a Keras file may name); aliases are in _ALIASES.
ACTIVATIONS: dict[str, Callable] = {
    fn.__name__: fn
    for fn in (linear, relu, relu6, leaky_relu, sigmoid, tanh, softmax, log_softmax, softplus, softsign, elu, selu,
               gelu, silu, mish, hard_sigmoid, hard_silu, exponential)
}
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}


def serialize(activation: Callable) -> str:
    """The name of an activation (``'relu'``); a user function is named by its ``__name__``."""
    for name, fn in ACTIVATIONS.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", type(activation).__name__)


def deserialize(name: str, custom_objects: dict[str, Callable] | None = None) -> Callable:
    """The activation called ``name`` (a built-in, an alias such as ``'swish'``, or one of ``custom_objects``)."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    name = _ALIASES.get(name, name)
    if name not in ACTIVATIONS:
        known = sorted([*ACTIVATIONS, *_ALIASES])
        raise ValueError(f"Unknown activation function: {name!r}. Expected one of {known} or a callable.")
    return ACTIVATIONS[name]


def get(identifier: str | Callable | None) -> Callable:
    """An activation from a name, None (linear) or a callable (returned as is, so custom activations just work)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret activation identifier: {identifier!r}. Expected a name such as 'relu', None or a "
        "callable."
    )


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

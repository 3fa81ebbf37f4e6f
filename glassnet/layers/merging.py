"""Merging layers (``keras.layers.Add``, ``Concatenate``, ...): one tensor from a list of tensors.

They join the branches of a functional model: ``Add()([x, residual])`` is a residual connection,
``Concatenate()([a, b])`` puts two feature vectors side by side. Element-wise merges follow NumPy's broadcasting,
and each is the op it names, so the backward is that op's: the gradient of a sum reaches every input unchanged.
"""

from __future__ import annotations

import string
from functools import reduce

from glassnet import ops
from glassnet.autodiff.tensor import Tensor
from glassnet.layers.base import Layer


class Merge(Layer):
    """A layer called on a list of at least two tensors; ``merge`` says how they combine."""

    def _check_inputs(self, inputs) -> None:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer ({type(self).__name__} '{self.name}') should be called on a list of "
                             f"inputs. Received: inputs={inputs!r} (not a list)")
        if len(inputs) < 2:
            raise ValueError(f"A merge layer ({type(self).__name__} '{self.name}') should be called on a list of "
                             f"at least 2 inputs. Got {len(inputs)} inputs.")

    def build(self, input_shape) -> None:
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(input_shape[0],
                                                                                           (list, tuple)):
            raise ValueError(f"A merge layer ({type(self).__name__} '{self.name}') should be called on a list of "
                             f"inputs. Received: input_shape={input_shape}")

    def call(self, inputs):
        self._check_inputs(inputs)
        return self.merge(list(inputs))

    def merge(self, inputs: list[Tensor]) -> Tensor:
        raise NotImplementedError


class Add(Merge):
    """out = x₁ + x₂ + … (the backward hands dout to every input)."""

    def merge(self, inputs):
        return reduce(ops.add, inputs)


class Subtract(Merge):
    """out = x₁ − x₂ (exactly two inputs)."""

    def _check_inputs(self, inputs) -> None:
        super()._check_inputs(inputs)
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer ('{self.name}') should be called on exactly 2 inputs. Received: "
                             f"{len(inputs)} inputs")

    def merge(self, inputs):
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """out = x₁ ⊙ x₂ ⊙ … (element-wise)."""

    def merge(self, inputs):
        return reduce(ops.multiply, inputs)


class Average(Merge):
    """out = (x₁ + … + xₙ) / n."""

    def merge(self, inputs):
        return ops.multiply(reduce(ops.add, inputs), 1.0 / len(inputs))


class Maximum(Merge):
    """out = max(x₁, x₂, …) element-wise (the gradient goes to the larger input)."""

    def merge(self, inputs):
        return reduce(ops.maximum, inputs)


class Minimum(Merge):
    """out = min(x₁, x₂, …) element-wise (the gradient goes to the smaller input)."""

    def merge(self, inputs):
        return reduce(ops.minimum, inputs)


class Concatenate(Merge):
    """out = [x₁, x₂, …] joined along ``axis`` (default -1); the backward splits dout back into the pieces."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def build(self, input_shape) -> None:
        super().build(input_shape)
        ranks = {len(shape) for shape in input_shape}
        axis = self.axis % max(ranks)
        others = {tuple(d for i, d in enumerate(shape) if i not in (0, axis)) for shape in input_shape}
        if len(ranks) != 1 or len({tuple(d for d in shape if d is not None) for shape in others}) > 1:
            raise ValueError(f"A `Concatenate` layer ('{self.name}') requires inputs with matching shapes except for "
                             f"the concatenation axis. Received: input_shape={list(input_shape)}")

    def merge(self, inputs):
        return ops.concatenate(inputs, axis=self.axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """out[b] = Σ x[b, …, i, …] · y[b, …, i, …] over ``axes`` (one per input, batch excluded); with
    ``normalize=True`` both are L2-normalized along those axes first, so the result is the cosine similarity."""

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        pair = (axes, axes) if isinstance(axes, int) else axes
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(a, int) for a in pair)):
            raise ValueError(f"Invalid format for argument `axes`: expected an int or a list/tuple of 2 ints. "
                             f"Received: axes={axes!r}")
        self.axes, self.normalize = axes, bool(normalize)

    def _check_inputs(self, inputs) -> None:
        super()._check_inputs(inputs)
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer ('{self.name}') should be called on exactly 2 inputs. Received: "
                             f"{len(inputs)} inputs")

    def merge(self, inputs):
        x, y = inputs
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        ax, ay = (a % t.ndim for a, t in zip(pair, (x, y)))
        if x.shape[ax] != y.shape[ay]:
            raise ValueError(f"Dot layer '{self.name}': dimension incompatibility {x.shape[ax]} != {y.shape[ay]} "
                             f"along axes {self.axes}. Received shapes {x.shape} and {y.shape}")
        if self.normalize:
            x = ops.divide(x, ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=ax, keepdims=True), 1e-12)))
            y = ops.divide(y, ops.sqrt(ops.maximum(ops.sum(ops.square(y), axis=ay, keepdims=True), 1e-12)))
        letters = iter(string.ascii_lowercase[1:])
        x_sub = ["a"] + [next(letters) for _ in range(x.ndim - 1)]
        y_sub = ["a"] + [next(letters) for _ in range(y.ndim - 1)]
        y_sub[ay] = x_sub[ax]
        out_sub = ["a"] + [c for i, c in enumerate(x_sub) if i not in (0, ax)] + [
            c for i, c in enumerate(y_sub) if i not in (0, ay)]
        out = ops.einsum(f"{''.join(x_sub)},{''.join(y_sub)}->{''.join(out_sub)}", x, y)
        return ops.expand_dims(out, -1) if out.ndim == 1 else out

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def add(inputs, **kwargs):
    """``keras.layers.add([x, y])``: an Add layer called on ``inputs``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize: bool = False, **kwargs):
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)

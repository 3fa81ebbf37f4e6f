"""Shaping layers: they move values without learning anything. Reshape and Permute change each sample's layout,
RepeatVector copies a vector along a new time axis, and on images (channels_last) ZeroPadding2D adds a border of
zeros, Cropping2D cuts one away and UpSampling2D repeats each pixel. None holds weights; each is a composition of
shape ops (or the one Pad op), so its gradient is the same moves run backwards."""

from __future__ import annotations

import math
import numbers

import numpy as np

from glassnet import ops
from glassnet.autodiff import ops_shape
from glassnet.layers.base import InputSpec, Layer
from glassnet.layers.conv import SpatialInputSpec, standardize_data_format


def positive_int(value, name: str, layer: str) -> int:
    """``value`` as an int ≥ 1, or the error Keras gives for a bad count."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Expected an integer value for `{name}`, got {type(value)}.")
    if value <= 0:
        raise ValueError(f"{layer}: `{name}` must be a positive integer, received {name}={value!r}")
    return int(value)


def pairs_2d(value, name: str, layer: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras's padding/cropping argument as ((top, bottom), (left, right)): an int (all four sides), a pair
    (symmetric height, width) or a pair of pairs. Negative amounts are refused."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        pairs = ((value, value), (value, value))
    elif isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"`{name}` should have two elements. Received: {name}={value}.")
        pairs = []
        for i, item in enumerate(value):
            if isinstance(item, numbers.Integral) and not isinstance(item, bool):
                pairs.append((item, item))
            elif isinstance(item, (tuple, list)) and len(item) == 2 and all(
                    isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in item):
                pairs.append(tuple(item))
            else:
                side = "height" if i == 0 else "width"
                raise ValueError(f"`{name}[{i}]` should be an int or a pair of ints ({side}). Received: "
                                 f"{name}={value}.")
        pairs = tuple(pairs)
    else:
        raise ValueError(f"`{name}` should be either an int, a tuple of 2 ints (symmetric_height, symmetric_width), "
                         f"or a tuple of 2 tuples of 2 ints ((top, bottom), (left, right)). Received: {name}={value}.")
    pairs = tuple((int(a), int(b)) for a, b in pairs)
    if any(v < 0 for pair in pairs for v in pair):
        raise ValueError(f"{layer}: `{name}` must not be negative. Received: {name}={value}.")
    return pairs


class Reshape(Layer):
    """``Reshape(target_shape)``: each sample of shape (d1, d2, …) viewed as ``target_shape`` (the batch axis kept);
    one entry may be -1, inferred from the sample's size."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, numbers.Integral):
            target_shape = (target_shape,)
        target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in target_shape) > 1:
            raise ValueError("There must be at most one unknown dimension (-1) in `target_shape`. Received: "
                             f"target_shape={target_shape}.")
        if any(d == 0 or d < -1 for d in target_shape):
            raise ValueError(f"Reshape: every entry of `target_shape` must be positive or -1. Received: "
                             f"target_shape={target_shape}.")
        self.target_shape = target_shape

    def resolved_shape(self, sample_shape) -> tuple:
        """``target_shape`` with its -1 replaced by the size it must take for samples of ``sample_shape``; the
        error names both shapes when the sizes cannot match."""
        sample_shape = tuple(sample_shape)
        if any(d is None for d in sample_shape):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size, known = math.prod(sample_shape), math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise ValueError("The total size of the tensor must be unchanged, however, the input size cannot by "
                                 "divided by the specified dimensions in target_shape. Received: "
                                 f"input_shape={sample_shape}, target_shape={self.target_shape}")
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if size != known:
            raise ValueError("The total size of the tensor must be unchanged. Received: "
                             f"input_shape={sample_shape}, target_shape={self.target_shape}")
        return self.target_shape

    def build(self, input_shape) -> None:
        self.resolved_shape(tuple(input_shape)[1:])

    def call(self, x):
        return ops.reshape(x, (x.shape[0], *self.resolved_shape(x.shape[1:])))

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        return (input_shape[0], *self.resolved_shape(input_shape[1:]))

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """``Permute(dims)``: the axes of each sample reordered, ``dims`` numbered from 1 as in Keras (the batch axis
    is 0 and stays first): ``Permute((2, 1))`` swaps a sequence's steps and features."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={self.dims}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, x):
        return ops.transpose(x, (0, *self.dims))

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}


class VectorInputSpec(InputSpec):
    """Inputs of rank 2, (batch, features); a wrong rank is refused with that layout and how to get it."""

    def __init__(self):
        super().__init__(ndim=2)

    def check(self, layer: Layer, shape) -> None:
        shape = tuple(shape)
        if len(shape) != 2:
            raise ValueError(f"{type(layer).__name__} '{layer.name}' expects inputs of rank 2 (batch, features), "
                             f"received shape {shape}; flatten each sample first (a Flatten layer)")
        super().check(layer, shape)


class RepeatVector(Layer):
    """``RepeatVector(n)``: (batch, features) → (batch, n, features), the vector copied n times along a new axis.
    The copies are x broadcast against ones of shape (1, n, 1), so the gradient is the sum over the copies."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        self.n = positive_int(n, "n", "RepeatVector")
        self.input_spec = VectorInputSpec()

    def call(self, x):
        return ops.multiply(ops.expand_dims(x, 1), np.ones((1, self.n, 1), dtype=x.dtype))

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}


class ZeroPadding2D(Layer):
    """``ZeroPadding2D(padding=(1, 1), data_format=None)``: zeros added above, below, left and right of each image
    (batch, height, width, channels); ``padding`` is an int, (height, width) or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = pairs_2d(padding, "padding", "ZeroPadding2D")
        self.data_format = standardize_data_format(data_format, "ZeroPadding2D")
        self.input_spec = SpatialInputSpec(2)

    def call(self, x):
        return ops_shape.Pad.apply(x, pad_width=((0, 0), *self.padding, (0, 0)))

    def compute_output_shape(self, input_shape) -> tuple:
        n, h, w, c = tuple(input_shape)
        (top, bottom), (left, right) = self.padding
        return (n, None if h is None else h + top + bottom, None if w is None else w + left + right, c)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class Cropping2D(Layer):
    """``Cropping2D(cropping=((0, 0), (0, 0)), data_format=None)``: rows cut from the top and bottom and columns
    from the left and right of each image; ``cropping`` is given like ZeroPadding2D's padding."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = pairs_2d(cropping, "cropping", "Cropping2D")
        self.data_format = standardize_data_format(data_format, "Cropping2D")
        self.input_spec = SpatialInputSpec(2)

    def build(self, input_shape) -> None:
        self.input_spec.check(self, tuple(input_shape))
        self.compute_output_shape(input_shape)

    def call(self, x):
        (top, bottom), (left, right) = self.cropping
        return ops.getitem(x, (slice(None), slice(top, x.shape[1] - bottom), slice(left, x.shape[2] - right)))

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        sizes = []
        for n, (before, after) in zip(input_shape[1:3], self.cropping):
            if n is not None and before + after >= n:
                raise ValueError("Values in `cropping` argument should be smaller than the corresponding spatial "
                                 f"dimension of the input. Received: inputs.shape={input_shape}, "
                                 f"cropping={self.cropping}")
            sizes.append(None if n is None else n - before - after)
        return (input_shape[0], *sizes, input_shape[3])

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class UpSampling2D(Layer):
    """``UpSampling2D(size=(2, 2), data_format=None, interpolation='nearest')``: each pixel repeated size[0] times
    down and size[1] times across (nearest neighbour), as x broadcast against ones and reshaped, so the gradient
    of a pixel is the sum over its copies. Bilinear interpolation is not supported."""

    def __init__(self, size=(2, 2), data_format=None, interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        if isinstance(size, numbers.Integral) and not isinstance(size, bool):
            size = (size, size)
        if not isinstance(size, (tuple, list)) or len(size) != 2:
            raise ValueError(f"The `size` argument must be a tuple of 2 integers. Received: size={size}")
        self.size = tuple(positive_int(s, "size", "UpSampling2D") for s in size)
        self.data_format = standardize_data_format(data_format, "UpSampling2D")
        if interpolation != "nearest":
            raise NotImplementedError(f"UpSampling2D: glassnet supports interpolation='nearest' only, received "
                                      f"interpolation={interpolation!r}")
        self.interpolation = interpolation
        self.input_spec = SpatialInputSpec(2)

    def call(self, x):
        n, h, w, c = x.shape
        a, b = self.size
        copies = ops.multiply(ops.reshape(x, (n, h, 1, w, 1, c)), np.ones((1, 1, a, 1, b, 1), dtype=x.dtype))
        return ops.reshape(copies, (n, h * a, w * b, c))

    def compute_output_shape(self, input_shape) -> tuple:
        n, h, w, c = tuple(input_shape)
        return (n, None if h is None else h * self.size[0], None if w is None else w * self.size[1], c)

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}

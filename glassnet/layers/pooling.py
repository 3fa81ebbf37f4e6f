"""Pooling layers, channels_last: the maximum or the mean of each window (MaxPooling1D/2D, AveragePooling1D/2D)
or of the whole sequence or image (GlobalMaxPooling1D/2D, GlobalAveragePooling1D/2D). They hold no weights."""

from __future__ import annotations

from glassnet import ops
from glassnet.autodiff import ops_conv
from glassnet.layers.base import Layer
from glassnet.layers.conv import SpatialInputSpec, check_window_fits, standardize_data_format


class BasePooling(Layer):
    """A window of ``pool_size`` moved by ``strides`` (default: pool_size, windows side by side); padding 'valid'
    (windows inside the input) or 'same' (ceil(size / stride) windows, the padding split as TensorFlow splits it).
    Subclasses set ``rank`` and ``mode`` ('max' or 'average')."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size, strides=None, padding: str = "valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = ops_conv.spatial_tuple(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else ops_conv.spatial_tuple(strides, self.rank, "strides")
        self.padding = ops_conv.padding_mode(padding)
        self.data_format = standardize_data_format(data_format, type(self).__name__)
        self.input_spec = SpatialInputSpec(self.rank)

    def build(self, input_shape) -> None:
        self.input_spec.check(self, input_shape)
        check_window_fits(self, input_shape, self.pool_size, self.strides, (1,) * self.rank, self.padding,
                          "pool_size")

    def call(self, x):
        pool = ops.max_pool if self.mode == "max" else ops.average_pool
        return pool(x, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        sizes = [ops_conv.output_length(n, k, s, 1, self.padding)
                 for n, k, s in zip(input_shape[1:-1], self.pool_size, self.strides)]
        return (input_shape[0], *sizes, input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(BasePooling):
    """``MaxPooling1D(pool_size=2, strides=None, padding='valid', data_format=None)``: Z[n,i,c] = max_p X[n, i·s+p,
    c] over inputs (batch, steps, channels)."""

    rank, mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(BasePooling):
    """``MaxPooling2D(pool_size=(2, 2), strides=None, padding='valid', data_format=None)``: Z[n,i,j,c] = max_{p,q}
    X[n, i·s+p, j·s+q, c] over inputs (batch, height, width, channels)."""

    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(BasePooling):
    """``AveragePooling1D(pool_size, strides=None, padding='valid', data_format=None)``: the mean of each window of
    steps; with 'same' the padding is left out of the mean (TensorFlow's rule)."""

    rank, mode = 1, "average"

    def __init__(self, pool_size, strides=None, padding: str = "valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(BasePooling):
    """``AveragePooling2D(pool_size, strides=None, padding='valid', data_format=None)``: the mean of each window of
    pixels; with 'same' the padding is left out of the mean (TensorFlow's rule)."""

    rank, mode = 2, "average"

    def __init__(self, pool_size, strides=None, padding: str = "valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class BaseGlobalPooling(Layer):
    """The maximum or mean over every spatial axis, one value per channel: (batch, channels), or with
    ``keepdims=True`` (batch, 1, …, 1, channels). Subclasses set ``rank`` and ``mode``."""

    rank = 2
    mode = "average"

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)
        self.input_spec = SpatialInputSpec(self.rank)

    def build(self, input_shape) -> None:
        self.input_spec.check(self, input_shape)

    def call(self, x):
        reduce = ops.max if self.mode == "max" else ops.mean
        return reduce(x, axis=tuple(range(1, 1 + self.rank)), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        return (input_shape[0], *((1,) * self.rank if self.keepdims else ()), input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(BaseGlobalPooling):
    """``GlobalAveragePooling1D(data_format=None, keepdims=False)``: Z[n,c] = mean_i X[n,i,c]; with a mask (from
    Embedding(mask_zero=True) or Masking), the mean of the kept steps only: Z[n,c] = Σ_i M[n,i]·X[n,i,c] / Σ_i M[n,i]
    (a sample with every step masked gets 0/0, as in Keras). The output carries no mask."""

    rank, mode = 1, "average"

    def call(self, x, mask=None):
        if mask is None:
            return super().call(x)
        kept = ops.expand_dims(ops.cast(mask, "bool"), -1)
        total = ops.sum(ops.where(kept, x, 0.0), axis=1, keepdims=self.keepdims)
        return total / ops.sum(ops.cast(kept, x.dtype), axis=1, keepdims=self.keepdims)


class GlobalAveragePooling2D(BaseGlobalPooling):
    """``GlobalAveragePooling2D(data_format=None, keepdims=False)``: Z[n,c] = mean_{i,j} X[n,i,j,c]."""

    rank, mode = 2, "average"


class GlobalMaxPooling1D(BaseGlobalPooling):
    """``GlobalMaxPooling1D(data_format=None, keepdims=False)``: Z[n,c] = max_i X[n,i,c], over every step even with a
    mask (Keras 3's GlobalMaxPooling1D does not read masks either)."""

    rank, mode = 1, "max"


class GlobalMaxPooling2D(BaseGlobalPooling):
    """``GlobalMaxPooling2D(data_format=None, keepdims=False)``: Z[n,c] = max_{i,j} X[n,i,j,c]."""

    rank, mode = 2, "max"

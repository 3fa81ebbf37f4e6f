"""The convolution layers, channels_last: Conv1D and Conv2D, a = g(X ⋆ W + b), the kernel W of shape (*kernel_size,
in_channels, filters) slid over the inputs as Keras lays them out (the convolution with its bias is one op, so the
written-out step shows dX, dW and db on one line as a Dense layer's Affine does); DepthwiseConv1D/2D (each channel on
its own), SeparableConv1D/2D (depthwise, then 1×1) and Conv1DTranspose/Conv2DTranspose (the adjoint of a convolution).
"""

from __future__ import annotations

from glassnet import activations, constraints, initializers, ops, regularizers
from glassnet.autodiff import ops_conv
from glassnet.layers.base import InputSpec, Layer

#: How a channels_last input of each spatial rank is laid out, as the errors name it.
LAYOUTS = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}


def standardize_data_format(data_format, layer: str) -> str:
    """'channels_last' for None or 'channels_last'; channels_first is refused with what to do instead."""
    if data_format in (None, "channels_last"):
        return "channels_last"
    if data_format == "channels_first":
        raise NotImplementedError(f"{layer}: glassnet supports data_format='channels_last' only, received "
                                  "data_format='channels_first'; move the channels last, e.g. "
                                  "x.transpose(0, 2, 3, 1) for images (batch, channels, height, width)")
    raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first', received {data_format!r}")


def serialize_optional(module, value):
    """``module.serialize(value)``, or None when there is no value (no regularizer, no constraint)."""
    return module.serialize(value) if value is not None else None


class SpatialInputSpec(InputSpec):
    """What a convolution or pooling layer accepts: channels_last inputs of exactly ``rank + 2`` axes (and, once
    built, a fixed number of channels). A wrong rank is refused with the layout it expects and how to reshape."""

    def __init__(self, rank: int, channels: int | None = None):
        super().__init__(ndim=rank + 2, axes={-1: channels} if channels is not None else None)
        self.rank = rank

    def check(self, layer: Layer, shape) -> None:
        shape = tuple(shape)
        if len(shape) != self.ndim:
            who = f"{type(layer).__name__} '{layer.name}'"
            if len(shape) == self.ndim - 1:
                target = tuple(-1 if d is None else d for d in (*shape, 1))
                hint = (f"; if each sample has one channel, add a channels axis: x.reshape({target}) "
                        "(or x[..., None])")
            else:
                hint = f"; reshape the inputs to {LAYOUTS[self.rank]}"
            raise ValueError(f"{who} expects inputs of rank {self.ndim} {LAYOUTS[self.rank]}, received shape "
                             f"{shape}{hint}")
        super().check(layer, shape)


def check_window_fits(layer: Layer, input_shape, window, strides, dilation, padding: str, what: str) -> None:
    """Refuse, when the layer is built, a window larger than its input with padding='valid' (an empty output)."""
    sizes = [ops_conv.output_length(n, k, s, d, padding)
             for n, k, s, d in zip(tuple(input_shape)[1:-1], window, strides, dilation)]
    if any(size is not None and size <= 0 for size in sizes):
        span = tuple(d * (k - 1) + 1 for k, d in zip(window, dilation))
        spanned = f" (spanning {span} with dilation_rate={tuple(dilation)})" if span != tuple(window) else ""
        raise ValueError(f"{type(layer).__name__} '{layer.name}': {what}={tuple(window)}{spanned} is larger than "
                         f"the input's spatial size {tuple(input_shape)[1:-1]} with padding='valid', so the output "
                         f"would be empty. Use padding='same', a smaller {what}, or larger inputs. Received input "
                         f"shape {tuple(input_shape)}")


class ConvLayer(Layer):
    """What every convolution layer shares: the window (kernel_size, strides, padding, dilation_rate) as Keras
    standardizes it, channels_last inputs of rank ``rank + 2``, the bias of ``bias_size`` entries added to the output,
    and the activation. Subclasses make their kernels in ``build`` and run their op in ``call``."""

    rank = 2
    allows_causal = False  # only Conv1D pads 'causal'
    strides_with_dilation = True  # False: Keras refuses strides > 1 together with dilation_rate > 1

    def __init__(self, kernel_size, strides, padding: str, data_format, dilation_rate, activation, use_bias: bool,
                 bias_initializer, bias_regularizer, bias_constraint, activity_regularizer=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.kernel_size = ops_conv.spatial_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = ops_conv.spatial_tuple(strides, self.rank, "strides")
        self.dilation_rate = ops_conv.spatial_tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = ops_conv.padding_mode(padding, causal=self.allows_causal)
        self.data_format = standardize_data_format(data_format, type(self).__name__)
        if not self.strides_with_dilation and max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = SpatialInputSpec(self.rank)
        self.bias = None

    def input_channels(self, input_shape, window_must_fit: bool = True) -> int:
        """The channels of ``input_shape``, after checking its rank, that they are known and (for a convolution that
        reads windows of its input) that the window fits; the input spec then also fixes the channels."""
        self.input_spec.check(self, input_shape)
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the channels dimension (the last) of the inputs "
                             f"must be defined, received input shape {tuple(input_shape)}")
        if window_must_fit:
            check_window_fits(self, input_shape, self.kernel_size, self.strides, self.dilation_rate, self.padding,
                              "kernel_size")
        self.input_spec = SpatialInputSpec(self.rank, channels)
        return channels

    def add_bias(self, size: int) -> None:
        """The bias vector, one entry per output channel, when the layer uses one."""
        if self.use_bias:
            self.bias = self.add_weight((size,), self.bias_initializer, name="bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def convolve(self, ops_table: dict, x, kernel, **extra):
        """g(op(X, W) + b): the op of this rank from ``ops_table``, with the bias fused in when the layer has one
        (so the written-out step shows dX, dW and db on one line), then the activation."""
        op = ops_table[self.rank, self.bias is not None]
        inputs = (x, kernel) if self.bias is None else (x, kernel, self.bias)
        return self.activation(op.apply(*inputs, strides=self.strides, dilation=self.dilation_rate,
                                        padding=self.padding, **extra))

    def window_sizes(self, input_shape) -> list[int | None]:
        """The output's spatial sizes: one per window position along each axis (Keras's formula)."""
        return [ops_conv.output_length(n, k, s, d, self.padding)
                for n, k, s, d in zip(tuple(input_shape)[1:-1], self.kernel_size, self.strides, self.dilation_rate)]

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": serialize_optional(initializers, self.bias_initializer),
            "bias_regularizer": serialize_optional(regularizers, self.bias_regularizer),
            "bias_constraint": serialize_optional(constraints, self.bias_constraint),
        }


def check_positive(value, name: str) -> int:
    """``value`` if it is a positive int, else Keras's error for the ``filters`` or ``depth_multiplier`` argument."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Invalid value for argument `{name}`. Expected a strictly positive value. Received "
                         f"{name}={value!r}.")
    return value


class BaseConv(ConvLayer):
    """A convolution layer: a = g(X ⋆ W + b), the kernel W (*kernel_size, in_channels, filters) made in ``build``,
    ``ops.conv`` with its fused bias in ``call``. Subclasses set ``rank`` (the number of spatial axes)."""

    strides_with_dilation = False

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, groups: int = 1, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        check_positive(filters, "filters")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: groups={groups!r}.")
        if groups != 1:
            raise NotImplementedError(f"{type(self).__name__}: grouped convolutions (groups={groups}) are not "
                                      "supported by glassnet; use groups=1")
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, bias_constraint, activity_regularizer, **kwargs)
        self.filters, self.groups = filters, groups
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.kernel = None

    def build(self, input_shape) -> None:
        channels = self.input_channels(input_shape)
        self.kernel = self.add_weight((*self.kernel_size, channels, self.filters), self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.add_bias(self.filters)

    def call(self, x):
        z = ops.conv(x, self.kernel, self.strides, self.padding, dilation_rate=self.dilation_rate, bias=self.bias)
        return self.activation(z)

    def compute_output_shape(self, input_shape) -> tuple:
        return (tuple(input_shape)[0], *self.window_sizes(input_shape), self.filters)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "groups": self.groups,
            "kernel_initializer": serialize_optional(initializers, self.kernel_initializer),
            "kernel_regularizer": serialize_optional(regularizers, self.kernel_regularizer),
            "kernel_constraint": serialize_optional(constraints, self.kernel_constraint),
        }


class Conv1D(BaseConv):
    """``Conv1D(filters, kernel_size, strides=1, padding='valid', data_format=None, dilation_rate=1, groups=1,
    activation=None, use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', ...)``.

    Z[n,i,o] = Σ_{p,c} X[n, i·s+p·d, c]·W[p,c,o] + b[o] over inputs (batch, steps, channels); kernel (kernel_size,
    channels, filters). padding may also be 'causal' (an output never sees a later step). channels_last and
    groups=1 only.
    """

    rank, allows_causal = 1, True


class Conv2D(BaseConv):
    """``Conv2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None, dilation_rate=(1, 1),
    groups=1, activation=None, use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', ...)``.

    Z[n,i,j,o] = Σ_{p,q,c} X[n, i·s+p·d, j·s+q·d, c]·W[p,q,c,o] + b[o] over inputs (batch, height, width,
    channels); kernel (kh, kw, channels, filters). channels_last and groups=1 only.
    """

    rank = 2


class BaseDepthwiseConv(ConvLayer):
    """A depthwise convolution layer: a = g(X ⊛ W + b), each input channel convolved on its own with
    ``depth_multiplier`` filters; kernel (*kernel_size, channels, depth_multiplier), bias (channels·depth_multiplier,),
    output channel c·M + m the m-th filter of channel c (Keras's order)."""

    def __init__(self, kernel_size, strides=1, padding: str = "valid", depth_multiplier: int = 1, data_format=None,
                 dilation_rate=1, activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        check_positive(depth_multiplier, "depth_multiplier")
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, bias_constraint, activity_regularizer, **kwargs)
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.kernel = None

    def build(self, input_shape) -> None:
        channels = self.input_channels(input_shape)
        self.kernel = self.add_weight((*self.kernel_size, channels, self.depth_multiplier),
                                      self.depthwise_initializer, name="kernel",
                                      regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        self.add_bias(channels * self.depth_multiplier)

    def call(self, x):
        return self.convolve(ops_conv.DEPTHWISE_OPS, x, self.kernel)

    def compute_output_shape(self, input_shape) -> tuple:
        channels = tuple(input_shape)[-1]
        return (tuple(input_shape)[0], *self.window_sizes(input_shape),
                None if channels is None else channels * self.depth_multiplier)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": serialize_optional(initializers, self.depthwise_initializer),
            "depthwise_regularizer": serialize_optional(regularizers, self.depthwise_regularizer),
            "depthwise_constraint": serialize_optional(constraints, self.depthwise_constraint),
            "activity_regularizer": serialize_optional(regularizers, self.activity_regularizer),
        }


class BaseSeparableConv(ConvLayer):
    """A depthwise separable convolution layer: a = g((X ⊛ W_d) ⋆ W_p + b), a depthwise convolution (each channel on
    its own, ``depth_multiplier`` filters each) followed by a 1×1 convolution that mixes the channels into
    ``filters``; composed of the two ops, so each has its own line in the written-out step."""

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, depth_multiplier: int = 1, activation=None, use_bias: bool = True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        check_positive(depth_multiplier, "depth_multiplier")
        check_positive(filters, "filters")
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, bias_constraint, activity_regularizer, **kwargs)
        self.filters, self.depth_multiplier = filters, depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.depthwise_kernel = self.pointwise_kernel = None

    def build(self, input_shape) -> None:
        channels = self.input_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            (*self.kernel_size, channels, self.depth_multiplier), self.depthwise_initializer,
            name="depthwise_kernel", regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            ((1,) * self.rank + (channels * self.depth_multiplier, self.filters)), self.pointwise_initializer,
            name="pointwise_kernel", regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        self.add_bias(self.filters)

    def call(self, x):
        z = ops_conv.DEPTHWISE_OPS[self.rank, False].apply(x, self.depthwise_kernel, strides=self.strides,
                                                           dilation=self.dilation_rate, padding=self.padding)
        return self.activation(ops.conv(z, self.pointwise_kernel, bias=self.bias))

    def compute_output_shape(self, input_shape) -> tuple:
        return (tuple(input_shape)[0], *self.window_sizes(input_shape), self.filters)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": serialize_optional(initializers, self.depthwise_initializer),
            "pointwise_initializer": serialize_optional(initializers, self.pointwise_initializer),
            "depthwise_regularizer": serialize_optional(regularizers, self.depthwise_regularizer),
            "pointwise_regularizer": serialize_optional(regularizers, self.pointwise_regularizer),
            "depthwise_constraint": serialize_optional(constraints, self.depthwise_constraint),
            "pointwise_constraint": serialize_optional(constraints, self.pointwise_constraint),
            "activity_regularizer": serialize_optional(regularizers, self.activity_regularizer),
        }


class BaseConvTranspose(ConvLayer):
    """A transposed convolution layer: a = g(X ⋆ᵀ W + b), the adjoint of a convolution (it spreads each input pixel
    over a window of the larger output); kernel (*kernel_size, filters, in_channels), as Keras lays it out."""

    strides_with_dilation = False

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        check_positive(filters, "filters")
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, bias_constraint, activity_regularizer, **kwargs)
        self.filters = filters
        self.output_padding = None if output_padding is None else output_paddings(output_padding, self.strides)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.kernel = None

    def build(self, input_shape) -> None:
        channels = self.input_channels(input_shape, window_must_fit=False)
        self.kernel = self.add_weight((*self.kernel_size, self.filters, channels), self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.add_bias(self.filters)

    def call(self, x):
        return self.convolve(ops_conv.TRANSPOSE_OPS, x, self.kernel, output_padding=self.output_padding)

    def compute_output_shape(self, input_shape) -> tuple:
        extra = self.output_padding or (None,) * self.rank
        sizes = [ops_conv.transpose_output_length(n, k, s, d, self.padding, e) for n, k, s, d, e in
                 zip(tuple(input_shape)[1:-1], self.kernel_size, self.strides, self.dilation_rate, extra)]
        return (tuple(input_shape)[0], *sizes, self.filters)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "output_padding": self.output_padding,
            "kernel_initializer": serialize_optional(initializers, self.kernel_initializer),
            "kernel_regularizer": serialize_optional(regularizers, self.kernel_regularizer),
            "kernel_constraint": serialize_optional(constraints, self.kernel_constraint),
            "activity_regularizer": serialize_optional(regularizers, self.activity_regularizer),
        }


def output_paddings(value, strides: tuple[int, ...]) -> tuple[int, ...]:
    """``output_padding`` as a tuple of non-negative ints, each below its stride (Keras's rule and message)."""
    values = (value,) * len(strides) if isinstance(value, int) and not isinstance(value, bool) else \
        tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or len(values) != len(strides) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise ValueError(f"The `output_padding` argument must be a tuple of {len(strides)} integers. Received "
                         f"output_padding={value!r}")
    for i, (extra, stride) in enumerate(zip(values, strides)):
        if extra >= stride:
            raise ValueError(f"`output_padding` must be strictly less than `strides` for all dimensions. At "
                             f"dimension {i}, `output_padding` is {extra} but `strides` is {stride}. Received: "
                             f"output_padding={values}, strides={strides}")
    return values


class DepthwiseConv1D(BaseDepthwiseConv):
    """``DepthwiseConv1D(kernel_size, strides=1, padding='valid', depth_multiplier=1, ...)``: Z[n,i,c·M+m] =
    Σ_p X[n, i·s+p·d, c]·W[p,c,m] + b[c·M+m] over inputs (batch, steps, channels)."""

    rank = 1


class DepthwiseConv2D(BaseDepthwiseConv):
    """``DepthwiseConv2D(kernel_size, strides=(1, 1), padding='valid', depth_multiplier=1, data_format=None,
    dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer='glorot_uniform', ...)``:
    Z[n,i,j,c·M+m] = Σ_{p,q} X[n, i·s+p·d, j·s+q·d, c]·W[p,q,c,m] + b[c·M+m]; kernel (kh, kw, channels, M)."""

    rank = 2


class SeparableConv1D(BaseSeparableConv):
    """``SeparableConv1D(filters, kernel_size, strides=1, padding='valid', data_format=None, dilation_rate=1,
    depth_multiplier=1, ...)``: a DepthwiseConv1D followed by a 1-wide convolution to ``filters`` channels."""

    rank = 1


class SeparableConv2D(BaseSeparableConv):
    """``SeparableConv2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
    dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True, ...)``: a DepthwiseConv2D (kernel
    (kh, kw, channels, M)) followed by a 1×1 convolution (kernel (1, 1, channels·M, filters)) and the bias."""

    rank = 2


class Conv1DTranspose(BaseConvTranspose):
    """``Conv1DTranspose(filters, kernel_size, strides=1, padding='valid', output_padding=None, ...)``: the adjoint
    of a Conv1D, (batch, steps, channels) to (batch, longer steps, filters); kernel (kernel_size, filters,
    channels)."""

    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    """``Conv2DTranspose(filters, kernel_size, strides=(1, 1), padding='valid', output_padding=None,
    data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True, ...)``: the adjoint of a Conv2D (an
    image upsampled by its strides); kernel (kh, kw, filters, channels)."""

    rank = 2

"""Conv1D and Conv2D: a = g(X ⋆ W + b), the kernel W of shape (*kernel_size, in_channels, filters) slid over
channels_last inputs, as Keras lays them out. The convolution with its bias is one op (ops.conv with ``bias``), so
the written-out step shows its three gradients, dX, dW and db, on one line as a Dense layer's Affine does.
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


class BaseConv(Layer):
    """The convolution layers' shared lifecycle: arguments as Keras standardizes them, the kernel and bias made in
    ``build``, ``ops.conv`` in ``call``. Subclasses set ``rank`` (the number of spatial axes)."""

    rank = 2

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid", data_format=None,
                 dilation_rate=1, groups: int = 1, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters`. Expected a strictly positive value. Received "
                             f"filters={filters!r}.")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: groups={groups!r}.")
        if groups != 1:
            raise NotImplementedError(f"{who}: grouped convolutions (groups={groups}) are not supported by glassnet; "
                                      "use groups=1")
        self.filters, self.groups = filters, groups
        self.kernel_size = ops_conv.spatial_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = ops_conv.spatial_tuple(strides, self.rank, "strides")
        self.dilation_rate = ops_conv.spatial_tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = ops_conv.padding_mode(padding, causal=self.rank == 1)
        self.data_format = standardize_data_format(data_format, who)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = SpatialInputSpec(self.rank)
        self.kernel = self.bias = None

    def build(self, input_shape) -> None:
        self.input_spec.check(self, input_shape)
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the channels dimension (the last) of the inputs "
                             f"must be defined, received input shape {tuple(input_shape)}")
        check_window_fits(self, input_shape, self.kernel_size, self.strides, self.dilation_rate, self.padding,
                          "kernel_size")
        self.kernel = self.add_weight((*self.kernel_size, channels, self.filters), self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec = SpatialInputSpec(self.rank, channels)

    def call(self, x):
        z = ops.conv(x, self.kernel, self.strides, self.padding, dilation_rate=self.dilation_rate, bias=self.bias)
        return self.activation(z)

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        sizes = [ops_conv.output_length(n, k, s, d, self.padding)
                 for n, k, s, d in zip(input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate)]
        return (input_shape[0], *sizes, self.filters)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize_optional(initializers, self.kernel_initializer),
            "bias_initializer": serialize_optional(initializers, self.bias_initializer),
            "kernel_regularizer": serialize_optional(regularizers, self.kernel_regularizer),
            "bias_regularizer": serialize_optional(regularizers, self.bias_regularizer),
            "kernel_constraint": serialize_optional(constraints, self.kernel_constraint),
            "bias_constraint": serialize_optional(constraints, self.bias_constraint),
        }


class Conv1D(BaseConv):
    """``Conv1D(filters, kernel_size, strides=1, padding='valid', data_format=None, dilation_rate=1, groups=1,
    activation=None, use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', ...)``.

    Z[n,i,o] = Σ_{p,c} X[n, i·s+p·d, c]·W[p,c,o] + b[o] over inputs (batch, steps, channels); kernel (kernel_size,
    channels, filters). padding may also be 'causal' (an output never sees a later step). channels_last and
    groups=1 only.
    """

    rank = 1


class Conv2D(BaseConv):
    """``Conv2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None, dilation_rate=(1, 1),
    groups=1, activation=None, use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros', ...)``.

    Z[n,i,j,o] = Σ_{p,q,c} X[n, i·s+p·d, j·s+q·d, c]·W[p,q,c,o] + b[o] over inputs (batch, height, width,
    channels); kernel (kh, kw, channels, filters). channels_last and groups=1 only.
    """

    rank = 2

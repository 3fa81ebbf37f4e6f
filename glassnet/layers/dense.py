"""Dense: the fully connected layer, a = g(x·W + b) with kernel W of shape (fan_in, units)."""

from __future__ import annotations

from glassnet import activations, constraints, initializers, ops, regularizers
from glassnet.layers.base import InputSpec, Layer


def _optional_serialize(module, value):
    return module.serialize(value) if value is not None else None


class Dense(Layer):
    """``Dense(units, activation=None, use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros',
    kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
    bias_constraint=None)``.

    Z = X·W + b, A = activation(Z): rows of X are samples (the transpose of the course's Z = W·X + b). Inputs of
    rank > 2 are transformed along their last axis. A constraint (``glassnet.constraints``) is applied to its weight
    by the optimizer after each update.
    """

    def __init__(self, units: int, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: "
                             f"units={units!r}")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.kernel = self.bias = None

    def build(self, input_shape) -> None:
        fan_in = input_shape[-1]
        if fan_in is None:
            raise ValueError(f"Dense '{self.name}': the last dimension of the inputs must be defined, "
                             f"received input shape {tuple(input_shape)}")
        self.kernel = self.add_weight((fan_in, self.units), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: fan_in})

    def call(self, x):
        z = ops.matmul(x, self.kernel) if self.bias is None else ops.affine(x, self.kernel, self.bias)
        return self.activation(z)

    def compute_output_shape(self, input_shape) -> tuple:
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _optional_serialize(initializers, self.kernel_initializer),
            "bias_initializer": _optional_serialize(initializers, self.bias_initializer),
            "kernel_regularizer": _optional_serialize(regularizers, self.kernel_regularizer),
            "bias_regularizer": _optional_serialize(regularizers, self.bias_regularizer),
            "kernel_constraint": _optional_serialize(constraints, self.kernel_constraint),
            "bias_constraint": _optional_serialize(constraints, self.bias_constraint),
        }

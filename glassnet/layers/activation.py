"""Activation layers: ``Activation('relu')`` applies any activation; ReLU, LeakyReLU, ELU and Softmax are the
configurable ones Keras also offers as layers."""

from __future__ import annotations

from glassnet import activations
from glassnet.layers.base import Layer


class Activation(Layer):
    """a = activation(z), elementwise (or along the last axis for softmax); no weights."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, x):
        return self.activation(x)

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class ReLU(Layer):
    """a = min(max(z, 0), max_value) above ``threshold``, negative_slope·(z − threshold) below (Keras's ReLU)."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0:
            raise ValueError("negative_slope of a ReLU layer cannot be a negative value. Received: "
                             f"negative_slope={negative_slope}")
        if threshold is None or threshold < 0:
            raise ValueError(f"threshold of a ReLU layer cannot be a negative value. Received: threshold={threshold}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, x):
        return activations.relu(x, self.negative_slope, self.max_value, self.threshold)

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Layer):
    """a = z if z > 0 else negative_slope · z (the layer's Keras default slope is 0.3)."""

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or negative, "
                             f"received: negative_slope={negative_slope}")
        self.negative_slope = negative_slope

    def call(self, x):
        return activations.leaky_relu(x, self.negative_slope)

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """a = z if z > 0 else α(e^z − 1)."""

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, x):
        return activations.elu(x, self.alpha)

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """a = e^z / Σ e^z along ``axis``."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, x):
        return activations.softmax(x, axis=self.axis)

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}

"""LayerNormalization: each sample normalized over its own features (not over the batch), then scaled and shifted by
learned γ and β: the same computation in training and at inference, with no moving statistics."""

from __future__ import annotations

import numbers

from glassnet import initializers, ops, regularizers
from glassnet.layers.base import InputSpec, Layer
from glassnet.layers.conv import serialize_optional


class LayerNormalization(Layer):
    """``LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer='zeros',
    gamma_initializer='ones', beta_regularizer=None, gamma_regularizer=None)``.

    Keras 3's formula, over the axes in ``axis`` of each sample: μ = mean(x), σ² = mean((x − μ)²) (the biased
    variance), x̂ = (x − μ) / √(σ² + ε), z = γ·x̂ + β. γ ("gamma", ones) and β ("beta", zeros) have the shape of
    those axes; ``scale=False`` drops γ and ``center=False`` drops β. It is a composition of ops (mean, subtract,
    square, sqrt, divide, multiply, add), so its backward is theirs, chained by the walk. Weight constraints are not
    supported.
    """

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        if kwargs.pop("rms_scaling", False):
            raise NotImplementedError("LayerNormalization: rms_scaling=True (deprecated in Keras) is not supported "
                                      "by glassnet")
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and all(isinstance(a, numbers.Integral) for a in axis):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but received: {axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or epsilon < 0:
            raise ValueError(f"LayerNormalization: `epsilon` must be a non-negative float, received "
                             f"epsilon={epsilon!r}")
        if beta_constraint is not None or gamma_constraint is not None:
            raise NotImplementedError("LayerNormalization: weight constraints (beta_constraint, gamma_constraint) "
                                      "are not supported by glassnet")
        self.epsilon = epsilon
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma = self.beta = None

    def axes_for(self, rank: int) -> list[int]:
        """The normalized axes as non-negative numbers for inputs of ``rank``; an axis outside them (or the batch
        axis) is refused naming the axis and the input's rank."""
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if any(not -rank <= a < rank for a in axes):
            bad = next(a for a in axes if not -rank <= a < rank)
            raise ValueError(f"LayerNormalization '{self.name}': axis {bad} is out of bounds for inputs of rank "
                             f"{rank}. Received: axis={self.axis}")
        axes = sorted(a % rank for a in axes)
        if 0 in axes:
            raise ValueError(f"LayerNormalization '{self.name}' normalizes each sample: axis 0 (the batch) cannot "
                             f"be normalized over. Received: axis={self.axis}")
        return axes

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        axes = self.axes_for(len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f"LayerNormalization '{self.name}': the normalized axes {axes} must have defined sizes, "
                             f"received input shape {input_shape}")
        # as Keras does once built: a list of the axes (sorted, as given); an int becomes [axis]
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        # later inputs must have the sizes γ and β were made for (named in the error, not a broadcasting failure)
        self.input_spec = InputSpec(min_ndim=max(axes) + 1, axes={a: input_shape[a] for a in self.axis})
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta", regularizer=self.beta_regularizer)

    def call(self, x):
        axes = tuple(self.axes_for(x.ndim))
        mu = ops.mean(x, axis=axes, keepdims=True)
        centered = x - mu
        variance = ops.mean(ops.square(centered), axis=axes, keepdims=True)
        z = centered / ops.sqrt(variance + self.epsilon)
        if self.gamma is not None:
            z = z * self.broadcastable(self.gamma, axes, x.ndim)
        if self.beta is not None:
            z = z + self.broadcastable(self.beta, axes, x.ndim)
        return z

    @staticmethod
    def broadcastable(weight, axes: tuple[int, ...], rank: int):
        """γ or β shaped to broadcast against inputs of ``rank``: as is for the last axis, else with size-1 axes."""
        if axes == (rank - 1,):
            return weight
        return ops.reshape(weight, tuple(weight.shape[axes.index(a)] if a in axes else 1 for a in range(rank)))

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        self.axes_for(len(input_shape))
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": False,
            "beta_initializer": serialize_optional(initializers, self.beta_initializer),
            "gamma_initializer": serialize_optional(initializers, self.gamma_initializer),
            "beta_regularizer": serialize_optional(regularizers, self.beta_regularizer),
            "gamma_regularizer": serialize_optional(regularizers, self.gamma_regularizer),
            "beta_constraint": None,
            "gamma_constraint": None,
        }

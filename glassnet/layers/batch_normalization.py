"""BatchNormalization: each channel normalized by the statistics of the batch in training and by moving averages of
them at inference, then scaled by γ and shifted by β (Ioffe and Szegedy, 2015)."""

from __future__ import annotations

import numbers

import numpy as np

from glassnet import constraints, initializers, regularizers
from glassnet.autodiff import ops_norm
from glassnet.autodiff.tensor import Tensor
from glassnet.layers.base import InputSpec, Layer
from glassnet.layers.conv import serialize_optional


class BatchNormalization(Layer):
    """``BatchNormalization(axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer='zeros',
    gamma_initializer='ones', moving_mean_initializer='zeros', moving_variance_initializer='ones',
    beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None)``.

    Training (``training=True`` and a trainable layer): z = γ·(x − μ)/√(σ² + ε) + β with μ and σ² the batch's mean
    and biased variance of each channel (over every axis but ``axis``), and the moving statistics follow them:
    moving = moving·momentum + batch·(1 − momentum). Inference (or a frozen layer, ``trainable=False``, as in
    Keras): the same formula with the moving statistics. Weights, in Keras's order: gamma and beta (trainable, when
    ``scale``/``center``), moving_mean and moving_variance (non-trainable), each of shape (channels,). Under a mask
    (from Embedding(mask_zero=True) or Masking), only the unmasked timesteps count in the batch statistics. Weight
    constraints apply to γ and β after each update; batch renormalization is not supported.
    """

    supports_masking = True

    def __init__(self, axis=-1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, renorm: bool = False,
                 renorm_clipping=None, renorm_momentum: float = 0.99, synchronized: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"BatchNormalization: `axis` must be an integer (the channel axis), received "
                            f"axis={axis!r}")
        for arg, value in (("momentum", momentum), ("epsilon", epsilon)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
                raise ValueError(f"BatchNormalization: `{arg}` must be a non-negative float, received "
                                 f"{arg}={value!r}")
        if synchronized:
            raise ValueError("Argument synchronized=True is only supported with the TensorFlow backend.")
        if renorm:
            raise NotImplementedError("BatchNormalization: renorm=True (batch renormalization) is not supported by "
                                      "glassnet")
        self.axis, self.momentum, self.epsilon = int(axis), float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm_clipping, self.renorm_momentum = renorm_clipping, renorm_momentum
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def channel_axis(self, rank: int) -> int:
        """``axis`` as a non-negative number for inputs of ``rank``; out of range or the batch axis is refused."""
        if not -rank <= self.axis < rank:
            raise ValueError(f"BatchNormalization '{self.name}': axis {self.axis} is out of bounds for inputs of rank "
                             f"{rank}. Received: axis={self.axis}")
        if self.axis % rank == 0:
            raise ValueError(f"BatchNormalization '{self.name}': axis 0 is the batch, which cannot be the channel "
                             f"axis. Received: axis={self.axis}")
        return self.axis % rank

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        axis = self.channel_axis(len(input_shape))
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"BatchNormalization '{self.name}': the channel axis {self.axis} must have a defined "
                             f"size, received input shape {input_shape}")
        shape = (channels,)
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta", regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer, name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer, name="moving_variance",
                                               trainable=False)
        # without γ (or β), the op multiplies by ones (adds zeros), as Keras's batch_normalization does
        self._unit_scale = Tensor(np.ones(shape, dtype=self.dtype))
        self._zero_offset = Tensor(np.zeros(shape, dtype=self.dtype))
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: channels})

    def call(self, inputs, training=False, mask=None):
        if mask is not None and mask.ndim != inputs.ndim - 1:
            raise ValueError("The mask provided should be one dimension less than the inputs. Received: "
                             f"mask.shape={tuple(mask.shape)}, inputs.shape={tuple(inputs.shape)}")
        gamma = self.gamma if self.scale else self._unit_scale
        beta = self.beta if self.center else self._zero_offset
        if not (training and self.trainable):
            return ops_norm.BatchNormInference.apply(inputs, self.moving_mean, self.moving_variance, gamma, beta,
                                                     axis=self.axis, epsilon=self.epsilon)
        moving = {"moving_mean": self.moving_mean, "moving_variance": self.moving_variance, "momentum": self.momentum,
                  "axis": self.axis, "epsilon": self.epsilon}
        if mask is None:
            return ops_norm.BatchNorm.apply(inputs, gamma, beta, **moving)
        return ops_norm.MaskedBatchNorm.apply(mask, inputs, gamma, beta, **moving)

    def compute_output_shape(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        self.channel_axis(len(input_shape))
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": serialize_optional(regularizers, self.beta_regularizer),
            "gamma_regularizer": serialize_optional(regularizers, self.gamma_regularizer),
            "beta_constraint": serialize_optional(constraints, self.beta_constraint),
            "gamma_constraint": serialize_optional(constraints, self.gamma_constraint),
            "synchronized": False,
            "renorm": False,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }

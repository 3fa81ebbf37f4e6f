"""Regularization layers that act only in training: GaussianNoise (additive noise), GaussianDropout
(multiplicative noise of mean 1), SpatialDropout1D/2D (whole channels dropped), and ActivityRegularization (a
penalty on the activations). At inference (``training=False``) each is the identity.

The noise is drawn inside an op's forward from the layer's generator (``seed`` makes the sequence reproducible), as
glassnet's Dropout does, so a replayed training step draws new noise every batch.
"""

from __future__ import annotations

import numbers

from glassnet import backend, ops, regularizers
from glassnet.autodiff import ops_nn
from glassnet.layers.base import Layer
from glassnet.layers.conv import SpatialInputSpec, standardize_data_format


def unit_interval(value, name: str, inclusive_one: bool = True) -> float:
    """``value`` as a float in [0, 1] (or [0, 1) when ``inclusive_one`` is False), or Keras's error."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1
            or (not inclusive_one and value == 1)):
        upper = "1" if inclusive_one else "1 (exclusive)"
        raise ValueError(f"Invalid value received for argument `{name}`. Expected a float value between 0 and "
                         f"{upper}. Received: {name}={value}")
    return float(value)


class GaussianNoise(Layer):
    """``GaussianNoise(stddev, seed=None)``: in training, a = x + stddev·ε with ε ~ N(0, 1) drawn for every entry;
    the gradient passes through unchanged. At inference, a = x."""

    def __init__(self, stddev: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = unit_interval(stddev, "stddev")
        self.seed = seed
        self.rng = backend.make_rng(seed)

    def call(self, x, training: bool = False):
        if not training or self.stddev == 0:
            return x
        return ops_nn.GaussianNoise.apply(x, stddev=self.stddev, rng=self.rng)

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """``GaussianDropout(rate, seed=None)``: in training, a = x·ε with ε ~ N(1, rate / (1 − rate)), the same mean
    and variance as inverted dropout's mask but continuous; dx = da·ε. At inference, a = x. ``rate`` is in [0, 1)."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = unit_interval(rate, "rate", inclusive_one=False)
        self.seed = seed
        self.rng = backend.make_rng(seed)

    def call(self, x, training: bool = False):
        if not training or self.rate == 0:
            return x
        return ops_nn.GaussianDropout.apply(x, rate=self.rate, rng=self.rng)

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class SpatialDropout(Layer):
    """Inverted dropout of whole channels: one keep-or-drop per (sample, channel), shared by every step or pixel,
    for inputs whose neighbouring values are correlated (where ordinary dropout would barely regularize).
    Subclasses set ``rank`` (spatial axes)."""

    rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = unit_interval(rate, "rate", inclusive_one=False)
        self.seed = seed
        self.rng = backend.make_rng(seed)
        self.input_spec = SpatialInputSpec(self.rank)

    def call(self, x, training: bool = False):
        if not training or self.rate == 0:
            return x
        return ops.dropout(x, self.rate, self.rng, noise_shape=(None, *(1,) * self.rank, None))

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        """Keras's keys: rate and seed, without ``trainable`` (Keras's SpatialDropout layers do not accept it)."""
        config = super().get_config()
        config.pop("trainable", None)
        return {**config, "rate": self.rate, "seed": self.seed}


class SpatialDropout1D(SpatialDropout):
    """``SpatialDropout1D(rate, seed=None)``: inputs (batch, steps, channels); a dropped channel is zero at every
    step, a kept one is scaled by 1/(1 − rate)."""

    rank = 1


class SpatialDropout2D(SpatialDropout):
    """``SpatialDropout2D(rate, data_format=None, seed=None)``: inputs (batch, height, width, channels); a dropped
    channel is zero at every pixel, a kept one is scaled by 1/(1 − rate)."""

    rank = 2

    def __init__(self, rate: float, data_format=None, seed: int | None = None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = standardize_data_format(data_format, "SpatialDropout2D")

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class ActivityRegularization(Layer):
    """``ActivityRegularization(l1=0.0, l2=0.0)``: the identity, which adds l1·Σ|a| + l2·Σa² (divided by the batch
    size, as for any activity regularizer) to the layer's losses on every call, so training keeps activations
    small or sparse."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}

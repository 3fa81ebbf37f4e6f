"""Batch normalization: each channel normalized by the statistics of the batch (training) or by the moving
statistics gathered in training (inference), then scaled by γ and shifted by β.

In the equations, μ and σ² are the mean and the biased variance (divided by N, the number of values averaged) of
each channel over every axis but the channel axis; ``mean`` and ``Σ`` run over those same axes.
"""

from __future__ import annotations

import numpy as np

from glassnet import kernels
from glassnet.autodiff.function import Function
from glassnet.autodiff.tensor import Variable


class _PerChannel(Function):
    """What both batch norms share: the channel axis, and a per-channel vector shaped to broadcast against x."""

    def __init__(self, axis: int = -1, epsilon: float = 1e-3):
        self.axis, self.epsilon = axis, epsilon

    def _setup(self, x: np.ndarray) -> None:
        axis = self.axis % x.ndim
        self.reduced = tuple(a for a in range(x.ndim) if a != axis)
        self.channel_shape = tuple(n if a == axis else 1 for a, n in enumerate(x.shape))
        self.channels_last = axis == x.ndim - 1

    def _per_channel(self, vector: np.ndarray) -> np.ndarray:
        """A (channels,) vector shaped to broadcast against x."""
        return vector.reshape(self.channel_shape)

    def _channel_sum(self, values: np.ndarray) -> np.ndarray:
        """Σ over every axis but the channels, as a (channels,) vector (channels last: db's sum over the rows)."""
        if self.channels_last:
            return kernels.sum_rows(values)
        return np.add.reduce(values, axis=self.reduced).reshape(-1)


class BatchNorm(_PerChannel):
    """y = gamma·(x − μ)/√(σ² + ε) + beta (μ, σ² the batch's own statistics of each channel).  Backward:
    dx = gamma·(dy − mean(dy) − ẑ·mean(dy·ẑ))/√(σ² + ε), dgamma = Σ dy·ẑ, dbeta = Σ dy.

    Here ẑ = (x − μ)/√(σ² + ε), the normalized x: y = γ·ẑ + β. dx keeps only the part of dy that a change of μ and
    σ² would not absorb: the term −mean(dy) is the path through μ, −ẑ·mean(dy·ẑ) the path through σ².

    The forward also updates the moving statistics, as Keras 3 does on every training call:
    moving_mean ← moving_mean·momentum + μ·(1 − momentum), and the same for moving_variance with σ². It is done
    here, through the Variables' ``assign``, so that a replayed training step updates them too; ``writes`` names
    them, so that a step run twice on one batch (to check a replay against the eager run) can restore them.
    """

    def __init__(self, moving_mean: Variable, moving_variance: Variable, momentum: float = 0.99, axis: int = -1,
                 epsilon: float = 1e-3):
        super().__init__(axis, epsilon)
        self.moving_mean, self.moving_variance, self.momentum = moving_mean, moving_variance, momentum
        self.writes = (moving_mean, moving_variance)

    def forward(self, x, gamma, beta):
        return self._normalize(x, gamma, beta, None)

    def _normalize(self, x, gamma, beta, w):
        """y from the statistics of x weighted by w (None: every value counts the same), updating the moving ones."""
        self._setup(x)
        if w is None:
            share = x.dtype.type(1 / (x.size // len(gamma)))  # each value's part in a channel's mean: 1/N
            mu = self._channel_sum(x) * share
            centered = x - self._per_channel(mu)
            variance = self._channel_sum(np.square(centered)) * share
        else:
            w = np.broadcast_to(np.expand_dims(w, -1), x.shape).astype(x.dtype)  # the mask, one per timestep
            share = w / self._per_channel(np.maximum(self._channel_sum(w), 1))  # w / Σw
            mu = self._channel_sum(x * share)
            centered = x - self._per_channel(mu)
            variance = self._channel_sum(np.square(centered) * share)
        inv_std = 1 / np.sqrt(variance + x.dtype.type(self.epsilon))
        z_hat = np.multiply(centered, self._per_channel(inv_std), out=centered)
        self.save_for_backward(z_hat, inv_std, gamma, share)
        keep = self.momentum
        self.moving_mean.assign(self.moving_mean.value * keep + mu * (1 - keep))
        self.moving_variance.assign(self.moving_variance.value * keep + variance * (1 - keep))
        return z_hat * self._per_channel(gamma) + self._per_channel(beta)

    def backward(self, dy):
        z_hat, inv_std, gamma, share = self.saved
        sum_dy, sum_dy_z = self._channel_sum(dy), self._channel_sum(dy * z_hat)
        dx = None
        if self.needs_input_grad[-3]:  # x, the third input from the end (a mask may come first)
            dx = z_hat * self._per_channel(sum_dy_z)
            dx += self._per_channel(sum_dy)
            dx *= share
            dx = np.subtract(dy, dx, out=dx)
            dx *= self._per_channel(gamma * inv_std)
        return dx, sum_dy_z, sum_dy


class MaskedBatchNorm(BatchNorm):
    """y = gamma·(x − μ)/√(σ² + ε) + beta (μ, σ² over the timesteps the mask w keeps).  Backward: dw = none (a mask),
    dx = gamma·(dy − w·(Σ dy + ẑ·Σ dy·ẑ)/Σ w)/√(σ² + ε), dgamma = Σ dy·ẑ, dbeta = Σ dy.

    Keras's batch statistics under a mask (one value per timestep, shape x's without the channels): μ = Σ w·x / Σ w
    and σ² = Σ w·(x − μ)² / Σ w, so only the timesteps where w = 1 count in them (and in the moving statistics), but
    every value is normalized. With w = 1 everywhere, Σ w = N and this is BatchNorm.
    """

    def forward(self, w, x, gamma, beta):
        return self._normalize(x, gamma, beta, w)

    def backward(self, dy):
        return (None, *super().backward(dy))


class BatchNormInference(_PerChannel):
    """y = gamma·(x − m)/√(v + ε) + beta (m, v: given statistics, the moving ones).  Backward:
    dx = dy·gamma/√(v + ε), dm = −Σ dy·gamma/√(v + ε), dv = −Σ dy·gamma·(x − m)/(2(v + ε)^1.5),
    dgamma = Σ dy·(x − m)/√(v + ε), dbeta = Σ dy.

    keras.ops.batch_normalization: the statistics are inputs here, not computed from x, so nothing flows through
    them into x; a frozen BatchNormalization layer (``trainable=False``) also runs this one in training.
    """

    def forward(self, x, m, v, gamma, beta):
        self._setup(x)
        inv_std = 1 / np.sqrt(v + x.dtype.type(self.epsilon))
        self.save_for_backward(x, m, inv_std, gamma)
        scale = gamma * inv_std
        return x * self._per_channel(scale) + self._per_channel(beta - m * scale)  # = γ·(x − m)/√(v + ε) + β

    def backward(self, dy):
        x, m, inv_std, gamma = self.saved
        z_hat = (x - self._per_channel(m)) * self._per_channel(inv_std)
        dx = dy * self._per_channel(gamma * inv_std)
        sum_dy_z = self._channel_sum(dy * z_hat)
        dv = -0.5 * gamma * sum_dy_z * inv_std**2
        return dx, -self._channel_sum(dx), dv, sum_dy_z, self._channel_sum(dy)

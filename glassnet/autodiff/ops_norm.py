"""Batch normalization: each channel normalized by the statistics of the batch (training) or by the moving
statistics gathered in training (inference), then scaled by γ and shifted by β.

In the equations, μ and σ² are the mean and the biased variance (divided by N, the number of values averaged) of
each channel over every axis but the channel axis; ``mean`` and ``Σ`` run over those same axes.
"""

from __future__ import annotations

import numpy as np

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

    def _per_channel(self, vector: np.ndarray) -> np.ndarray:
        return vector.reshape(self.channel_shape)

    def _channel_sum(self, values: np.ndarray) -> np.ndarray:
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
        else:
            w = np.broadcast_to(np.expand_dims(w, -1), x.shape).astype(x.dtype)  # the mask, one per timestep
            share = w / np.maximum(np.add.reduce(w, axis=self.reduced, keepdims=True), 1)  # w / Σw
        mu = np.add.reduce(x * share, axis=self.reduced, keepdims=True)
        centered = x - mu
        variance = np.add.reduce(centered * centered * share, axis=self.reduced, keepdims=True)
        inv_std = 1 / np.sqrt(variance + x.dtype.type(self.epsilon))
        z_hat = centered * inv_std
        self.save_for_backward(z_hat, inv_std, gamma, share)
        keep = self.momentum
        self.moving_mean.assign(self.moving_mean.value * keep + mu.reshape(-1) * (1 - keep))
        self.moving_variance.assign(self.moving_variance.value * keep + variance.reshape(-1) * (1 - keep))
        return z_hat * self._per_channel(gamma) + self._per_channel(beta)

    def backward(self, dy):
        z_hat, inv_std, gamma, share = self.saved
        dx = None
        if self.needs_input_grad[-3]:  # x, the third input from the end (a mask may come first)
            sum_dy = np.add.reduce(dy, axis=self.reduced, keepdims=True)
            sum_dy_z = np.add.reduce(dy * z_hat, axis=self.reduced, keepdims=True)
            dx = self._per_channel(gamma) * inv_std * (dy - share * (sum_dy + z_hat * sum_dy_z))
        return dx, self._channel_sum(dy * z_hat), self._channel_sum(dy)


class MaskedBatchNorm(BatchNorm):
    """y = gamma·(x − μ)/√(σ² + ε) + beta (μ, σ² weighted by the mask w: μ = Σ w·x / Σ w).  Backward:
    dx = gamma·(dy − w·(Σ dy + ẑ·Σ dy·ẑ)/Σ w)/√(σ² + ε), dgamma = Σ dy·ẑ, dbeta = Σ dy.

    Keras's batch statistics under a mask (one value per timestep, shape x's without the channels): only the
    timesteps where w = 1 count in μ and σ² (and in the moving statistics), but every value is normalized. With
    w = 1 everywhere, Σ w = N and this is BatchNorm. The mask itself gets no gradient.
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
        inv_std = 1 / np.sqrt(self._per_channel(v) + x.dtype.type(self.epsilon))
        z_hat = (x - self._per_channel(m)) * inv_std
        self.save_for_backward(z_hat, inv_std, gamma)
        return z_hat * self._per_channel(gamma) + self._per_channel(beta)

    def backward(self, dy):
        z_hat, inv_std, gamma = self.saved
        dx = dy * (self._per_channel(gamma) * inv_std)
        dm = -self._channel_sum(dx)
        dv = -0.5 * self._channel_sum(dx * z_hat * inv_std)
        return dx, dm, dv, self._channel_sum(dy * z_hat), self._channel_sum(dy)

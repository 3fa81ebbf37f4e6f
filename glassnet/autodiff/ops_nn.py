"""Neural-network ops: activations and the fused cross-entropies whose gradient is the course's A − Y.

All of them are numerically stable: no overflow, no NaN for inputs up to ±1e4 in float32 and float64.
"""

from __future__ import annotations

import numpy as np

from glassnet import kernels
from glassnet.autodiff.function import Function
from glassnet.kernels.elementwise import stable_sigmoid


def stable_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(x) = e^(x − max x) / Σ e^(x − max x) along axis."""
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))  # the ufunc reductions: np.max and np.sum
    return e / np.add.reduce(e, axis=axis, keepdims=True)  # add 2-3 µs of argument handling per call


def stable_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(x) = (x − max x) − ln Σ e^(x − max x) along axis."""
    shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


class Relu(Function):
    """a = max(z, 0).  Backward: dz = da · [z > 0] (read from a: a > 0 exactly where z > 0)."""

    inputs_read_later = True  # max pooling on a reads z (autodiff/fusions.py)

    def forward(self, z):
        a = np.maximum(z.dtype.type(0), z)  # +0.0 for a negative z, −0.0 kept, as Keras and PyTorch (this order)
        self.save_for_backward(a)
        return a

    def backward(self, da):
        (a,) = self.saved
        return kernels.times_positive(da, a)


class LeakyRelu(Function):
    """a = z if z > 0 else α·z.  Backward: dz = da · (1 if z > 0 else α)."""

    def __init__(self, negative_slope=0.2):
        self.negative_slope = negative_slope

    def forward(self, z):
        slope = np.where(z > 0, 1, self.negative_slope).astype(z.dtype)
        self.save_for_backward(slope)
        return z * slope

    def backward(self, da):
        (slope,) = self.saved
        return da * slope


class Sigmoid(Function):
    """a = σ(z).  Backward: dz = da · a(1 − a)."""

    keeps_inputs = inputs_read_later = True  # a binary cross-entropy on a reads the logits z (fusions.py)

    def forward(self, z):
        a = stable_sigmoid(z)
        self.save_for_backward(a)
        return a

    def backward(self, da):
        (a,) = self.saved
        return da * a * (1 - a)


class Tanh(Function):
    """a = tanh(z).  Backward: dz = da · (1 − a²)."""

    def forward(self, z):
        a = np.tanh(z)
        self.save_for_backward(a)
        return a

    def backward(self, da):
        (a,) = self.saved
        return da * (1 - a * a)


class Softplus(Function):
    """a = ln(1 + eᶻ), as max(z, 0) + ln(1 + e^−|z|).  Backward: dz = da · σ(z)."""

    def forward(self, z):
        self.save_for_backward(z)
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))

    def backward(self, da):
        (z,) = self.saved
        return da * stable_sigmoid(z)


class Softmax(Function):
    """a = softmax(z) (along axis).  Backward: dz = a · (da − Σ da·a)."""

    keeps_inputs = inputs_read_later = True  # a categorical cross-entropy on a reads the logits z (fusions.py)

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, z):
        a = stable_softmax(z, self.axis)
        self.save_for_backward(a)
        return a

    def backward(self, da):
        (a,) = self.saved
        return a * (da - np.sum(da * a, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """a = log softmax(z) (along axis).  Backward: dz = da − softmax(z) · Σ da."""

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, z):
        a = stable_log_softmax(z, self.axis)
        self.save_for_backward(a)
        return a

    def backward(self, da):
        (a,) = self.saved
        return da - np.exp(a) * np.sum(da, axis=self.axis, keepdims=True)


class Dropout(Function):
    """a = z · mask / (1 − rate), mask ~ Bernoulli(1 − rate) drawn anew on every forward (inverted dropout).

    Backward: dz = da · mask / (1 − rate). The mask is drawn inside forward so a replayed step draws a new one;
    ``noise_shape`` (None entries follow the input) shares one mask value along its axes of size 1.
    """

    def __init__(self, rate: float, rng: np.random.Generator, noise_shape=None):
        self.rate, self.rng, self.noise_shape = rate, rng, noise_shape

    def forward(self, z):
        shape = z.shape if self.noise_shape is None else tuple(
            n if d is None else d for n, d in zip(z.shape, self.noise_shape))
        keep = (self.rng.random(shape, dtype=np.float32) >= self.rate).astype(z.dtype)
        keep *= 1 / (1 - self.rate)
        self.save_for_backward(keep)
        return z * keep

    def backward(self, da):
        (keep,) = self.saved
        return da * keep


class SigmoidCrossEntropy(Function):
    """L = −[y·ln σ(z) + (1 − y)·ln(1 − σ(z))], per element, from the logits z and the labels y.

    Forward as max(z, 0) − z·y + ln(1 + e^−|z|) (stable).  Backward: dz = dL · (σ(z) − y), the course's A − Y.
    The labels are an input (so a replayed step can feed new ones) but get no gradient.
    """

    def forward(self, y, z):
        a = stable_sigmoid(z)
        self.save_for_backward(a, y)
        return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))

    def backward(self, dloss):
        a, y = self.saved
        return None, dloss * (a - y)


class SoftmaxCrossEntropy(Function):
    """L = −Σ y · log softmax(z) along the last axis, per sample, from the logits z.

    Backward: dz = dL · (softmax(z)·Σy − y), which is A − Y for one-hot (or any normalized) labels.
    """

    def forward(self, y, z):
        shifted = z - np.maximum.reduce(z, axis=-1, keepdims=True)
        e = np.exp(shifted)
        total = np.add.reduce(e, axis=-1, keepdims=True)
        self.save_for_backward(e / total, y)  # softmax(z)
        # log softmax(z) = (z − max z) − ln Σ e^(z − max z)
        return -np.add.reduce(y * (shifted - np.log(total)), axis=-1)

    def backward(self, dloss):
        a, y = self.saved
        return None, dloss[..., None] * (a * np.sum(y, axis=-1, keepdims=True) - y)


class SparseSoftmaxCrossEntropy(Function):
    """L = −log softmax(z)[y], per sample, for integer labels y over the last axis.

    Backward: dz = dL · (softmax(z) − onehot(y)), the course's A − Y.
    """

    def forward(self, y, z):
        labels = y.astype(np.intp, copy=False)[..., None]
        log_a = stable_log_softmax(z, -1)
        self.save_for_backward(log_a, labels)
        return -np.take_along_axis(log_a, labels, axis=-1)[..., 0]

    def backward(self, dloss):
        log_a, labels = self.saved
        dz = np.exp(log_a)
        np.put_along_axis(dz, labels, np.take_along_axis(dz, labels, -1) - 1, -1)
        return None, dloss[..., None] * dz


class SquaredError(Function):
    """L = (1/n) Σ (z − y)² over the last axis, per sample.  Backward: dy = −dL · 2(z − y) / n, dz = dL · 2(z − y) / n.

    Mean squared error as one op (autodiff/fusions.py): the difference, its square and the mean over the n
    outputs of a sample, whose gradient is the course's 2(A − Y)/n.
    """

    def forward(self, y, z):
        diff = z - y
        self.save_for_backward(diff)
        return np.add.reduce(diff * diff, axis=-1) / diff.dtype.type(diff.shape[-1])

    def backward(self, dloss):
        (diff,) = self.saved
        dz = dloss[..., None] * (diff * diff.dtype.type(2 / diff.shape[-1]))
        return (-dz if self.needs_input_grad[0] else None), dz


class GaussianNoise(Function):
    """a = z + stddev · ε, ε ~ N(0, 1) drawn anew on every forward (additive noise, a regularizer).

    Backward: dz = da. The noise is drawn inside forward so a replayed step draws a new one.
    """

    def __init__(self, stddev: float, rng: np.random.Generator):
        self.stddev, self.rng = stddev, rng

    def forward(self, z):
        return z + (self.stddev * self.rng.standard_normal(z.shape)).astype(z.dtype)

    def backward(self, da):
        return da


class GaussianDropout(Function):
    """a = z · ε, ε ~ N(1, rate / (1 − rate)) drawn anew on every forward (multiplicative noise of mean 1).

    Backward: dz = da · ε. The noise is drawn inside forward so a replayed step draws a new one.
    """

    def __init__(self, rate: float, rng: np.random.Generator):
        self.rate, self.rng = rate, rng

    def forward(self, z):
        stddev = np.sqrt(self.rate / (1 - self.rate))
        noise = (1 + stddev * self.rng.standard_normal(z.shape)).astype(z.dtype)
        self.save_for_backward(noise)
        return z * noise

    def backward(self, da):
        (noise,) = self.saved
        return da * noise

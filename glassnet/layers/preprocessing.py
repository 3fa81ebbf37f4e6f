"""Preprocessing layers that are pure math: Rescaling (z = x·scale + offset), e.g. pixels from [0, 255] to [0, 1]
inside the model, so raw images can be fed at inference; Normalization (z = (x − μ)/σ, μ and σ learned by
``adapt``), so raw features can be fed too."""

from __future__ import annotations

import numbers

import numpy as np

from glassnet import backend, ops
from glassnet.autodiff.tensor import Tensor
from glassnet.layers.base import Layer


def number_or_list(value, name: str):
    """A float, or a list of floats (one per channel, broadcast over the last axis); anything else is refused."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, (list, tuple, np.ndarray)) and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in np.ravel(value)):
        return np.asarray(value, dtype=float).tolist()
    raise ValueError(f"Rescaling: `{name}` must be a number or a list of numbers (one per channel). Received: "
                     f"{name}={value!r}")


class Rescaling(Layer):
    """``Rescaling(scale, offset=0.0)``: z = x·scale + offset, e.g. ``Rescaling(1 / 255)`` for pixels in [0, 1] or
    ``Rescaling(1 / 127.5, offset=-1)`` for [−1, 1]. Inputs are cast to the layer's dtype (integer pixels
    included); scale and offset may also be per-channel lists."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = number_or_list(scale, "scale")
        self.offset = number_or_list(offset, "offset")

    def call(self, x):
        if x.dtype != np.dtype(self.dtype):
            x = ops.cast(x, self.dtype)
        z = ops.multiply(x, np.asarray(self.scale, dtype=self.dtype))
        if np.any(np.asarray(self.offset) != 0):  # no "+ 0" in the written-out step
            z = ops.add(z, np.asarray(self.offset, dtype=self.dtype))
        return z

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


def batches_of(data, layer: str):
    """The batches of ``data`` for ``adapt``: one NumPy array or Tensor is one batch; a PyDataset, a list of
    batches or any other iterable yields its batches (an ``(x, y)`` pair gives its x). Nothing else is accepted."""
    if isinstance(data, (np.ndarray, Tensor)):
        yield np.asarray(data)
        return
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise TypeError(f"{layer}.adapt: unsupported data type {type(data).__name__}. `adapt` supports NumPy arrays, "
                        "Tensors, PyDataset and iterables of batches (e.g. a list of arrays or a generator).")
    seen = False
    for batch in data:
        seen = True
        if isinstance(batch, tuple):  # (x, y) or (x, y, sample_weight): the features only
            batch = batch[0]
        yield np.asarray(batch)
    if not seen:
        raise ValueError(f"{layer}.adapt() received an empty iterable (no batches). Expected at least one batch.")


class Normalization(Layer):
    """``Normalization(axis=-1, mean=None, variance=None, invert=False)``: z = (x − μ) / max(√σ², ε) with one μ and
    σ² per position of ``axis`` (the features), from ``mean``/``variance`` or learned by ``adapt(data)``; with
    ``invert=True`` the way back, x = μ + z·max(√σ², ε). Adapted statistics live in the non-trainable weights
    ``mean``, ``variance`` (and Keras's ``count``); ``layer.mean``/``layer.variance`` are them shaped to broadcast."""

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.axis = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        self.input_mean, self.input_variance, self.invert = mean, variance, bool(invert)
        self.supports_masking = True
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be set. Received: "
                             f"mean={mean} and variance={variance}")
        if mean is not None and np.shape(mean) != np.shape(variance):
            raise ValueError("When setting values directly, `mean` and `variance` must have the same shape. "
                             f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}")
        if mean is not None and np.ndim(mean) > len(self.axis):
            raise ValueError(f"The rank of `mean` must be less than or equal to the number of axes "
                             f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}")
        self._fixed: tuple[np.ndarray, np.ndarray] | None = None

    def build(self, input_shape) -> None:
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError("All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                             f"ndim={ndim}, while axis={self.axis}")
        self.keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self.keep_axis:
            if input_shape[d] is None:
                raise ValueError(f"All `axis` values to be kept must have a known shape. Received axis={self.axis},"
                                 f" inputs.shape={tuple(input_shape)}, with unknown axis at index {d}")
        self.reduce_axis = tuple(d for d in range(ndim) if d not in self.keep_axis)
        self.broadcast_shape = tuple(input_shape[d] if d in self.keep_axis else 1 for d in range(ndim))
        stats_shape = tuple(input_shape[d] for d in self.keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(stats_shape, "zeros", trainable=False, name="mean")
            self.adapt_variance = self.add_weight(stats_shape, "ones", trainable=False, name="variance")
            self.count = self.add_weight((), "zeros", dtype="int32", trainable=False, name="count")
        else:
            self._fixed = tuple(self._broadcast(np.asarray(v, dtype=self.dtype))
                                for v in (self.input_mean, self.input_variance))

    def _broadcast(self, value: np.ndarray) -> np.ndarray:
        """A given mean or variance (a scalar, or one value per kept position, trailing axes matched) broadcast."""
        if value.ndim:
            expanded = [1] * len(self.broadcast_shape)
            for i, size in enumerate(reversed(value.shape), start=1):
                expanded[self.keep_axis[-i]] = size
            value = value.reshape(expanded)
        return np.broadcast_to(value, self.broadcast_shape).copy()

    @property
    def mean(self):
        """μ shaped to broadcast against the inputs (None before the layer is built)."""
        if not self.built:
            return None
        return Tensor(self._fixed[0]) if self._fixed else ops.reshape(self.adapt_mean, self.broadcast_shape)

    @property
    def variance(self):
        """σ² shaped to broadcast against the inputs (None before the layer is built)."""
        if not self.built:
            return None
        return Tensor(self._fixed[1]) if self._fixed else ops.reshape(self.adapt_variance, self.broadcast_shape)

    def adapt(self, data) -> None:
        """Learn μ and σ² per kept position from ``data`` (an array, or an iterable of batches): the batches are
        pooled with Keras's running update, μ ← μ·(1 − w) + μ_b·w and σ² ← (σ² + (μ − μ')²)·(1 − w) +
        (σ²_b + (μ_b − μ')²)·w, with w the batch's share of the values seen so far."""
        total_mean = total_var = None
        total_count = 0
        for batch in batches_of(data, "Normalization"):
            if not self.built:
                self.build(batch.shape)
            for d in self.keep_axis:
                if batch.ndim <= d or batch.shape[d] != self._build_input_shape[d]:
                    raise ValueError(f"The layer was built with input_shape={self._build_input_shape}, but adapt() "
                                     f"is being called with data with an incompatible shape, data.shape="
                                     f"{batch.shape}")
            if self._fixed is not None:
                raise ValueError("Normalization: `adapt` cannot change a `mean` and `variance` given to the "
                                 "constructor; create the layer without them to learn them from data.")
            if batch.dtype.kind != "f":
                batch = batch.astype(self.dtype)
            batch_mean, batch_var = batch.mean(axis=self.reduce_axis), batch.var(axis=self.reduce_axis)
            batch_count = int(np.prod([batch.shape[d] for d in self.reduce_axis]))
            if total_mean is None:
                total_mean, total_var, total_count = batch_mean, batch_var, batch_count
                continue
            total_count += batch_count
            weight = batch_count / total_count
            new_mean = total_mean * (1 - weight) + batch_mean * weight
            total_var = ((total_var + (total_mean - new_mean) ** 2) * (1 - weight)
                         + (batch_var + (batch_mean - new_mean) ** 2) * weight)
            total_mean = new_mean
        self.adapt_mean.assign(total_mean)
        self.adapt_variance.assign(total_var)

    def statistic(self, weight):
        """A learned μ or σ² for the step: as it is when it already broadcasts against the inputs (features on the
        last axes), else reshaped to ``broadcast_shape``."""
        trailing = self.broadcast_shape[len(self.broadcast_shape) - len(weight.shape):]
        if trailing == tuple(weight.shape) and all(d == 1 for d in self.broadcast_shape[:-len(weight.shape) or None]):
            return weight
        return ops.reshape(weight, self.broadcast_shape)

    def call(self, x):
        if x.dtype != np.dtype(self.dtype):
            x = ops.cast(x, self.dtype)
        if self._fixed:
            mean, variance = self.mean, self.variance
        else:
            mean, variance = self.statistic(self.adapt_mean), self.statistic(self.adapt_variance)
        scale = ops.maximum(ops.sqrt(variance), backend.epsilon())
        if self.invert:
            return ops.add(mean, ops.multiply(x, scale))
        return ops.divide(ops.subtract(x, mean), scale)

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(), "variance": np.array(self.input_variance).tolist()}

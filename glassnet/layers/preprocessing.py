"""Preprocessing layers that are pure math: Rescaling (z = x·scale + offset), e.g. pixels from [0, 255] to [0, 1]
inside the model, so raw images can be fed at inference."""

from __future__ import annotations

import numbers

import numpy as np

from glassnet import ops
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

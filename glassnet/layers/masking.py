"""Masking: timesteps whose features all equal ``mask_value`` are padding: zeroed, and masked for the layers
after it (a recurrent layer skips them)."""

from __future__ import annotations

import numbers

import numpy as np

from glassnet import ops
from glassnet.autodiff import ops_math
from glassnet.layers.base import Layer


class Masking(Layer):
    """``Masking(mask_value=0.0)``: for inputs (batch, timesteps, features), keep = any(x ≠ mask_value) over the
    features of each timestep; the output is x where keep, else 0, and its mask is keep (True: a timestep to use),
    as in Keras. No weights."""

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            raise ValueError(f"Masking: `mask_value` must be a number, received mask_value={mask_value!r}")
        self.mask_value = mask_value

    def kept(self, inputs, keepdims: bool):
        """any(x ≠ mask_value) over the last axis: the timesteps that carry data."""
        differs = ops_math.Compare.apply(inputs, self.mask_value, ufunc=np.not_equal)
        return ops.max(differs, axis=-1, keepdims=keepdims)

    def call(self, inputs):
        return ops.where(self.kept(inputs, keepdims=True), inputs, 0)

    def compute_mask(self, inputs, previous_mask=None):
        return self.kept(inputs, keepdims=False)

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}

"""Dropout: inverted dropout, active only in training, so inference needs no rescaling."""

from __future__ import annotations

import numbers

from glassnet import backend, ops
from glassnet.layers.base import Layer


class Dropout(Layer):
    """In training, each entry is kept with probability 1 − rate and scaled by 1/(1 − rate), so the expected
    output equals the input; at inference the layer is the identity.

    ``noise_shape`` (None entries take the input's size) shares one mask along axes of size 1; ``seed`` makes the
    sequence of masks reproducible. The mask multiplies through an engine op, so the gradient is masked the same way.
    """

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 "
                             f"(inclusive) and 1 (exclusive). Received: rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed
        self._rng = backend.make_rng(seed)

    def call(self, x, training: bool = False):
        if not training or self.rate == 0:
            return x
        if self.noise_shape is not None and len(self.noise_shape) != x.ndim:
            raise ValueError(f"Dropout '{self.name}': noise_shape {self.noise_shape} must have one entry per input "
                             f"dimension, received input shape {x.shape}")
        return ops.dropout(x, self.rate, self._rng, self.noise_shape)

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}

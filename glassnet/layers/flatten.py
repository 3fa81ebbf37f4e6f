"""Flatten: (batch, d1, d2, ...) → (batch, d1·d2·...), e.g. 28×28 images to 784-vectors for a Dense layer."""

from __future__ import annotations

import math

from glassnet import ops
from glassnet.layers.base import Layer


class Flatten(Layer):
    """Reshape each sample to a vector; the batch axis is kept (a (batch,) input becomes (batch, 1))."""

    def __init__(self, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"Flatten supports data_format='channels_last' only, received {data_format!r}")
        self.data_format = data_format

    def call(self, x):
        return ops.reshape(x, (x.shape[0], -1))

    def compute_output_shape(self, input_shape) -> tuple:
        rest = tuple(input_shape)[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}

"""Flatten: (batch, d1, d2, ...) → (batch, d1·d2·...), e.g. 28×28 images to 784-vectors for a Dense layer."""

from __future__ import annotations

import math

from glassnet import backend, ops
from glassnet.layers.base import Layer


class Flatten(Layer):
    """``Flatten(data_format=None)``: each sample reshaped to a vector, of any rank; the batch axis is kept (a
    (batch,) input becomes (batch, 1)). With ``data_format='channels_first'`` the channels (axis 1) are moved last
    first, so the vector has the same order as the channels_last layout's (Keras's rule)."""

    def __init__(self, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.image_data_format() if data_format is None else str(data_format).lower()
        if self.data_format not in ("channels_first", "channels_last"):
            raise ValueError(f"The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. "
                             f"Received: data_format={data_format}")

    def call(self, x):
        if self.data_format == "channels_first" and x.ndim > 2:
            x = ops.transpose(x, (0, *range(2, x.ndim), 1))
        return ops.reshape(x, (x.shape[0], -1))

    def compute_output_shape(self, input_shape) -> tuple:
        rest = tuple(input_shape)[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}

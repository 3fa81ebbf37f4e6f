"""Input and InputLayer: how a model declares the shape of its inputs, like ``keras.Input(shape=(784,))``.

``Input(shape)`` returns a ``KerasTensor``: a placeholder with ``.shape == (None, *shape)`` made by an InputLayer
(``.operation``), whose only Node has no inputs; ``Sequential([Input((784,)), Dense(10)])`` reads the input shape
from it, and ``Model(inputs, outputs)`` starts its graph there.
"""

from __future__ import annotations

import numpy as np

from glassnet.autodiff.tensor import Tensor
from glassnet.layers.base import InputSpec, Layer
from glassnet.layers.symbolic import KerasTensor, Node


class InputLayer(Layer):
    """The entry point of a model: declares ``shape`` (without the batch) or ``batch_shape``, passes data through
    unchanged after checking its shape."""

    def __init__(self, shape=None, batch_size: int | None = None, dtype=None, batch_shape=None,
                 name: str | None = None, **kwargs):
        if "input_shape" in kwargs:  # Keras 2 spelling
            shape = kwargs.pop("input_shape")
        if shape is None and batch_shape is None:
            raise ValueError("You must pass a `shape` argument to InputLayer (the shape of one sample, without the "
                             "batch dimension), for example shape=(784,).")
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        if shape is not None:
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size, *shape)
        batch_shape = tuple(batch_shape)
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.batch_shape = batch_shape
        self._input_shape_arg, self._batch_size_arg = batch_shape[1:], batch_shape[0]
        self.input_spec = InputSpec(shape=batch_shape)
        self.build(batch_shape)
        Node(self, [], {}, KerasTensor(batch_shape, self.dtype, self.name))

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def _as_input_tensor(self, inputs):
        """Numbers as a Tensor of the declared dtype; for ``dtype="string"``, the raw texts as a NumPy array (Tensors
        hold numbers: the layer after, a TextVectorization or StringLookup, reads the strings itself)."""
        if self._dtype == "string":
            values = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs)
            if values.dtype.kind not in "OUS":
                raise TypeError(f"Input '{self.name}' takes strings (dtype='string'); received an array of dtype "
                                f"{values.dtype}")
            return values
        return super()._as_input_tensor(inputs)

    def get_config(self) -> dict:
        return {"batch_shape": self.batch_shape, "dtype": self._dtype, "name": self.name}


def Input(shape=None, batch_size: int | None = None, dtype=None, batch_shape=None,  # noqa: N802 - Keras's name
          name: str | None = None) -> KerasTensor:
    """A symbolic input of ``shape`` (one sample's shape; the batch dimension is added as None)."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name)
    return layer.output

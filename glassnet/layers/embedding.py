"""Embedding: each integer index (a word's number) replaced by its row of a learned table, its word vector."""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from glassnet import constraints, initializers, regularizers
from glassnet.autodiff import ops_gather, ops_math
from glassnet.autodiff.tensor import Tensor, as_tensor
from glassnet.layers.base import Layer
from glassnet.layers.conv import serialize_optional

#: Keras's short name of its default embedding initializer: RandomUniform(minval=-0.05, maxval=0.05)
_UNIFORM = "uniform"


class Embedding(Layer):
    """``Embedding(input_dim, output_dim, embeddings_initializer='uniform', embeddings_regularizer=None,
    embeddings_constraint=None, mask_zero=False, weights=None)``.

    Inputs (batch, ...) of integer indices in [0, input_dim) become outputs (batch, ..., output_dim): z = E[x],
    where E ("embeddings", shape (input_dim, output_dim)) starts uniform in [−0.05, 0.05]. Its gradient is the
    scatter-add of the output's gradient rows into the rows that were looked up. Integer data is kept as it is (not
    cast to floats); float data holding whole numbers (as fit hands batches over) is truncated to integers, as Keras
    casts it. An index outside [0, input_dim) is refused with the layer's name and the index. ``mask_zero=True``
    makes index 0 padding: the output's mask is x ≠ 0, for the layers after it. LoRA and quantization are not
    supported.
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer=_UNIFORM, embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero: bool = False, weights=None, lora_rank=None,
                 lora_alpha=None, quantization_config=None, **kwargs):
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value} "
                                 f"(of type {type(value).__name__}).")
        if kwargs.pop("input_length", None) is not None:  # Keras 3 drops it with this warning
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        if lora_rank is not None or lora_alpha is not None or quantization_config is not None:
            raise NotImplementedError("Embedding: LoRA (lora_rank, lora_alpha) and quantization are not supported "
                                      "by glassnet")
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(
            initializers.RandomUniform() if embeddings_initializer == _UNIFORM else embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.embeddings = None
        if weights is not None:
            self.build(None)
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    def build(self, input_shape) -> None:
        self.embeddings = self.add_weight((self.input_dim, self.output_dim), self.embeddings_initializer,
                                          name="embeddings", regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)

    def _as_input_tensor(self, inputs) -> Tensor:
        """The indices as a Tensor, integer data kept as integers (the base class would make them floats)."""
        if isinstance(inputs, Tensor):
            return inputs
        array = np.asarray(inputs)
        return Tensor(array, dtype=array.dtype) if array.dtype.kind in "iu" else as_tensor(inputs)

    def call(self, inputs):
        return ops_gather.Gather.apply(inputs, self.embeddings, owner=self._owner())

    def check_input_values(self, x: np.ndarray) -> None:
        """Refuse an index outside [0, input_dim) anywhere in ``x``, the whole data this layer reads first: fit calls
        it before any step, so the error comes before training and names the sample (not a place in a shuffled
        batch). Floats are truncated as ``call`` does; the data is scanned for its extremes only."""
        if x.dtype.kind not in "biuf" or not x.size:
            return
        low, high = (np.trunc(v) if x.dtype.kind == "f" else v for v in (x.min(), x.max()))
        if low < 0 or high >= self.input_dim:
            ops_gather.check_rows(x if x.dtype.kind in "iu" else x.astype(np.intp), self.input_dim, self._owner())

    def _owner(self) -> str:
        return f"Embedding '{self.name}'"

    def compute_mask(self, inputs, previous_mask=None):
        """x ≠ 0 when ``mask_zero`` (index 0 is padding), else None."""
        if not self.mask_zero:
            return None
        return ops_math.Compare.apply(inputs, 0, ufunc=np.not_equal)

    def compute_output_shape(self, input_shape) -> tuple:
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": serialize_optional(regularizers, self.embeddings_regularizer),
            "activity_regularizer": serialize_optional(regularizers, self.activity_regularizer),
            "embeddings_constraint": serialize_optional(constraints, self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }

"""Batch slicing: train on a batch whose input is too big for the cache a few rows at a time, accumulating the
gradient, so that each slice's input is still in cache when the backward pass reads it again (dW = Xᵀ·dZ).

A dense batch of 512 rows of 10,000 features is 20 MB: gathered, read by X·W, then read again by Xᵀ·dZ, it goes
through main memory three times. In slices of 128 rows (5 MB) it goes once: the gather and the two matmuls take
about 30% less time, a whole epoch of IMDB stored densely about 10% (benchmarks/RESULTS.md; IMDB's multi-hot
reviews are now stored as SparseRows, whose batches are small).

The result is the same step: with the loss a mean over the batch, the gradient is the mean of the slices'
gradients weighted by their sizes, up to float rounding. That holds only when every sample's loss depends on that
sample alone, so slicing is used only for models built from glassnet's own per-sample layers, activations,
regularizers and losses.

Here are both halves: ``rows_per_slice`` decides (the data adapter then hands out each batch as BatchRows), and
``SlicedStep`` trains on a batch one slice at a time.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet import activations, backend, losses, regularizers
from glassnet.kernels import updates
from glassnet.layers import (
    ELU,
    Activation,
    AveragePooling1D,
    AveragePooling2D,
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Dense,
    DepthwiseConv1D,
    DepthwiseConv2D,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    InputLayer,
    LayerNormalization,
    LeakyReLU,
    Masking,
    MaxPooling1D,
    MaxPooling2D,
    ReLU,
    SeparableConv1D,
    SeparableConv2D,
    Softmax,
)
from glassnet.models.data_adapters import BatchRows
from glassnet.models.step import TrainStep

#: A batch whose input takes more bytes than this is trained on in slices of at most about this size.
SLICE_BYTES = 6 * 2 ** 20

_PER_SAMPLE_LAYERS = (InputLayer, Dense, Activation, ReLU, LeakyReLU, ELU, Softmax, Dropout, Flatten)
_PER_SAMPLE_LAYERS += (  # each sample's output reads that sample only (not BatchNormalization: batch statistics)
    Embedding, Masking, LayerNormalization, Conv1D, Conv2D, DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,
    SeparableConv2D, Conv1DTranspose, Conv2DTranspose, MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
)


def rows_per_slice(layers: list, loss_fn, x, batch_size: int) -> int | None:
    """Rows per slice for training on ``x`` in batches of ``batch_size`` (slices of equal size), or None to
    train on whole batches: the batch fits in SLICE_BYTES, the model or loss is not provably per-sample, or the
    plain NumPy kernels run (GLASSNET_KERNELS=numpy: slicing is a fast path)."""
    rows = min(batch_size, len(x))
    batch_bytes = rows * (x.nbytes // max(len(x), 1))
    if batch_bytes <= SLICE_BYTES or backend.kernels() != "fast":
        return None
    if not (per_sample_loss(loss_fn) and all(map(per_sample_layer, layers))):
        return None
    return math.ceil(rows / math.ceil(batch_bytes / SLICE_BYTES))


def per_sample_layer(layer) -> bool:
    """Whether each sample's output depends on that sample alone: one of glassnet's own layers, with glassnet's
    activations and regularizers (a custom function could mix the samples of a batch)."""
    if type(layer) not in _PER_SAMPLE_LAYERS:
        return False
    if isinstance(layer, Softmax) and layer.axis != -1:
        return False
    activation = getattr(layer, "activation", None)
    if activation is not None and getattr(activation, "__module__", None) != activations.__name__:
        return False
    regularizer = layer.activity_regularizer
    return regularizer is None or type(regularizer).__module__ == regularizers.__name__


def per_sample_loss(loss_fn) -> bool:
    """Whether the loss is the batch mean of per-sample losses computed by glassnet's own functions, with no
    ignored class (which would make the mean one over the kept samples of each slice)."""
    return (isinstance(loss_fn, losses.LossFunctionWrapper) and type(loss_fn).__module__ == losses.__name__
            and getattr(loss_fn.fn, "__module__", None) == losses.__name__
            and loss_fn.reduction == "sum_over_batch_size" and getattr(loss_fn, "ignore_class", None) is None)


class SlicedStep:
    """``step(rows, y, sw)``: a TrainStep on one batch taken ``slice_rows`` rows at a time (``rows`` hands out the
    input's rows a..b); each slice's gradient and loss count with weight (its rows / the batch's). Afterwards each
    variable's ``.grad`` is the batch's gradient, as after a whole-batch step."""

    def __init__(self, step: TrainStep, slice_rows: int):
        self.step, self.slice_rows, self.variables = step, slice_rows, step.variables
        self.grad_sums = [np.empty(v.shape, dtype=v.dtype) for v in self.variables]

    def drop_saved(self) -> None:
        """Let go of what the step's ops saved for the last slice (``TrainStep.drop_saved``)."""
        self.step.drop_saved()

    def __call__(self, rows: BatchRows, y: np.ndarray, sw: np.ndarray | None) -> tuple[float, np.ndarray]:
        m = len(y)
        loss_value, predictions = 0.0, []
        for a in range(0, m, self.slice_rows):
            b = min(a + self.slice_rows, m)
            slice_loss, slice_pred = self.step(rows.rows(a, b), y[a:b], None if sw is None else sw[a:b])
            share = (b - a) / m
            for total, v in zip(self.grad_sums, self.variables):
                if a == 0:
                    np.multiply(v.grad, share, out=total)
                else:
                    updates.update(updates.accumulate, total, v.grad, [], [share])
            loss_value += slice_loss * share
            predictions.append(slice_pred.copy())  # a replay may hand back a view of its input buffer
        for v, total in zip(self.variables, self.grad_sums):
            v.grad = total
        return loss_value, np.concatenate(predictions)

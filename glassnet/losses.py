"""Losses, as in Keras 3: per-sample loss functions, Loss classes that reduce them to one scalar, and ``get``.

A loss function ``f(y_true, y_pred)`` returns one value per sample (the mean over the last axis); a Loss object
multiplies by ``sample_weight`` and reduces, by default ``'sum_over_batch_size'``: Σ wᵢ·Lᵢ / m, with m the
number of loss values (not Σ wᵢ), exactly like Keras. Probabilities are clipped to [ε, 1 − ε], ε = 1e-7.

When ``y_pred`` came out of a sigmoid (softmax) and ``from_logits=False``, the cross-entropies are computed from the
logits behind it with a fused op (autodiff/fusions.py), so backpropagation gives the course's dZ = (A − Y)/m
exactly, as Keras's TensorFlow backend does with ``_keras_logits``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import numpy as np

from glassnet import ops
from glassnet.autodiff import fusions
from glassnet.autodiff.tensor import Tensor, as_tensor
from glassnet.keras_names import missing_attribute

EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# ----- shapes and labels ---------------------------------------------------------------------------------------
def _squeeze_last(x):
    return ops.squeeze(x, -1) if isinstance(x, Tensor) else x[..., 0]


def _expand_last(x):
    return ops.expand_dims(x, -1) if isinstance(x, Tensor) else x[..., None]


def squeeze_or_expand_to_same_rank(x1, x2):
    """Keras's squeeze_or_expand_to_same_rank: fix a rank difference of one made by a trailing axis of size 1.

    Either side may be a NumPy array or a Tensor (labels and predictions, losses and sample weights).
    """
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        return (x1, _expand_last(x2)) if x2.ndim == 1 else (_squeeze_last(x1), x2)
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        return (_expand_last(x1), x2) if x1.ndim == 1 else (x1, _squeeze_last(x2))
    return x1, x2


def _same_rank_shapes(true_shape: tuple, pred_shape: tuple) -> tuple[tuple, tuple]:
    """The shapes squeeze_or_expand_to_same_rank would give (for checks on shapes alone, where the batch size may
    be None)."""
    if len(true_shape) == len(pred_shape) + 1 and true_shape[-1] == 1:
        return (true_shape, pred_shape + (1,)) if len(pred_shape) == 1 else (true_shape[:-1], pred_shape)
    if len(pred_shape) == len(true_shape) + 1 and pred_shape[-1] == 1:
        return (true_shape + (1,), pred_shape) if len(true_shape) == 1 else (true_shape, pred_shape[:-1])
    return true_shape, pred_shape


def _shapes_agree(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _check_elementwise_shapes(name: str, true_shape: tuple, pred_shape: tuple) -> None:
    t, p = _same_rank_shapes(tuple(true_shape), tuple(pred_shape))
    if not _shapes_agree(t, p):
        raise ValueError(
            f"{name} expects y_true and y_pred of the same shape, received y_true of shape {tuple(true_shape)} "
            f"and y_pred of shape {tuple(pred_shape)}"
        )


def _check_categorical_shapes(name: str, true_shape: tuple, pred_shape: tuple) -> None:
    true_shape, pred_shape = tuple(true_shape), tuple(pred_shape)
    num_classes = pred_shape[-1] if pred_shape else None
    if true_shape in (pred_shape[:-1], pred_shape[:-1] + (1,)) and num_classes not in (None, 1):
        raise ValueError(
            f"received y_true of shape {true_shape}: {name} expects one-hot labels of shape {pred_shape}; "
            "use sparse_categorical_crossentropy for integer class indices "
            "(or convert them with glassnet.utils.to_categorical)"
        )
    if not _shapes_agree(true_shape, pred_shape):
        raise ValueError(
            f"{name} expects y_true of the same shape as y_pred {pred_shape}, received y_true of shape {true_shape}"
        )


def _check_sparse_shapes(name: str, true_shape: tuple, pred_shape: tuple) -> None:
    true_shape, pred_shape = tuple(true_shape), tuple(pred_shape)
    batch = pred_shape[:-1]
    if _shapes_agree(true_shape, batch) or _shapes_agree(true_shape, batch + (1,)):
        return
    if _shapes_agree(true_shape, pred_shape):
        raise ValueError(
            f"received y_true of shape {true_shape}: {name} expects integer class indices of shape {batch} or "
            f"{batch + (1,)}; use categorical_crossentropy for one-hot labels"
        )
    raise ValueError(
        f"{name} expects integer class indices of shape {batch} or {batch + (1,)} for y_pred of shape "
        f"{pred_shape}, received y_true of shape {true_shape}"
    )


def _check_class_indices(name: str, labels: np.ndarray, num_classes: int, ignore_class: int | None) -> None:
    """Labels must be whole numbers in [0, num_classes) (ignore_class excepted); vectorized, one pass each."""
    if labels.size == 0:
        return
    if ignore_class is not None:
        labels = labels[labels != ignore_class]
        if labels.size == 0:
            return
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.floor(labels)):
        bad = labels[labels != np.floor(labels)].flat[0]
        raise ValueError(f"{name} expects integer class indices, received y_true containing {bad:g}")
    lo, hi = labels.min(), labels.max()
    if lo < 0 or hi >= num_classes:
        raise ValueError(
            f"{name} expects class indices in [0, {num_classes}) for y_pred with {num_classes} classes, "
            f"received y_true with values from {lo:g} to {hi:g}"
        )


def _labels(y_true, like: Tensor) -> Tensor:
    """y_true as a Tensor of y_pred's float dtype (labels are data, never differentiated). A Tensor stays in the
    graph (cast by an op), so a replayed training step reads each batch's labels."""
    if isinstance(y_true, Tensor):
        return ops.cast(y_true, like.dtype)
    return Tensor._from_op(np.asarray(y_true).astype(like.dtype, copy=False), None)


def _fused_logits(y_pred: Tensor, kind: str, loss_name: str, from_logits: bool) -> Tensor | None:
    """The logits z behind y_pred = sigmoid(z) or softmax(z), when the fused A − Y path applies."""
    logits = fusions.logits_behind(y_pred, kind)
    if logits is None:
        return None
    if from_logits:
        warnings.warn(
            f'"{loss_name}" received `from_logits=True`, but the `y_pred` argument was produced by a {kind} '
            "activation and thus does not represent logits. Was this intended?",
            stacklevel=3,
        )
        return None
    return logits


# ----- per-sample loss functions -------------------------------------------------------------------------------
def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> Tensor:
    """−[y·ln p + (1 − y)·ln(1 − p)] averaged over ``axis``, p clipped to [ε, 1 − ε] (fused from sigmoid logits)."""
    y_pred = as_tensor(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_labels(y_true, y_pred), y_pred)
    _check_elementwise_shapes("binary_crossentropy", y_true.shape, y_pred.shape)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    fused = _fused_logits(y_pred, "sigmoid", "binary_crossentropy", from_logits)
    logits = y_pred if from_logits else fused
    if logits is not None:
        return ops.mean(ops.sigmoid_cross_entropy(y_true, logits), axis=axis)
    p = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
    return -ops.mean(ops.log(p) * y_true + ops.log(1.0 - p) * (1.0 - y_true), axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> Tensor:
    """−Σ y·ln p over ``axis``, with p normalized to sum 1 then clipped to [ε, 1 − ε] (fused from softmax logits)."""
    y_pred = as_tensor(y_pred)
    y_true = _labels(y_true, y_pred)
    _check_categorical_shapes("categorical_crossentropy", y_true.shape, y_pred.shape)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    last_axis = axis in (-1, y_pred.ndim - 1)
    logits = _fused_logits(y_pred, "softmax", "categorical_crossentropy", from_logits) if last_axis else None
    if from_logits:
        if last_axis:
            return ops.softmax_cross_entropy(y_true, y_pred)
        return -ops.sum(ops.log_softmax(y_pred, axis=axis) * y_true, axis=axis)
    if logits is not None:
        return ops.softmax_cross_entropy(y_true, logits)
    p = ops.clip(y_pred / ops.sum(y_pred, axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    return -ops.sum(ops.log(p) * y_true, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, ignore_class: int | None = None,
                                    axis: int = -1) -> Tensor:
    """−ln p[label] for integer labels (p normalized, then clipped to [ε, 1 − ε]; fused from softmax logits).

    Samples whose label equals ``ignore_class`` get a loss of 0 (the Loss class also leaves them out of the mean).
    """
    if axis not in (-1, as_tensor(y_pred).ndim - 1):
        raise ValueError(f"sparse_categorical_crossentropy supports only axis=-1, received axis={axis}")
    y_pred = as_tensor(y_pred)
    label_tensor = y_true if isinstance(y_true, Tensor) else Tensor._from_op(np.asarray(y_true), None)
    labels = label_tensor._data
    _check_sparse_shapes("sparse_categorical_crossentropy", labels.shape, y_pred.shape)
    num_classes = y_pred.shape[-1]
    _check_class_indices("sparse_categorical_crossentropy", labels, num_classes, ignore_class)
    label_tensor = ops.reshape(label_tensor, y_pred.shape[:-1])
    valid = None
    if ignore_class is not None:  # a mask from this batch's labels (a replayed step re-checks it against eager)
        valid = labels.reshape(y_pred.shape[:-1]) != ignore_class
        label_tensor = Tensor._from_op(np.where(valid, label_tensor._data, 0), None)
    fused = _fused_logits(y_pred, "softmax", "sparse_categorical_crossentropy", from_logits)
    logits = y_pred if from_logits else fused
    if logits is not None:
        losses = ops.sparse_softmax_cross_entropy(label_tensor, logits)
    else:
        p = ops.clip(y_pred / ops.sum(y_pred, axis=-1, keepdims=True), EPSILON, 1.0 - EPSILON)
        losses = -ops.sum(ops.log(p) * ops.one_hot(label_tensor, num_classes, y_pred.dtype), axis=-1)
    return losses if valid is None else losses * valid.astype(losses.dtype)


def _elementwise_pair(name: str, y_true, y_pred) -> tuple[Tensor, Tensor]:
    """y_true as y_pred's float dtype, both of the same rank, their shapes checked (named after the loss)."""
    y_pred = as_tensor(y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(_labels(y_true, y_pred), y_pred)
    _check_elementwise_shapes(name, y_true.shape, y_pred.shape)
    return y_true, y_pred


def mean_squared_error(y_true, y_pred) -> Tensor:
    """mean((y − ŷ)²) over the last axis."""
    y_true, y_pred = _elementwise_pair("mean_squared_error", y_true, y_pred)
    return ops.squared_error(y_true, y_pred)


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """mean(|y − ŷ|) over the last axis."""
    y_true, y_pred = _elementwise_pair("mean_absolute_error", y_true, y_pred)
    return ops.mean(ops.abs(y_pred - y_true), axis=-1)


def huber(y_true, y_pred, delta: float = 1.0) -> Tensor:
    """mean over the last axis of ½e² where |e| ≤ δ, else δ·|e| − ½δ² (e = ŷ − y)."""
    y_true, y_pred = _elementwise_pair("huber", y_true, y_pred)
    error = y_pred - y_true
    abs_error = ops.abs(error)
    quadratic = ops.square(error) * 0.5
    linear = abs_error * delta - 0.5 * delta * delta
    return ops.mean(ops.where(abs_error <= delta, quadratic, linear), axis=-1)


def _hinge_margins(name: str, y_true, y_pred) -> Tensor:
    """max(1 − y·ŷ, 0), with labels that are all 0/1 first mapped to −1/1 (decided per batch, as Keras does)."""
    y_true, y_pred = _elementwise_pair(name, y_true, y_pred)
    labels = y_true.numpy()
    if np.all((labels == 0) | (labels == 1)):
        y_true = 2.0 * y_true - 1.0
    return ops.maximum(1.0 - y_pred * y_true, 0.0)


def hinge(y_true, y_pred) -> Tensor:
    """mean(max(1 − y·ŷ, 0)) over the last axis; labels that are all 0/1 are first mapped to −1/1, as in Keras."""
    return ops.mean(_hinge_margins("hinge", y_true, y_pred), axis=-1)


def squared_hinge(y_true, y_pred) -> Tensor:
    """mean(max(1 − y·ŷ, 0)²) over the last axis (0/1 labels mapped to −1/1, as for hinge)."""
    return ops.mean(ops.square(_hinge_margins("squared_hinge", y_true, y_pred)), axis=-1)


def categorical_hinge(y_true, y_pred) -> Tensor:
    """max(neg − pos + 1, 0) with pos = Σ y·ŷ (the true class's score) and neg = max((1 − y)·ŷ) (the best wrong
    class's), for one-hot labels."""
    y_true, y_pred = _elementwise_pair("categorical_hinge", y_true, y_pred)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


def log_cosh(y_true, y_pred) -> Tensor:
    """mean(ln cosh(e)) over the last axis, e = ŷ − y, computed as e + softplus(−2e) − ln 2 (no overflow): about
    ½e² for small errors, |e| − ln 2 for large ones."""
    y_true, y_pred = _elementwise_pair("log_cosh", y_true, y_pred)
    error = y_pred - y_true
    return ops.mean(error + ops.softplus(error * -2.0) - float(np.log(2.0)), axis=-1)


def kl_divergence(y_true, y_pred) -> Tensor:
    """Σ y·ln(y / ŷ) over the last axis, y and ŷ clipped to [ε, 1]: the Kullback–Leibler divergence of the predicted
    distribution from the true one."""
    y_true, y_pred = _elementwise_pair("kl_divergence", y_true, y_pred)
    y_true, y_pred = ops.clip(y_true, EPSILON, 1.0), ops.clip(y_pred, EPSILON, 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred) -> Tensor:
    """mean(ŷ − y·ln(ŷ + ε)) over the last axis: the Poisson negative log-likelihood of counts y (up to terms in y
    alone), for a predicted rate ŷ."""
    y_true, y_pred = _elementwise_pair("poisson", y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + EPSILON), axis=-1)


def cosine_similarity(y_true, y_pred, axis: int = -1) -> Tensor:
    """−Σ (y/‖y‖)·(ŷ/‖ŷ‖) over ``axis``, each norm at least ε: −1 when the vectors point the same way, so that
    minimizing it aligns them (Keras's sign)."""
    y_true, y_pred = _elementwise_pair("cosine_similarity", y_true, y_pred)
    return -ops.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    """x / max(‖x‖, ε) along ``axis`` (keras.ops.normalize with order 2)."""
    return x / ops.maximum(ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True)), EPSILON)


# ----- reduction -----------------------------------------------------------------------------------------------
def _standardize_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of {REDUCTIONS}. "
                         f"Received: reduction={reduction!r}")
    return reduction


def _as_weights(sample_weight, dtype) -> Tensor:
    """Sample weights as a Tensor of the losses' dtype (kept in the graph, like the labels)."""
    if isinstance(sample_weight, Tensor):
        return ops.cast(sample_weight, dtype)
    return Tensor._from_op(np.asarray(sample_weight).astype(dtype, copy=False), None)


def reduce_weighted_values(losses: Tensor, sample_weight=None, mask: np.ndarray | None = None,
                           reduction: str | None = "sum_over_batch_size") -> Tensor:
    """Weight the per-sample losses and reduce them like Keras 3.

    'sum_over_batch_size' (and 'mean'): Σ w·L / (number of losses); 'sum': Σ w·L; 'mean_with_sample_weight':
    Σ w·L / Σ w; 'none': the weighted losses. A mask (samples to leave out) turns the mean into one over the kept
    samples: each kept weight is scaled by total/(kept + ε).
    """
    reduction = _standardize_reduction(reduction)
    weights = None if sample_weight is None else _as_weights(sample_weight, losses.dtype)
    if mask is not None:
        mask = mask.astype(losses.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            mask = mask * (mask.size / (mask.sum() + EPSILON))
        weights = mask if weights is None else weights * mask
    if weights is not None:
        losses, weights = squeeze_or_expand_to_same_rank(losses, weights)
        losses = losses * weights
    if reduction in ("none", None) or losses.ndim == 0:
        return losses
    if reduction in ("mean", "sum_over_batch_size") and losses.size:
        return ops.mean(losses)  # Σ w·L / (number of losses), as one op
    total = ops.sum(losses)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weights is not None:
        return total / ops.maximum(ops.sum(weights), EPSILON)  # Keras's divide_no_nan: 0 when all weights are 0
    return total / losses.size if losses.size else total * 0.0


# ----- Loss classes --------------------------------------------------------------------------------------------
class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` → a scalar Tensor (by default).

    Subclasses define ``call(y_true, y_pred)`` returning the per-sample losses.
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size", dtype=None):
        self.name = name or snake_case(type(self).__name__)
        self.reduction = _standardize_reduction(reduction)
        self.dtype = dtype

    def call(self, y_true, y_pred) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred)")

    def mask(self, y_true) -> np.ndarray | None:
        """Which samples count (None: all of them); SparseCategoricalCrossentropy leaves out ``ignore_class``."""
        return None

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        y_pred = as_tensor(y_pred, dtype=self.dtype)
        if not isinstance(y_true, Tensor):  # loss functions receive tensors, as in Keras (labels keep their dtype)
            y_true = Tensor._from_op(np.asarray(y_true), None)
        losses = self.call(y_true, y_pred)
        return reduce_weighted_values(losses, sample_weight, self.mask(y_true), self.reduction)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class LossFunctionWrapper(Loss):
    """A Loss made from a per-sample function ``fn(y_true, y_pred, **kwargs)`` → Tensor of per-sample losses."""

    def __init__(self, fn: Callable, reduction: str | None = "sum_over_batch_size", name: str | None = None,
                 dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred) -> Tensor:
        """The function's per-sample losses, after Keras's rank fix: labels of shape (batch,) meet predictions of
        shape (batch, 1) as (batch, 1), where broadcasting would have paired every label with every prediction."""
        y_true = as_tensor(y_true) if not hasattr(y_true, "ndim") else y_true
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, as_tensor(y_pred))
        losses = self.fn(y_true, y_pred, **self._fn_kwargs)
        if not isinstance(losses, Tensor):
            raise TypeError(
                f"The loss function {self.name!r} must return a glassnet Tensor built with glassnet.ops "
                f"(so it can be differentiated), received {type(losses).__name__}"
            )
        return losses

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy for labels in {0, 1} and one probability (or logit) per output unit."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction="sum_over_batch_size", name: str = "binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot labels and a probability distribution (or logits) over the classes."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction="sum_over_batch_size", name: str = "categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer class labels; samples labelled ``ignore_class`` are left out of the mean."""

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction="sum_over_batch_size", name: str = "sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits, self.ignore_class = from_logits, ignore_class

    def mask(self, y_true) -> np.ndarray | None:
        if self.ignore_class is None:
            return None
        labels = y_true._data if isinstance(y_true, Tensor) else np.asarray(y_true)
        labels = labels.reshape(-1) if labels.ndim == 2 and labels.shape[-1] == 1 else labels
        return labels != self.ignore_class


class MeanSquaredError(LossFunctionWrapper):
    """mean((y − ŷ)²)."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """mean(|y − ŷ|)."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class Huber(LossFunctionWrapper):
    """Quadratic for errors up to ``delta``, linear beyond: robust to outliers."""

    def __init__(self, delta: float = 1.0, reduction="sum_over_batch_size", name: str = "huber_loss", dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=delta)
        self.delta = delta


class Hinge(LossFunctionWrapper):
    """max(1 − y·ŷ, 0) for labels −1/1 (0/1 labels are converted)."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """max(1 − y·ŷ, 0)² for labels −1/1 (0/1 labels are converted)."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """max(best wrong score − true score + 1, 0) for one-hot labels."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class LogCosh(LossFunctionWrapper):
    """ln cosh(ŷ − y): like the squared error for small errors, like the absolute error for large ones."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "log_cosh", dtype=None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Σ y·ln(y/ŷ): how far the predicted distribution is from the true one."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """ŷ − y·ln(ŷ + ε): for counts y predicted as a positive rate ŷ."""

    def __init__(self, reduction="sum_over_batch_size", name: str = "poisson", dtype=None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """−cos(y, ŷ) along ``axis``: in [−1, 1], −1 for vectors pointing the same way."""

    def __init__(self, axis: int = -1, reduction="sum_over_batch_size", name: str = "cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype, axis=axis)
        self.axis = axis


# ----- lookup and serialization --------------------------------------------------------------------------------
def snake_case(name: str) -> str:
    """'BinaryCrossentropy' → 'binary_crossentropy', 'AUC' → 'auc' (the default names of losses and metrics)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


LOSS_CLASSES = {cls.__name__: cls for cls in (
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredError,
    MeanAbsoluteError, Huber, Hinge, SquaredHinge, CategoricalHinge, LogCosh, KLDivergence, Poisson,
    CosineSimilarity)}
LOSS_FUNCTIONS = {fn.__name__: fn for fn in (
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, mean_squared_error,
    mean_absolute_error, huber, hinge, squared_hinge, categorical_hinge, log_cosh, kl_divergence, poisson,
    cosine_similarity)}
ALIASES = {"bce": binary_crossentropy, "BCE": binary_crossentropy, "mse": mean_squared_error,
           "MSE": mean_squared_error, "mae": mean_absolute_error, "MAE": mean_absolute_error,
           "huber_loss": huber, "kld": kl_divergence, "KLD": kl_divergence}
# Keras's short names for the functions: losses.kld is kl_divergence
kld = KLD = kl_divergence


def get(identifier, custom_objects: dict | None = None) -> Loss | None:
    """Resolve a loss: a name ('mse', 'binary_crossentropy', 'BinaryCrossentropy'), a Loss, a Loss class, a config
    dict from ``serialize``, or a callable ``fn(y_true, y_pred)`` returning per-sample losses.

    Always returns a Loss object (functions are wrapped), so the trainer can call ``loss(y, y_pred, sample_weight)``.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, str):
        found = (custom_objects or {}).get(identifier) or LOSS_CLASSES.get(identifier) \
            or LOSS_FUNCTIONS.get(identifier) or ALIASES.get(identifier)
        if found is None:
            known = sorted({*LOSS_CLASSES, *LOSS_FUNCTIONS, *ALIASES})
            raise ValueError(f"Could not interpret loss identifier: {identifier!r}. Expected one of {known}, "
                             "a Loss instance or a function fn(y_true, y_pred)")
        identifier = found
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}. Expected a string, a Loss instance "
                     "or a function fn(y_true, y_pred)")


def serialize(loss: Loss) -> dict:
    """A JSON-able description: ``{'class_name': ..., 'config': ...}``; a wrapped function by its name."""
    if type(loss) is LossFunctionWrapper:
        return {"class_name": "function", "config": loss.fn.__name__}
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Loss:
    """The inverse of ``serialize``; custom losses are looked up by name in ``custom_objects``."""
    custom_objects = custom_objects or {}
    class_name, inner = config.get("class_name"), config.get("config")
    if class_name == "function":
        fn = custom_objects.get(inner) or LOSS_FUNCTIONS.get(inner)
        if fn is None:
            raise ValueError(f"Unknown loss function {inner!r}: pass it in custom_objects={{{inner!r}: fn}}")
        return LossFunctionWrapper(fn)
    cls = custom_objects.get(class_name) or LOSS_CLASSES.get(class_name)
    if cls is None:
        raise ValueError(f"Unknown loss class {class_name!r}: pass it in custom_objects={{{class_name!r}: cls}}")
    return cls.from_config(inner or {})


# ----- one check of all the targets before training ------------------------------------------------------------
def label_kind(loss: Loss) -> str | None:
    """How a built-in loss reads its labels: "binary", "categorical", "sparse", "elementwise"; None if custom."""
    fn = getattr(loss, "fn", None)
    return {binary_crossentropy: "binary", categorical_crossentropy: "categorical",
            sparse_categorical_crossentropy: "sparse"}.get(fn, "elementwise" if fn in LOSS_FUNCTIONS.values()
                                                            else None)


def validate_targets(loss, y, output_shape: tuple) -> None:
    """Check all of ``y`` once, before training, against the loss and the model's output shape (batch may be None).

    Catches NaN/inf targets, one-hot labels given to a sparse loss (and the reverse), class indices out of
    [0, num_classes) and binary labels outside [0, 1], with a message naming the loss and what it expected.
    """
    loss = get(loss)
    y = y._data if isinstance(y, Tensor) else np.asarray(y)
    name = loss.fn.__name__ if isinstance(loss, LossFunctionWrapper) else loss.name
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name} expects numeric targets, received y of dtype {y.dtype}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError(f"{name} received targets y containing NaN or infinity; clean the data before training")
    output_shape = tuple(output_shape)
    true_shape = (None,) + y.shape[1:]
    kind = label_kind(loss)
    if kind == "sparse":
        _check_sparse_shapes(name, true_shape, output_shape)
        _check_class_indices(name, y, output_shape[-1], getattr(loss, "ignore_class", None))
    elif kind == "categorical":
        _check_categorical_shapes(name, true_shape, output_shape)
    elif kind in ("binary", "elementwise"):
        _check_elementwise_shapes(name, true_shape, output_shape)
        if kind == "binary" and y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(f"{name} expects labels in [0, 1], received y with values from {y.min():g} to "
                             f"{y.max():g}")


__all__ = [
    "ALIASES", "EPSILON", "KLD", "BinaryCrossentropy", "CategoricalCrossentropy", "CategoricalHinge",
    "CosineSimilarity", "Hinge", "Huber", "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper",
    "MeanAbsoluteError", "MeanSquaredError", "Poisson", "SparseCategoricalCrossentropy", "SquaredHinge",
    "binary_crossentropy", "categorical_crossentropy", "categorical_hinge", "cosine_similarity", "deserialize", "get",
    "hinge", "huber", "kl_divergence", "kld", "label_kind", "log_cosh", "mean_absolute_error", "mean_squared_error",
    "poisson", "reduce_weighted_values", "serialize", "sparse_categorical_crossentropy", "squared_hinge",
    "validate_targets",
]


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

"""Stateful metrics, as in Keras 3: ``update_state`` once per batch (NumPy arrays), ``result()`` for the epoch so
far, ``reset_state()`` between epochs.

A metric keeps its state in non-trainable Variables made by ``add_variable`` (Keras's ``metric.variables``), and the
default ``reset_state`` sets them back to zeros, as Keras's does: a Keras-style subclass creates its variables in
``__init__`` after ``super().__init__()``, updates them with ``assign``/``assign_add`` and works unchanged.
Mean-type metrics keep Σ w·value and Σ w (w = 1 per sample without sample weights), so the epoch figure is the
average over samples, not over batches, exactly like Keras. The built-in metrics keep their sums in float64.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from glassnet import backend, initializers, losses
from glassnet.autodiff import stable_sigmoid
from glassnet.autodiff.tensor import Tensor, Variable
from glassnet.keras_names import missing_attribute
from glassnet.losses import squeeze_or_expand_to_same_rank

#: Keras's stand-in for −∞ (metrics_utils.NEG_INF): the score of the classes that top_k leaves out.
NEG_INF = -1e10
AGGREGATIONS = ("none", "mean", "sum", "only_first_replica")


def _array(x) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _samplewise(values: np.ndarray, sample_weight) -> tuple[np.ndarray, np.ndarray | None]:
    """One weighted value per sample, and one weight per sample (Keras's reduce_to_samplewise_values, mean)."""
    values = np.asarray(values, dtype=np.float64)
    weights = None
    if sample_weight is not None:
        weights = np.asarray(_array(sample_weight), dtype=np.float64)
        values, weights = squeeze_or_expand_to_same_rank(values, weights)
        if values.ndim > weights.ndim:
            values = values.mean(axis=tuple(range(weights.ndim, values.ndim)))
        weights = np.broadcast_to(weights, values.shape)
        values = values * weights
        if weights.ndim > 1:
            weights = weights.mean(axis=tuple(range(1, weights.ndim)))
    if values.ndim > 1:
        values = values.mean(axis=tuple(range(1, values.ndim)))
    return values, weights


def _divide_no_nan(a, b):
    """a / b, and 0 where b is 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _scalar_or_list(values: np.ndarray):
    """A float for a 0-d result, a list of floats otherwise (one per threshold or class)."""
    return float(values) if np.ndim(values) == 0 else np.asarray(values, dtype=np.float64).tolist()


class Metric:
    """Base class: subclasses define ``update_state`` and ``result``, and keep their state in variables made by
    ``add_variable`` in ``__init__`` (``reset_state`` zeroes them; override it for other starting values)."""

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or losses.snake_case(type(self).__name__)
        self.dtype = dtype
        self._variables: list[Variable] = []

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation: str = "sum",
                     name: str | None = None) -> Variable:
        """A non-trainable Variable of ``shape`` (dtype default: ``backend.floatx()``), tracked in ``variables``."""
        if "_variables" not in self.__dict__:
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` method. Go add it!")
        if aggregation not in AGGREGATIONS:
            raise ValueError(f"Invalid value for argument `aggregation`. Expected one of {AGGREGATIONS}. "
                             f"Received: aggregation={aggregation!r}")
        shape = tuple(shape) if shape is not None else ()
        dtype = np.dtype(dtype or backend.floatx())
        value = initializers.get(initializer)(shape, dtype=dtype)
        name = name or f"variable_{len(self._variables)}"
        variable = Variable(np.asarray(value, dtype=dtype), name=f"{self.name}/{name}", trainable=False, dtype=dtype)
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name: str | None = None) -> Variable:
        """Keras's older name for ``add_variable`` (``initializer`` default: zeros)."""
        return self.add_variable(shape, "zeros" if initializer is None else initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list[Variable]:
        """The metric's state, in creation order."""
        return list(self._variables)

    def reset_state(self) -> None:
        """Set every state variable to zeros (Keras 3's default)."""
        for variable in self._variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_state(...)")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must define result()")

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the result so far."""
        if "_variables" not in self.__dict__:
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` method. Go add it!")
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class Mean(Metric):
    """The (weighted) mean of the values seen: Σ w·v / Σ w (variables ``total`` and ``count``)."""

    def __init__(self, name: str | None = None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", "float64", name="total")
        self.count = self.add_variable((), "zeros", "float64", name="count")

    def update_state(self, values, sample_weight=None) -> None:
        values, weights = _samplewise(_array(values), sample_weight)
        self.total.assign_add(values.sum())
        self.count.assign_add(weights.sum() if weights is not None else (len(values) if values.ndim else 1))

    def result(self) -> float:
        return float(_divide_no_nan(self.total.value, self.count.value))


class MeanMetricWrapper(Mean):
    """The mean over samples of ``fn(y_true, y_pred, **kwargs)`` (per-sample values): turns a loss into a metric."""

    def __init__(self, fn: Callable, name: str | None = None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        values = self._fn(_array(y_true), _array(y_pred), **self._fn_kwargs)
        super().update_state(_array(values), sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


# ----- accuracy family: per-sample values, on NumPy arrays -----------------------------------------------------
def accuracy(y_true, y_pred) -> np.ndarray:
    """1 where y_pred equals y_true exactly."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(_array(y_true), _array(y_pred))
    return (y_true == y_pred).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """1 where (y_pred > threshold) equals the 0/1 label."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(_array(y_true), _array(y_pred))
    return (y_true == (y_pred > threshold)).astype(np.float64)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1 where argmax of y_pred equals argmax of the one-hot y_true."""
    return (np.argmax(_array(y_true), axis=-1) == np.argmax(_array(y_pred), axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1 where argmax of y_pred equals the integer label."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true == np.argmax(y_pred, axis=-1)).astype(np.float64)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly."""

    def __init__(self, name: str = "accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (y_pred > threshold) matches the 0/1 label."""

    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class (argmax) matches the one-hot label."""

    def __init__(self, name: str = "categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class (argmax) matches the integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


def _in_top_k(labels: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """1 where the score of the true class is among the k largest of its row (ties count, as keras.ops.in_top_k:
    the true score is at least the k-th largest)."""
    labels = labels.astype(np.int64)
    kth = np.partition(scores, -min(k, scores.shape[-1]), axis=-1)[..., -min(k, scores.shape[-1])]
    true_scores = np.take_along_axis(scores, labels[..., None], axis=-1)[..., 0]
    return (true_scores >= kth).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5) -> np.ndarray:
    """1 where the one-hot label's class is among the k highest scores."""
    return _in_top_k(np.argmax(_array(y_true), axis=-1), _array(y_pred), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5, from_sorted_ids: bool = False) -> np.ndarray:
    """1 where the integer label is among the k highest scores (``from_sorted_ids``: among the first k of y_pred,
    which then holds class ids sorted by score)."""
    y_true, y_pred = _array(y_true), _array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if from_sorted_ids:
        return np.any(y_pred[..., :k] == y_true[..., None], axis=-1).astype(np.float64)
    return _in_top_k(y_true, y_pred, k)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the k highest scores."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k highest scores."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids: bool = False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k, self.from_sorted_ids = k, from_sorted_ids


# ----- regression ----------------------------------------------------------------------------------------------
def _loss_values(fn: Callable) -> Callable:
    """A loss function as a metric function: the same per-sample values, as a NumPy array."""
    def values(y_true, y_pred, **kwargs):
        return _array(fn(y_true, np.asarray(y_pred), **kwargs))
    values.__name__ = fn.__name__
    return values


class MeanSquaredError(MeanMetricWrapper):
    """The mean over samples of mean((y − ŷ)²)."""

    def __init__(self, name: str = "mean_squared_error", dtype=None):
        super().__init__(_loss_values(losses.mean_squared_error), name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean over samples of mean(|y − ŷ|)."""

    def __init__(self, name: str = "mean_absolute_error", dtype=None):
        super().__init__(_loss_values(losses.mean_absolute_error), name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """√(mean of (y − ŷ)² over every value seen)."""

    def __init__(self, name: str = "root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = squeeze_or_expand_to_same_rank(_array(y_true), _array(y_pred))
        super().update_state(np.square(y_pred.astype(np.float64) - y_true), sample_weight)

    def result(self) -> float:
        return math.sqrt(super().result())


# ----- confusion-matrix metrics --------------------------------------------------------------------------------
def confusion_counts(y_true, y_pred, thresholds: np.ndarray, sample_weight=None, top_k: int | None = None,
                     class_id: int | None = None, label_weights=None,
                     multi_label: bool = False) -> tuple[np.ndarray, ...]:
    """(tp, fp, tn, fn) at each threshold of the ascending ``thresholds``, a prediction counting as positive when
    it is strictly above the threshold (Keras's rule); labels are positive when non-zero. As Keras: ``top_k`` keeps
    each row's k highest scores (the others become −10¹⁰), ``class_id`` keeps one class's column, sample weights
    weigh every class of their sample, ``label_weights`` weigh each class, and ``multi_label`` counts each column of
    (samples, labels) apart (arrays of shape (thresholds, labels)). Vectorized: each value is binned once
    (searchsorted), then the counts are reverse cumulative sums of the bins."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(_array(y_true), _array(y_pred))
    if y_true.shape != y_pred.shape:
        raise ValueError(f"expected y_true and y_pred of the same shape, received y_true of shape {y_true.shape} "
                         f"and y_pred of shape {y_pred.shape}")
    weights = np.ones(y_pred.shape)
    if sample_weight is not None:
        weights = np.asarray(_array(sample_weight), dtype=np.float64)
        weights = np.broadcast_to(weights[..., None] if weights.ndim < y_pred.ndim else weights, y_pred.shape)
    if label_weights is not None:
        weights = weights * np.broadcast_to(np.asarray(label_weights, dtype=np.float64), y_pred.shape)
    if top_k is not None:
        kth = np.partition(y_pred, -top_k, axis=-1)[..., -top_k:][..., :1]
        y_pred = np.where(y_pred >= kth, y_pred, NEG_INF)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape (num_samples, "
                             f"num_classes), found shape: {y_pred.shape}")
        y_true, y_pred, weights = y_true[..., class_id], y_pred[..., class_id], weights[..., class_id]
    if multi_label:
        per_label = [_binned_counts(y_true[:, j], y_pred[:, j], weights[:, j], thresholds)
                     for j in range(y_pred.shape[1])]
        return tuple(np.stack(counts, axis=-1) for counts in zip(*per_label))
    return _binned_counts(y_true, y_pred, weights, thresholds)


def _binned_counts(y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray,
                   thresholds: np.ndarray) -> tuple[np.ndarray, ...]:
    """(tp, fp, tn, fn) at each threshold, over all the values of the arrays."""
    positive = y_true.reshape(-1).astype(bool)
    weights = weights.reshape(-1)
    above = np.searchsorted(thresholds, y_pred.reshape(-1), side="left")  # thresholds[:above] < prediction
    n = len(thresholds)
    pos_bins = np.bincount(above, weights=weights * positive, minlength=n + 1)
    neg_bins = np.bincount(above, weights=weights * ~positive, minlength=n + 1)
    tp = np.cumsum(pos_bins[::-1])[::-1][1:]
    fp = np.cumsum(neg_bins[::-1])[::-1][1:]
    return tp, fp, neg_bins.sum() - fp, pos_bins.sum() - tp


class _ThresholdMetric(Metric):
    """Precision/Recall base: two confusion counts (``counted``) at one or several thresholds (default 0.5, or
    every score that top_k keeps), optionally for the k top scores only or one class only."""

    counted: tuple[str, str] = ("true_positives", "false_positives")

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str | None = None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = 0.5 if top_k is None else NEG_INF
        values = [default] if thresholds is None else np.atleast_1d(thresholds).astype(float).tolist()
        if thresholds is not None and any(not 0 <= t <= 1 for t in values):
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {thresholds}")
        self._order = np.argsort(values)
        self._sorted = np.asarray(values)[self._order]
        for counter in self.counted:
            setattr(self, counter, self.add_variable((len(values),), "zeros", "float64", name=counter))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        tp, fp, tn, fn = confusion_counts(y_true, y_pred, self._sorted, sample_weight, self.top_k, self.class_id)
        counts = {"true_positives": tp, "false_positives": fp, "false_negatives": fn}
        unsort = np.argsort(self._order)
        for name in self.counted:
            getattr(self, name).assign_add(counts[name][unsort])

    def _per_threshold(self, values: np.ndarray):
        return float(values[0]) if np.ndim(self.init_thresholds) == 0 else values.tolist()

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ThresholdMetric):
    """tp / (tp + fp): of the predicted positives, the fraction that are positive."""

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str = "precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def result(self):
        tp, fp = self.true_positives.value, self.false_positives.value
        return self._per_threshold(_divide_no_nan(tp, tp + fp))


class Recall(_ThresholdMetric):
    """tp / (tp + fn): of the positives, the fraction predicted positive."""

    counted = ("true_positives", "false_negatives")

    def __init__(self, thresholds=None, top_k: int | None = None, class_id: int | None = None,
                 name: str = "recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def result(self):
        tp, fn = self.true_positives.value, self.false_negatives.value
        return self._per_threshold(_divide_no_nan(tp, tp + fn))


class AUC(Metric):
    """Area under the ROC (or PR) curve, approximated like Keras: confusion counts at ``num_thresholds`` thresholds
    (−ε, 1/(n−1), ..., (n−2)/(n−1), 1 + ε), then a Riemann sum ('interpolation' = trapezoids for ROC, the
    Davis & Goadrich interpolation for PR; 'minoring'/'majoring' = lower/upper rectangles). ``multi_label``: one
    curve per column of (samples, labels), their areas averaged (weighted by ``label_weights`` when given);
    otherwise ``label_weights`` weigh each label's values in the one curve."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str = "auc", dtype=None, thresholds=None, multi_label: bool = False, num_labels=None,
                 label_weights=None, from_logits: bool = False):
        super().__init__(name=name, dtype=dtype)
        if str(curve).upper() == "PRGAIN":
            raise NotImplementedError(f"AUC '{name}': glassnet has no curve='PRGAIN'; use 'ROC' or 'PR'")
        if str(curve).upper() not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
        if str(summation_method).lower() not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                             '["interpolation", "majoring", "minoring"]')
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        elif num_thresholds <= 1:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: "
                             f"num_thresholds={num_thresholds}")
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds, self.curve, self.summation_method = num_thresholds, curve, summation_method
        self.init_thresholds, self.from_logits = thresholds, from_logits
        self.thresholds = np.array([0.0 - backend.epsilon()] + inner + [1.0 + backend.epsilon()])
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self.multi_label, self.num_labels = bool(multi_label), num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        self._built = False
        if not multi_label or num_labels:
            self._build(num_labels)

    def _build(self, num_labels: int | None) -> None:
        """The four counts: one per threshold, or (multi_label) one per threshold and label."""
        shape = (self.num_thresholds,) if num_labels is None else (self.num_thresholds, num_labels)
        for counter in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, counter, self.add_variable(shape, "zeros", "float64", name=counter))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = _array(y_pred)
        if self.multi_label and y_pred.ndim != 2:
            raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {y_pred.ndim}. Full "
                             f"shape received for `y_pred`: {y_pred.shape}")
        if not self._built:
            self._build(y_pred.shape[1])
        if self.from_logits:
            y_pred = stable_sigmoid(y_pred)
        elif y_pred.size and (y_pred.min() < 0 or y_pred.max() > 1):
            raise ValueError(f"AUC '{self.name}' expects predictions in [0, 1] (or from_logits=True), received "
                             f"values from {y_pred.min():g} to {y_pred.max():g}")
        label_weights = None if self.multi_label else self.label_weights
        for variable, counts in zip(self.variables, confusion_counts(
                y_true, y_pred, self.thresholds, sample_weight, label_weights=label_weights,
                multi_label=self.multi_label)):
            variable.assign_add(counts)

    def _total(self, terms: np.ndarray) -> float:
        """Σ over thresholds; with multi_label, each label's area, then their (label-weighted) mean."""
        if not self.multi_label:
            return float(np.sum(terms))
        by_label = np.sum(terms, axis=0)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(_divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights)))

    def _interpolated_pr_auc(self, tp, fp, fn) -> float:
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        terms = _divide_no_nan(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
        return self._total(terms)

    def result(self) -> float:
        if not self._built:
            return 0.0
        tp, fp, tn, fn = (v.value for v in self.variables)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_auc(tp, fp, fn)
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._total((x[:-1] - x[1:]) * heights)

    def get_config(self) -> dict:
        label_weights = None if self.label_weights is None else self.label_weights.tolist()
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "thresholds": self.init_thresholds,
                "multi_label": self.multi_label, "num_labels": self.num_labels, "label_weights": label_weights,
                "from_logits": self.from_logits}


def _check_2d(metric: str, y_true: np.ndarray, y_pred: np.ndarray) -> None:
    if y_pred.ndim != 2 or y_true.ndim != 2:
        raise ValueError(f"{metric} expects 2D inputs with shape (batch_size, output_dim). Received input shapes: "
                         f"y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}.")


class FBetaScore(Metric):
    """F_β = (1 + β²)·P·R / (β²·P + R) per class, P and R from counts summed over the batches seen; a prediction
    is positive above ``threshold``, or (threshold None) where it is its row's maximum. ``average``: None (one
    score per class), 'micro' (counts pooled over classes), 'macro' (mean over classes), 'weighted' (by support)."""

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str = "fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                             f"'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError(f"Invalid `beta` argument value. It should be a Python float. Received: beta={beta} of "
                             f"type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value. It should be a Python float. Received: "
                                 f"threshold={threshold} of type '{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                                 f"Received: threshold={threshold}")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, num_classes: int) -> None:
        """The counts, once the number of classes is known (the first batch)."""
        shape = () if self.average == "micro" else (num_classes,)
        for counter in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            setattr(self, counter, self.add_variable(shape, "zeros", "float64", name=counter))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = np.asarray(_array(y_true), np.float64), np.asarray(_array(y_pred), np.float64)
        _check_2d("FBetaScore", y_true, y_pred)
        if not self._built:
            self._build(y_pred.shape[-1])
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        weights = 1.0 if sample_weight is None else np.asarray(_array(sample_weight), np.float64)[:, None]
        for variable, value in zip(self.variables, (predicted * y_true, predicted * (1 - y_true),
                                                    (1 - predicted) * y_true, y_true)):
            variable.assign_add(np.sum(value * weights, axis=self.axis))

    def result(self):
        if not self._built:
            return 0.0
        eps = backend.epsilon()
        tp, fp, fn, support = (v.value for v in self.variables)
        precision, recall = tp / (tp + fp + eps), tp / (tp + fn + eps)
        beta2 = self.beta ** 2
        score = precision * recall / (beta2 * precision + recall + eps) * (1 + beta2)
        if self.average == "weighted":
            score = np.sum(score * support / (np.sum(support) + eps))
        elif self.average is not None:
            score = np.mean(score)
        return _scalar_or_list(score)

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """F₁ = 2·P·R / (P + R): FBetaScore with β = 1."""

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str = "f1_score",
                 dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config


class R2Score(Metric):
    """R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² per output over all samples seen ('uniform_average': their mean,
    'variance_weighted_average': weighted by Σ(y − ȳ)², None: one per output); ``num_regressors`` = p > 0 gives
    the adjusted 1 − (1 − R²)(n − 1)/(n − p − 1), n the number of values seen."""

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str = "r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        aggregations = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in aggregations:
            raise ValueError(f"Invalid value for argument `class_aggregation`. Expected one of {aggregations}. "
                             f"Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError(f"Invalid value for argument `num_regressors`. Expected a value >= 0. Received: "
                             f"num_regressors={num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.num_samples = self.add_variable((), "zeros", "float64", name="num_samples")
        self._built = False

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = squeeze_or_expand_to_same_rank(np.asarray(_array(y_true), np.float64),
                                                        np.asarray(_array(y_pred), np.float64))
        _check_2d("R2Score", y_true, y_pred)
        if not self._built:  # one sum per output, once their number is known
            for attribute, name in (("squared_sum", "squared_sum"), ("sum", "sum"), ("total_mse", "residual"),
                                    ("count", "count")):
                setattr(self, attribute, self.add_variable((y_pred.shape[-1],), "zeros", "float64", name=name))
            self._built = True
        weights = 1.0 if sample_weight is None else np.asarray(_array(sample_weight), np.float64)
        weights = np.broadcast_to(weights[:, None] if np.ndim(weights) == 1 else weights, y_true.shape)
        self.sum.assign_add(np.sum(y_true * weights, axis=0))
        self.squared_sum.assign_add(np.sum(y_true * y_true * weights, axis=0))
        self.total_mse.assign_add(np.sum((y_true - y_pred) ** 2 * weights, axis=0))
        self.count.assign_add(np.sum(weights, axis=0))
        self.num_samples.assign_add(y_true.size)

    def result(self):
        if not self._built:
            return 0.0
        total_sum, count = self.sum.value, self.count.value
        with np.errstate(divide="ignore", invalid="ignore"):
            total = self.squared_sum.value - total_sum * (total_sum / count)
            raw = 1 - self.total_mse.value / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        n, p = float(self.num_samples.value), self.num_regressors
        if p > n - 1:
            warnings.warn("More independent predictors than datapoints in adjusted R2 score. Falling back to "
                          "standard R2 score.", stacklevel=2)
        elif p == n - 1:
            warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
        elif p:
            score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return _scalar_or_list(score)

    def get_config(self) -> dict:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


# ----- lookup --------------------------------------------------------------------------------------------------
METRIC_CLASSES = {cls.__name__: cls for cls in (
    Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError, Precision, Recall, AUC,
    FBetaScore, F1Score, R2Score)}
METRIC_CLASSES.update({losses.snake_case(name): cls for name, cls in list(METRIC_CLASSES.items())})
METRIC_CLASSES.update({"mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
                       "MAE": MeanAbsoluteError, "rmse": RootMeanSquaredError})
METRIC_FUNCTIONS = {fn.__name__: fn for fn in (accuracy, binary_accuracy, categorical_accuracy,
                                                sparse_categorical_accuracy, top_k_categorical_accuracy,
                                                sparse_top_k_categorical_accuracy)}
METRIC_FUNCTIONS.update({name: _loss_values(fn) for name, fn in losses.LOSS_FUNCTIONS.items()
                         if name not in ("mean_squared_error", "mean_absolute_error")})
METRIC_FUNCTIONS.update(bce=METRIC_FUNCTIONS["binary_crossentropy"], BCE=METRIC_FUNCTIONS["binary_crossentropy"])


def _accuracy_class(loss, output_shape, y_true_shape) -> type[Metric]:
    """Keras 3's choice for 'accuracy': binary when the output has one unit; sparse categorical when the labels
    have one rank fewer than the output (or a last axis of 1 against several units); categorical otherwise.
    Without the label shape, the loss decides (sparse or binary cross-entropy), as in Keras 2."""
    if output_shape is not None and output_shape[-1] == 1:
        return BinaryAccuracy
    if output_shape is not None and y_true_shape is not None:
        sparse = len(y_true_shape) < len(output_shape) or (y_true_shape[-1] == 1 and output_shape[-1] > 1)
        return SparseCategoricalAccuracy if sparse else CategoricalAccuracy
    kind = losses.label_kind(losses.get(loss)) if loss is not None else None
    return {"binary": BinaryAccuracy, "sparse": SparseCategoricalAccuracy}.get(kind, CategoricalAccuracy)


def get(identifier, loss=None, output_shape: tuple | None = None, y_true_shape: tuple | None = None) -> Metric:
    """Resolve a metric: a name ('accuracy', 'acc', 'mae', 'AUC', 'precision', a loss name...), a Metric, a Metric
    class, a config dict, or a function ``fn(y_true, y_pred)`` returning per-sample values.

    'accuracy'/'acc' become BinaryAccuracy, SparseCategoricalAccuracy or CategoricalAccuracy by the shapes (and the
    loss). A metric made from a string is named by that string, as in Keras, so History keys are what was passed.
    """
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _accuracy_class(loss, output_shape, y_true_shape)(name=identifier)
        if identifier in METRIC_CLASSES:
            return METRIC_CLASSES[identifier](name=identifier)
        if identifier in METRIC_FUNCTIONS:
            return MeanMetricWrapper(METRIC_FUNCTIONS[identifier], name=identifier)
        known = sorted({"accuracy", "acc", *METRIC_CLASSES, *METRIC_FUNCTIONS})
        raise ValueError(f"Could not interpret metric identifier: {identifier!r}. Expected one of {known}, a Metric "
                         "instance or a function fn(y_true, y_pred)")
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}. Expected a string, a Metric instance "
                     "or a function fn(y_true, y_pred)")


def serialize(metric: Metric) -> dict:
    """``{'class_name': ..., 'config': ...}``, JSON-able; a wrapped function by its name."""
    if type(metric) is MeanMetricWrapper:
        return {"class_name": "function", "config": {"fn": metric._fn.__name__, "name": metric.name,
                                                     **metric._fn_kwargs}}
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Metric:
    """The inverse of ``serialize``; custom metrics and functions are looked up in ``custom_objects``."""
    custom_objects = custom_objects or {}
    class_name, inner = config.get("class_name"), dict(config.get("config") or {})
    if class_name == "function":
        fn_name = inner.pop("fn")
        fn = custom_objects.get(fn_name) or METRIC_FUNCTIONS.get(fn_name)
        if fn is None:
            raise ValueError(f"Unknown metric function {fn_name!r}: pass it in custom_objects={{{fn_name!r}: fn}}")
        return MeanMetricWrapper(fn, **inner)
    cls = custom_objects.get(class_name) or METRIC_CLASSES.get(class_name)
    if cls is None:
        raise ValueError(f"Unknown metric {class_name!r}: pass it in custom_objects={{{class_name!r}: cls}}")
    return cls.from_config(inner)


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

"""Stateful metrics, as in Keras 3: ``update_state`` once per batch (NumPy arrays), ``result()`` for the epoch so
far, ``reset_state()`` between epochs.

Mean-type metrics keep Σ w·value and Σ w (w = 1 per sample without sample weights), so the epoch figure is the
average over samples, not over batches, exactly like Keras. Sums are kept in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from glassnet import losses
from glassnet.autodiff import stable_sigmoid
from glassnet.autodiff.tensor import Tensor
from glassnet.losses import squeeze_or_expand_to_same_rank


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


class Metric:
    """Base class: subclasses define ``update_state``, ``result`` and ``reset_state``."""

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or losses.snake_case(type(self).__name__)
        self.dtype = dtype
        self.reset_state()

    def reset_state(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define reset_state()")

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_state(...)")

    def result(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define result()")

    def __call__(self, *args, **kwargs) -> float:
        """Update with one batch and return the result so far."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.4g}>"


class Mean(Metric):
    """The (weighted) mean of the values seen: Σ w·v / Σ w."""

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None) -> None:
        values, weights = _samplewise(_array(values), sample_weight)
        self.total += float(values.sum())
        self.count += float(weights.sum()) if weights is not None else (len(values) if values.ndim else 1)

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The mean over samples of ``fn(y_true, y_pred, **kwargs)`` (per-sample values): turns a loss into a metric."""

    def __init__(self, fn: Callable, name: str | None = None, dtype=None, **kwargs):
        self._fn, self._fn_kwargs = fn, kwargs
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)

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
def confusion_counts(y_true, y_pred, thresholds: np.ndarray, sample_weight=None) -> tuple[np.ndarray, ...]:
    """(tp, fp, tn, fn) at each threshold of the ascending ``thresholds``, a prediction counting as positive when
    it is strictly above the threshold (Keras's rule); labels are positive when non-zero. Vectorized: each value
    is binned once (searchsorted), then the counts are reverse cumulative sums of the bins."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(_array(y_true), _array(y_pred))
    if y_true.shape != y_pred.shape:
        raise ValueError(f"expected y_true and y_pred of the same shape, received y_true of shape {y_true.shape} "
                         f"and y_pred of shape {y_pred.shape}")
    weights = np.ones(y_pred.shape) if sample_weight is None else np.broadcast_to(
        squeeze_or_expand_to_same_rank(np.asarray(_array(sample_weight), dtype=np.float64), y_pred)[0], y_pred.shape)
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
    """Precision/Recall base: confusion counts at one or several thresholds (default 0.5)."""

    def __init__(self, thresholds=None, name: str | None = None, dtype=None):
        self.init_thresholds = thresholds
        values = [0.5] if thresholds is None else np.atleast_1d(thresholds).astype(float).tolist()
        if any(not 0 <= t <= 1 for t in values):
            raise ValueError(f"Threshold values must be in [0, 1]. Received: thresholds={thresholds}")
        self._order = np.argsort(values)
        self._sorted = np.asarray(values)[self._order]
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        n = len(self._sorted)
        self.true_positives, self.false_positives = np.zeros(n), np.zeros(n)
        self.true_negatives, self.false_negatives = np.zeros(n), np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        tp, fp, tn, fn = confusion_counts(y_true, y_pred, self._sorted, sample_weight)
        unsort = np.argsort(self._order)
        self.true_positives += tp[unsort]
        self.false_positives += fp[unsort]
        self.true_negatives += tn[unsort]
        self.false_negatives += fn[unsort]

    def _per_threshold(self, values: np.ndarray):
        return float(values[0]) if np.ndim(self.init_thresholds) == 0 else values.tolist()

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class Precision(_ThresholdMetric):
    """tp / (tp + fp): of the predicted positives, the fraction that are positive."""

    def __init__(self, thresholds=None, name: str = "precision", dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)

    def result(self):
        return self._per_threshold(_divide_no_nan(self.true_positives, self.true_positives + self.false_positives))


class Recall(_ThresholdMetric):
    """tp / (tp + fn): of the positives, the fraction predicted positive."""

    def __init__(self, thresholds=None, name: str = "recall", dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)

    def result(self):
        return self._per_threshold(_divide_no_nan(self.true_positives, self.true_positives + self.false_negatives))


class AUC(Metric):
    """Area under the ROC (or PR) curve, approximated like Keras: confusion counts at ``num_thresholds`` thresholds
    (−ε, 1/(n−1), ..., (n−2)/(n−1), 1 + ε), then a Riemann sum ('interpolation' = trapezoids for ROC, the
    Davis & Goadrich interpolation for PR; 'minoring'/'majoring' = lower/upper rectangles)."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str = "auc", dtype=None, thresholds=None, from_logits: bool = False):
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid `curve` argument value "{curve}". Expected one of: [\'ROC\', \'PR\']')
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid `summation_method` argument value "{summation_method}". Expected one of: '
                             "['interpolation', 'minoring', 'majoring']")
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
        self.thresholds = np.array([0.0 - losses.EPSILON] + inner + [1.0 + losses.EPSILON])
        super().__init__(name=name, dtype=dtype)

    def reset_state(self) -> None:
        n = self.num_thresholds
        self.true_positives, self.false_positives = np.zeros(n), np.zeros(n)
        self.true_negatives, self.false_negatives = np.zeros(n), np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = _array(y_pred)
        if self.from_logits:
            y_pred = stable_sigmoid(y_pred)
        elif y_pred.size and (y_pred.min() < 0 or y_pred.max() > 1):
            raise ValueError(f"AUC '{self.name}' expects predictions in [0, 1] (or from_logits=True), received "
                             f"values from {y_pred.min():g} to {y_pred.max():g}")
        tp, fp, tn, fn = confusion_counts(y_true, y_pred, self.thresholds, sample_weight)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def _interpolated_pr_auc(self) -> float:
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        terms = _divide_no_nan(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
        return float(terms.sum())

    def result(self) -> float:
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_auc()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
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
        return float(np.sum((x[:-1] - x[1:]) * heights))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "thresholds": self.init_thresholds,
                "from_logits": self.from_logits}


# ----- lookup --------------------------------------------------------------------------------------------------
METRIC_CLASSES = {cls.__name__: cls for cls in (
    Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, RootMeanSquaredError, Precision, Recall, AUC)}
METRIC_CLASSES.update({losses.snake_case(name): cls for name, cls in list(METRIC_CLASSES.items())})
METRIC_CLASSES.update({"mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
                       "MAE": MeanAbsoluteError, "rmse": RootMeanSquaredError})
METRIC_FUNCTIONS = {fn.__name__: fn for fn in (accuracy, binary_accuracy, categorical_accuracy,
                                                sparse_categorical_accuracy)}
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

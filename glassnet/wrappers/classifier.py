"""GlassnetClassifier: a glassnet network as a scikit-learn classifier, for labels of any type."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets

from glassnet import losses
from glassnet.wrappers.base import GlassnetEstimator


class GlassnetClassifier(ClassifierMixin, GlassnetEstimator):
    """A classifier trained with glassnet; ``GlassnetClassifier()`` is a one-hidden-layer MLP (100 relu units, Adam).

    Labels may be strings, integers or any sortable values; ``classes_`` holds them sorted and the network sees
    their indices. Two classes give one sigmoid output (binary crossentropy), more give one softmax output per class
    (sparse categorical crossentropy). A model of your own must end in probabilities: one sigmoid unit for two
    classes, or one softmax unit per class. Parameters: see :class:`~glassnet.wrappers.base.GlassnetEstimator`.
    """

    def fit(self, X, y, sample_weight=None) -> GlassnetClassifier:
        """Train a fresh model on (X, y); returns self."""
        return self._fit(X, y, sample_weight)

    def _read_targets(self, y) -> dict:
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        self.n_classes_ = len(self.classes_)
        if self.n_classes_ < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes in the data, but the data "
                             f"contains only 1 class: {self.classes_[0]!r}")
        return {"n_classes_": self.n_classes_, "classes_": self.classes_}

    def _output_layer(self) -> tuple[int, str]:
        return (1, "sigmoid") if self.n_classes_ == 2 else (self.n_classes_, "softmax")

    def _default_loss(self, output_units: int) -> str:
        return "binary_crossentropy" if output_units == 1 else "sparse_categorical_crossentropy"

    def _encode_targets(self, y, loss, output_units: int) -> np.ndarray:
        """Class indices as the loss reads them: a 0/1 column, indices, or one-hot rows."""
        codes = np.searchsorted(self.classes_, y)  # classes_ is sorted: each label's index
        expected = 1 if self.n_classes_ == 2 else self.n_classes_
        if output_units not in (expected, self.n_classes_):
            raise ValueError(f"{type(self).__name__}: the model has {output_units} output unit(s); for "
                             f"{self.n_classes_} classes expected {expected} (probabilities)")
        kind = losses.label_kind(loss)
        if output_units == 1:
            return codes.astype(np.float32).reshape(-1, 1)
        if kind == "sparse":
            return codes
        return np.eye(self.n_classes_, dtype=np.float32)[codes]

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities of shape (n_samples, n_classes), columns in the order of ``classes_``."""
        outputs = self._outputs(X)
        if outputs.shape[-1] == 1:
            outputs = np.hstack([1.0 - outputs, outputs])
        return outputs / outputs.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each sample (a label from ``classes_``)."""
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]

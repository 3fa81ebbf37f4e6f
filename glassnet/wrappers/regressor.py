"""GlassnetRegressor: a glassnet network as a scikit-learn regressor, for one or several targets."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin

from glassnet.wrappers.base import GlassnetEstimator


class GlassnetRegressor(RegressorMixin, GlassnetEstimator):
    """A regressor trained with glassnet; ``GlassnetRegressor()`` is a one-hidden-layer MLP (100 relu units, Adam,
    mean squared error) with a linear output unit per target. ``y`` of shape (n,) gives predictions of shape (n,);
    ``y`` of shape (n, k) gives (n, k). Parameters: see :class:`~glassnet.wrappers.base.GlassnetEstimator`.
    """

    def fit(self, X, y, sample_weight=None) -> GlassnetRegressor:
        """Train a fresh model on (X, y); returns self."""
        return self._fit(X, y, sample_weight, multi_output=True, y_numeric=True)

    def _read_targets(self, y) -> dict:
        self._target_ndim = np.ndim(y)
        self.n_outputs_ = 1 if np.ndim(y) == 1 else int(np.shape(y)[1])
        return {"n_outputs_": self.n_outputs_}

    def _output_layer(self) -> tuple[int, str]:
        return self.n_outputs_, "linear"

    def _default_loss(self, output_units: int) -> str:
        return "mean_squared_error"

    def _encode_targets(self, y, loss, output_units: int) -> np.ndarray:
        if output_units != self.n_outputs_:
            raise ValueError(f"{type(self).__name__}: the model has {output_units} output unit(s); the targets have "
                             f"{self.n_outputs_} column(s)")
        return np.asarray(y, dtype=np.float32).reshape(len(y), self.n_outputs_)

    def predict(self, X) -> np.ndarray:
        """Predicted targets: shape (n,) if the model was fitted on a 1-d ``y``, else (n, n_outputs_)."""
        outputs = self._outputs(X)
        return outputs.ravel() if self._target_ndim == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

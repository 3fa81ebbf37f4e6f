"""scikit-learn's MLPClassifier on workload A only (it has no multi-hot-friendly RMSprop net or MSE-tanh head).

scikit-learn has no RMSprop: it trains with Adam (same batch size, learning rate 0.001, no L2 penalty), which
costs about as much per step. One round is one ``partial_fit`` over all samples: one epoch, shuffled inside.
"""

from __future__ import annotations

import numpy as np

from benchmarks.data import Dataset
from benchmarks.workloads import Workload

LABEL = "scikit-learn MLPClassifier"
REQUIRES = ("sklearn",)
WORKLOADS = "A"


def version() -> str:
    import sklearn

    return sklearn.__version__


def prepare() -> None:
    """Import scikit-learn's network (it uses NumPy's BLAS, limited by the worker's thread variables)."""
    from sklearn import neural_network  # noqa: F401


class Trainer:
    def __init__(self, workload: Workload, data: Dataset, weights: list[np.ndarray], seed: int):
        from sklearn.neural_network import MLPClassifier

        self.data, self.workload = data, workload
        self.model = MLPClassifier(hidden_layer_sizes=workload.units[1:-1], activation=workload.activations[0],
                                   solver="adam", alpha=0.0, batch_size=workload.batch_size,
                                   learning_rate_init=workload.learning_rate, shuffle=True, random_state=seed)
        classes = np.arange(workload.units[-1])
        self.model.partial_fit(data.x[: workload.batch_size], data.labels[: workload.batch_size], classes=classes)
        for param, value in zip(self.model.coefs_ + self.model.intercepts_, weights[0::2] + weights[1::2]):
            if param.dtype != np.float32:
                raise TypeError(f"MLPClassifier holds {param.dtype} weights, expected float32 like the others")
            param[...] = value

    def warmup(self) -> None:
        n = min(len(self.data.x), 5 * self.workload.batch_size)
        self.model.partial_fit(self.data.x[:n], self.data.labels[:n])

    def run_round(self, i: int) -> None:
        self.model.partial_fit(self.data.x, self.data.labels)

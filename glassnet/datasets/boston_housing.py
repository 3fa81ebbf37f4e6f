"""Boston Housing prices (StatLib, 1978), as ``keras.datasets.boston_housing``."""

from __future__ import annotations

import os

import numpy as np

from glassnet.datasets import _download

_FILES = (
    _download.DataFile(
        "boston_housing/boston_housing.npz",
        ("0c1bbf0b79b8c2996afa31b259ca6cff56f5a6f72501358901ae5aa8fadd6e2f",),
        remote_name="boston_housing.npz",
        remote_sha256="f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
    ),
)


def load_data(path: str | os.PathLike | None = None, test_split: float = 0.2, seed: int = 113):
    """Loads the Boston Housing dataset: 506 suburbs, 13 features, target = median home value in k$.

    Data comes from ``path`` (a ``boston_housing.npz`` with keys ``x``, ``y``), else ``GLASSNET_DATA_DIR``
    (``boston_housing/boston_housing.npz``), else the cache, else Keras's download (sha256-checked). As Keras
    does, the rows are shuffled with ``np.random.RandomState(seed)`` and the first ``int(506 * (1 - test_split))``
    become the training set. (Keras warns about the ethical problem of feature ``B``.)

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float64 arrays; with the defaults ``(404, 13)``, ``(404,)``,
        ``(102, 13)``, ``(102,)``.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be in [0, 1), received test_split={test_split!r}")
    _, (file,) = _download.locate("Boston Housing", (_FILES,), path)
    with np.load(file, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])

"""The datasets a sweep can search on, each as ``(x_train, y_train), (x_test, y_test)`` ready for an estimator.

The search runs K-fold validation on the training part; the test part scores the best model once at the end.
"""

from __future__ import annotations

import numpy as np

from glassnet import utils
from glassnet.datasets import boston_housing, mnist, toy2d

TOY2D_PREFIX = "toy2d."
NAMES = ("boston_housing", "mnist", *(TOY2D_PREFIX + name for name in toy2d.NAMES))


def _boston(data: dict, seed: int):
    """The book's preparation: features standardized with the training set's mean and standard deviation."""
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(test_split=data.get("test_split", 0.2))
    x_train, mean, std = utils.standardize(x_train)
    x_test, _, _ = utils.standardize(x_test, mean, std)
    return (x_train.astype(np.float32), y_train.astype(np.float32)), (x_test.astype(np.float32),
                                                                     y_test.astype(np.float32))


def _mnist(data: dict, seed: int):
    """The first ``samples`` training images (and ``samples // 6`` test images), flattened and scaled to [0, 1]."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    samples = data.get("samples", len(x_train))
    if not isinstance(samples, int) or not 6 <= samples <= len(x_train):
        raise ValueError(f"[data] samples for mnist must be an integer in [6, {len(x_train)}], received {samples!r}")
    n_test = samples // 6
    x_train, x_test = x_train[:samples].reshape(samples, -1), x_test[:n_test].reshape(n_test, -1)
    return ((x_train / np.float32(255)).astype(np.float32), y_train[:samples].astype(np.int64)), \
        ((x_test / np.float32(255)).astype(np.float32), y_test[:n_test].astype(np.int64))


def _toy2d(name: str, data: dict, seed: int):
    """A playground set of ``samples`` points (default 500) with ``noise``, split with ``test_split`` (0.2)."""
    x, y = toy2d.load(name, n_samples=data.get("samples", 500), noise=data.get("noise", 0.0), seed=seed)
    if name not in toy2d.REGRESSION:
        y = y.astype(np.int64)
    x_train, x_test, y_train, y_test = utils.train_test_split(x, y, test_size=data.get("test_split", 0.2), seed=seed)
    return (x_train, y_train), (x_test, y_test)


def load(data: dict, seed: int):
    """The ``[data]`` table's dataset as ``(x_train, y_train), (x_test, y_test)``; ``seed`` drives any sampling."""
    name = data["name"]
    if name == "boston_housing":
        return _boston(data, seed)
    if name == "mnist":
        return _mnist(data, seed)
    if name.startswith(TOY2D_PREFIX) and name[len(TOY2D_PREFIX):] in toy2d.NAMES:
        return _toy2d(name[len(TOY2D_PREFIX):], data, seed)
    raise ValueError(f"[data] name must be one of {NAMES}, received {name!r}")

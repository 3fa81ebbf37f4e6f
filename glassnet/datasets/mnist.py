"""MNIST handwritten digits, as ``keras.datasets.mnist``."""

from __future__ import annotations

import os

import numpy as np

from glassnet.datasets import _download
from glassnet.datasets._idx import read_idx

_IDX_FILES = (
    _download.DataFile("mnist/train-images-idx3-ubyte.gz",
                       ("ae46c4f260ac4905871204038b01a6c0a113631ad2d5a23f68961fc8b88747cb",)),
    _download.DataFile("mnist/train-labels-idx1-ubyte.gz",
                       ("ec02e7948609e5754d47881c09b8afdd8dfa60600b9e5388c8c54a67069ec772",)),
    _download.DataFile("mnist/t10k-images-idx3-ubyte.gz",
                       ("167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b",)),
    _download.DataFile("mnist/t10k-labels-idx1-ubyte.gz",
                       ("fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c",)),
)
_KERAS_NPZ = (
    _download.DataFile("mnist/mnist.npz", remote_name="mnist.npz",
                       remote_sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
)


def load_data(path: str | os.PathLike | None = None):
    """Loads the MNIST dataset: 60,000 training and 10,000 test 28x28 grayscale digits, like Keras.

    Data comes from ``path`` (Keras's ``mnist.npz``, or a folder with the four IDX ``.gz`` files), else the folders
    in ``GLASSNET_DATA_DIR`` (``mnist/*.gz`` or ``mnist/mnist.npz``), else the cache, else Keras's ``mnist.npz``
    download; every file is checked against its pinned sha256.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape ``(60000, 28, 28)`` and ``(10000, 28, 28)``
        with values 0..255, and uint8 labels 0..9 of shape ``(60000,)`` and ``(10000,)``, in Keras's order.
    """
    form, paths = _download.locate("MNIST", (_IDX_FILES, _KERAS_NPZ), path)
    if form == 0:
        x_train, y_train, x_test, y_test = (read_idx(p) for p in paths)
    else:
        with np.load(paths[0], allow_pickle=False) as f:
            x_train, y_train, x_test, y_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    return (x_train, y_train), (x_test, y_test)

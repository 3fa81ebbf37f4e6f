"""Fashion-MNIST clothing images, as ``keras.datasets.fashion_mnist``."""

from __future__ import annotations

from glassnet.datasets import _download
from glassnet.datasets._idx import read_idx

# (name, sha256 of the Debian package's file, sha256 Keras pins for its download). Debian only dropped the file
# name from each gzip header and reset its timestamp: the compressed data are the same.
_HASHES = (
    ("train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
     "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    ("train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
     "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    ("t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
     "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    ("t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
     "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
)
_FILES = tuple(
    _download.DataFile(f"fashion-mnist/{name}", (debian,), remote_name=name, remote_sha256=keras)
    for name, debian, keras in _HASHES
)


def load_data():
    """Loads Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale images of 10 clothing classes.

    Data comes from the folders in ``GLASSNET_DATA_DIR`` (``fashion-mnist/*.gz``: point it at
    ``/usr/share/datasets`` after ``apt-get install dataset-fashion-mnist``), else the cache, else Keras's download;
    both the Debian and the Keras files are accepted by their pinned sha256.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(60000, 28, 28)`` / ``(10000, 28, 28)`` and uint8
        labels 0..9 (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag,
        9 Ankle boot).
    """
    _, paths = _download.locate("Fashion-MNIST", (_FILES,))
    x_train, y_train, x_test, y_test = (read_idx(p) for p in paths)
    return (x_train, y_train), (x_test, y_test)

"""Data helpers, like ``keras.utils``: the course's array helpers (one-hot, multi-hot, normalization, splits),
``PyDataset``/``Sequence`` for datasets written in Python, and the functions that make datasets from arrays and
folders. Each lives in one module; this package re-exports them all.

| module | what |
| --- | --- |
| ``encoding`` | to_categorical, multi_hot, normalize, standardize, train_test_split, k_fold |
| ``py_dataset`` | PyDataset (alias Sequence) and the bounded prefetch queue fit reads it through |
| ``sequences`` | pad_sequences, timeseries_dataset_from_array |
| ``splits`` | split_dataset |
| ``images`` | decoding (Pillow) and resizing as keras.ops.image.resize |
| ``directories`` | image_dataset_from_directory, text_dataset_from_directory |
| ``plot_model`` | plot_model: the layers drawn as SVG text or with matplotlib (no Graphviz) |
"""

from glassnet.keras_names import missing_attribute
from glassnet.utils.directories import image_dataset_from_directory, text_dataset_from_directory
from glassnet.utils.encoding import (
    k_fold,
    multi_hot,
    normalize,
    set_random_seed,
    standardize,
    to_categorical,
    train_test_split,
)
from glassnet.utils.plot_model import plot_model
from glassnet.utils.py_dataset import PyDataset, Sequence
from glassnet.utils.sequences import pad_sequences, timeseries_dataset_from_array
from glassnet.utils.splits import split_dataset

__all__ = [
    "PyDataset", "Sequence", "image_dataset_from_directory", "k_fold", "multi_hot", "normalize", "pad_sequences",
    "plot_model", "set_random_seed", "split_dataset", "standardize", "text_dataset_from_directory",
    "timeseries_dataset_from_array", "to_categorical", "train_test_split",
]


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

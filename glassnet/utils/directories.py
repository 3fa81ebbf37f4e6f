"""``image_dataset_from_directory`` and ``text_dataset_from_directory``: a folder of class folders as a dataset of
batches of NumPy arrays, read from disk a batch at a time (Keras 3's ``keras.utils`` functions of those names).

Files are listed exactly as Keras lists them: the class folders in alphanumeric order (or ``class_names``' order),
each walked in sorted order, then shuffled with ``np.random.RandomState(seed)``, paths and labels alike; the
validation split takes the last ``validation_split`` share of that list. The dataset's first pass reads the files
in that order (``dataset.file_paths``); each later epoch (with ``shuffle``) reshuffles them. Keras's tf.data
pipeline instead shuffles inside a buffer of ``8 × batch_size`` files, an order no NumPy code reproduces.
"""

from __future__ import annotations

import math
import os

import numpy as np

from glassnet.backend import make_rng
from glassnet.utils.encoding import to_categorical
from glassnet.utils.images import COLOR_MODES, INTERPOLATIONS, load_image, resize
from glassnet.utils.py_dataset import PyDataset

__all__ = ["FileDataset", "image_dataset_from_directory", "index_directory", "text_dataset_from_directory"]

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
TEXT_FORMATS = (".txt",)
LABEL_MODES = ("int", "categorical", "binary", None)


class FileDataset(PyDataset):
    """Batches of files read on demand: ``(inputs, labels)``, or inputs alone without labels. ``batch_size=None``
    hands out single samples. ``class_names`` and ``file_paths`` are kept, as on Keras's datasets."""

    def __init__(self, file_paths: list[str], labels: np.ndarray | None, label_mode: str | None,
                 class_names: list[str] | None, batch_size: int | None, load, shuffle: bool, seed: int):
        super().__init__()
        self.file_paths, self.class_names = list(file_paths), class_names
        self.labels = None if labels is None or label_mode is None else _encode(labels, label_mode, class_names)
        self.batch_size, self.load, self.shuffle = batch_size, load, shuffle
        self._order = np.arange(len(self.file_paths))
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.file_paths) if self.batch_size is None else math.ceil(len(self.file_paths) / self.batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range: the dataset has {len(self)} batches")
        if self.batch_size is None:
            rows = self._order[index]
            inputs = self.load(self.file_paths[rows])
        else:
            rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
            inputs = np.stack([self.load(self.file_paths[i]) for i in rows])
        return inputs if self.labels is None else (inputs, self.labels[rows])

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._rng.shuffle(self._order)


def _encode(labels: np.ndarray, label_mode: str, class_names: list[str]) -> np.ndarray:
    """Keras's label tensors: int32 class indices, float32 one-hot rows, or float32 0/1 in a column."""
    if label_mode == "int":
        return labels.astype(np.int32)
    if label_mode == "binary":
        return labels.astype(np.float32)[:, None]
    return to_categorical(labels, num_classes=len(class_names))


def index_directory(directory: str, labels, formats: tuple[str, ...], class_names=None, shuffle: bool = True,
                    seed=None, follow_links: bool = False, verbose: bool = True):
    """(file paths, integer labels or None, class names) of the files in ``directory`` ending in ``formats``, in
    Keras's order (see the module's docstring)."""
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError("The `class_names` passed did not match the names of the subdirectories of the "
                                 f"target directory. Expected: {subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)
    elif class_names is not None:
        raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be specified."
                         if labels is None else "When argument `labels` is specified, argument `class_names` "
                         "cannot be specified (the `class_names` will be the sorted list of labels).")
    else:
        subdirs = [""]
    paths, found = [], []
    for index, subdir in enumerate(subdirs):
        for path in _files(os.path.join(directory, subdir), formats, follow_links):
            paths.append(path)
            found.append(index)
    if labels == "inferred":
        labels, names = np.array(found, dtype=np.int32), subdirs
    elif labels is None:
        names = None
    else:
        if len(labels) != len(paths):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files in the target "
                             f"directory. len(labels) is {len(labels)} while we found {len(paths)} files in "
                             f"directory {directory}.")
        labels = np.asarray(labels)
        names = [str(label) for label in sorted(set(labels.tolist()))]
    if verbose:
        print(f"Found {len(paths)} files." if labels is None
              else f"Found {len(paths)} files belonging to {len(names)} classes.")
    if shuffle:
        np.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return paths, labels, names


def _files(folder: str, formats: tuple[str, ...], follow_links: bool) -> list[str]:
    """The files under ``folder`` ending in one of ``formats`` (any case), folder by folder in sorted order."""
    found = []
    for root, _, files in sorted(os.walk(folder, followlinks=follow_links), key=lambda entry: entry[0]):
        found.extend(os.path.join(root, name) for name in sorted(files) if name.lower().endswith(formats))
    return found


def _check_arguments(labels, label_mode, class_names, batch_size, shuffle, seed, validation_split, subset) -> None:
    """Keras's checks of the arguments both functions share (and its messages)."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple, np.ndarray)):
            raise ValueError("`labels` argument should be a list/tuple of integer labels, of the same size as the "
                             "number of files in the target directory. If you wish to infer the labels from the "
                             'subdirectory names in the target directory, pass `labels="inferred"`. If you wish to '
                             f"get a dataset that only contains the files (no labels), pass `labels=None`. Received: "
                             f"labels={labels}")
        if class_names:
            raise ValueError(f'You can only pass `class_names` if `labels="inferred"`. Received: labels={labels}, '
                             f"and class_names={class_names}")
    if label_mode not in LABEL_MODES:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", or None. '
                         f"Received: label_mode={label_mode}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                   or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer or None, received: batch_size={batch_size!r}")
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", received: {subset}')
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide a `seed` argument, "
                         "to make sure that there is no overlap between the training and validation subset.")


def _split(paths: list, labels, validation_split, subset: str, verbose: bool) -> tuple[list, np.ndarray | None]:
    """Keras's split: the last ``int(validation_split · n)`` files validate."""
    if not validation_split:
        return paths, labels
    n_val = int(validation_split * len(paths))
    if subset == "training":
        if verbose:
            print(f"Using {len(paths) - n_val} files for training.")
        return paths[:len(paths) - n_val], None if labels is None else labels[:len(paths) - n_val]
    if verbose:
        print(f"Using {n_val} files for validation.")
    return paths[len(paths) - n_val:], None if labels is None else labels[len(labels) - n_val:]


def _datasets(directory, kind: str, formats, labels, label_mode, class_names, batch_size, shuffle, seed,
              validation_split, subset, follow_links, verbose, load):
    """The dataset (or, with ``subset="both"``, the training and validation datasets) both functions return."""
    _check_arguments(labels, label_mode, class_names, batch_size, shuffle, seed, validation_split, subset)
    if labels is None:
        label_mode = None
    if seed is None:
        seed = int(make_rng().integers(1_000_000))
    paths, labels, class_names = index_directory(directory, labels, formats, class_names, shuffle, seed,
                                                  follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: '
                         f"class_names={class_names}")
    parts = [("training", shuffle), ("validation", False)] if subset == "both" else [(subset, shuffle)]
    datasets = []
    for part, reshuffle in parts:
        part_paths, part_labels = _split(paths, labels, validation_split, part, verbose)
        if not part_paths:
            which = {"training": "training ", "validation": "validation "}.get(part, "") if subset == "both" else ""
            raise ValueError(f"No {which}{kind} found in directory {directory}. Allowed formats: {formats}")
        datasets.append(FileDataset(part_paths, part_labels, label_mode, class_names, batch_size, load, reshuffle,
                                    seed))
    return tuple(datasets) if subset == "both" else datasets[0]


def image_dataset_from_directory(directory: str, labels="inferred", label_mode: str | None = "int",
                                 class_names=None, color_mode: str = "rgb", batch_size: int | None = 32,
                                 image_size=(256, 256), shuffle: bool = True, seed=None, validation_split=None,
                                 subset=None, interpolation: str = "bilinear", follow_links: bool = False,
                                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                                 data_format=None, verbose: bool = True):
    """Batches ``(images, labels)`` from ``directory/<class>/*.png|jpg|…``: images float32 (batch, height, width,
    channels) of values 0–255 resized to ``image_size``; labels int32 class indices (``label_mode="int"``), float32
    one-hot rows (``"categorical"``) or a float32 0/1 column (``"binary"``). Needs Pillow (``glassnet[images]``)."""
    if color_mode not in COLOR_MODES:
        raise ValueError(f'`color_mode` must be one of {{"rgb", "rgba", "grayscale"}}. Received: '
                         f"color_mode={color_mode}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"Invalid `image_size` value. Expected a tuple of 2 integers. Received: "
                         f"image_size={image_size}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {INTERPOLATIONS} in glassnet (Keras also "
                         f"has bicubic, area, lanczos and gaussian ones). Received: interpolation={interpolation}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
    if data_format not in (None, "channels_last"):
        raise ValueError(f"glassnet reads images channels_last only; received data_format={data_format!r}")
    size = (int(image_size[0]), int(image_size[1]))

    def load(path: str) -> np.ndarray:
        return resize(load_image(path, color_mode), size, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio)

    return _datasets(directory, "images", IMAGE_FORMATS, labels, label_mode, class_names, batch_size, shuffle, seed,
                     validation_split, subset, follow_links, verbose, load)


def text_dataset_from_directory(directory: str, labels="inferred", label_mode: str | None = "int",
                                class_names=None, batch_size: int | None = 32, max_length: int | None = None,
                                shuffle: bool = True, seed=None, validation_split=None, subset=None,
                                follow_links: bool = False, verbose: bool = True):
    """Batches ``(texts, labels)`` from ``directory/<class>/*.txt``: texts a NumPy array of str (each file read as
    UTF-8, cut to ``max_length`` characters when given), labels as in ``image_dataset_from_directory``."""
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)
                                   or max_length < 0):
        raise ValueError(f"`max_length` must be a non-negative integer or None, received: max_length={max_length!r}")

    def load(path: str) -> np.ndarray:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return np.array(text if max_length is None else text[:max_length])

    return _datasets(directory, "text files", TEXT_FORMATS, labels, label_mode, class_names, batch_size, shuffle,
                     seed, validation_split, subset, follow_links, verbose, load)

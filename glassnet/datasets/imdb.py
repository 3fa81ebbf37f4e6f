"""IMDB movie-review sentiment (Maas et al. 2011), as ``keras.datasets.imdb``.

Reviews are stored flat and pickle-free: all word ranks of a split concatenated (``x_<split>_tokens``), the start
of each review (``x_<split>_offsets``) and the labels. ``load_data`` applies Keras's steps to the flat arrays at
once, then hands back Keras's types: object arrays of Python lists.
"""

from __future__ import annotations

import io
import itertools
import json
import os
from pathlib import Path

import numpy as np

from glassnet.datasets import _download

_FLAT = _download.DataFile(
    "imdb/imdb_keras_flat.npz", ("d025eebb014fdf05f91ef9ff1837bb95cb5a9aed67d8e1898f6dd58037bd591f",)
)
_KERAS_NPZ = _download.DataFile(
    "imdb/imdb.npz", remote_name="imdb.npz",
    remote_sha256="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
)
# Byte-identical to Keras's file (whose md5 Keras pins), so one sha256 serves the data folder and the download.
_WORD_INDEX_SHA256 = "027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6"
_WORD_INDEX = _download.DataFile("imdb/imdb_word_index.json", (_WORD_INDEX_SHA256,),
                                 remote_name="imdb_word_index.json", remote_sha256=_WORD_INDEX_SHA256)
_SPLITS = ("train", "test")


def load_data(
    path: str | os.PathLike | None = None,
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
):
    """Loads the IMDB dataset: 25,000 training and 25,000 test reviews encoded as word ranks, labelled 1/0.

    Data comes from ``path`` (``imdb_keras_flat.npz``, Keras's ``imdb.npz``, or a folder holding either), else
    ``GLASSNET_DATA_DIR`` (``imdb/imdb_keras_flat.npz``), else the cache, else Keras's ``imdb.npz`` download, which
    is unpickled only after its sha256 matched the pinned value and is then stored pickle-free in the cache.

    Keras's steps, in order: shuffle train then test with one ``np.random.RandomState(seed)``; prepend
    ``start_char`` (unless None) and add ``index_from`` to every rank; if ``maxlen``, keep only sequences shorter
    than ``maxlen`` (start mark included); if ``num_words`` is falsy, set it to the largest index present; finally
    every index ``w`` outside ``skip_top <= w < num_words`` becomes ``oov_char`` (or is dropped when it is None).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x_*`` are 1-D object arrays of Python lists of ints, ``y_*``
        int64 arrays of 0/1 labels.
    """
    form, (file,) = _download.locate("IMDB", ((_FLAT,), (_KERAS_NPZ,)), path)
    if form == 0:
        flat = _read_flat(file)
    else:
        flat = _flat_from_keras_npz(file)
        if path is None and _download.cache_dir().resolve() in file.resolve().parents:
            _replace_download_in_cache(flat, file)
    rng = np.random.RandomState(seed)
    splits = []
    for split in _SPLITS:
        tokens, offsets = flat[f"x_{split}_tokens"], flat[f"x_{split}_offsets"]
        order = np.arange(len(offsets) - 1)
        rng.shuffle(order)
        tokens, offsets = _take(tokens.astype(np.int64) + index_from, offsets, order)
        if start_char is not None:
            tokens, offsets = _prepend(tokens, offsets, start_char)
        labels = flat[f"y_{split}"].astype(np.int64)[order]
        if maxlen:
            keep = np.flatnonzero(np.diff(offsets) < maxlen)
            tokens, offsets = _take(tokens, offsets, keep)
            labels = labels[keep]
        splits.append([tokens, offsets, labels])
    if maxlen and any(len(labels) == 0 for _, _, labels in splits):
        raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                         "Increase maxlen.")
    if not num_words:
        num_words = max(int(tokens.max(initial=0)) for tokens, _, _ in splits)
    for split in splits:
        tokens, offsets, _ = split
        kept = (tokens >= skip_top) & (tokens < num_words)
        if oov_char is not None:
            split[0] = np.where(kept, tokens, oov_char)
        else:
            counts = np.concatenate([[0], np.cumsum(kept)])
            split[0], split[1] = tokens[kept], counts[offsets]
    (x_train, _, y_train), (x_test, _, y_test) = ((_as_lists(t, o), o, y) for t, o, y in splits)
    return (x_train, y_train), (x_test, y_test)


def get_word_index(path: str | os.PathLike | None = None) -> dict[str, int]:
    """The word index of the IMDB dataset: word -> rank (1 = "the", 88,584 words), as Keras's JSON file.

    Ranks are the raw values before ``load_data`` adds ``index_from`` (3 by default). The file comes from ``path``,
    ``GLASSNET_DATA_DIR`` (``imdb/imdb_word_index.json``), the cache, or Keras's download, checked by sha256.
    """
    _, (file,) = _download.locate("IMDB word index", ((_WORD_INDEX,),), path)
    with open(file, encoding="utf-8") as f:
        return json.load(f)


def _replace_download_in_cache(flat: dict[str, np.ndarray], downloaded: Path) -> None:
    """Keep the converted, pickle-free arrays in the cache (written atomically, sha256 recorded beside them) in
    place of the pickled download, so later loads never unpickle anything."""
    buffer = io.BytesIO()
    np.savez(buffer, **flat)
    target = downloaded.parent / _FLAT.name
    _download.write_atomically(target, buffer.getvalue())
    _download.record_hash(target)
    downloaded.unlink()


def _read_flat(file) -> dict[str, np.ndarray]:
    with np.load(file, allow_pickle=False) as f:
        return {key: f[key] for key in f.files}


def _flat_from_keras_npz(file) -> dict[str, np.ndarray]:
    """Unpickle Keras's ``imdb.npz`` from bytes whose sha256 was just checked, and flatten its object arrays."""
    data = _download.read_verified(file, _KERAS_NPZ.remote_sha256)
    flat = {}
    with np.load(io.BytesIO(data), allow_pickle=True) as f:
        for split in _SPLITS:
            reviews = f[f"x_{split}"]
            lengths = np.fromiter(map(len, reviews), np.int64, count=len(reviews))
            flat[f"x_{split}_tokens"] = np.fromiter(
                itertools.chain.from_iterable(reviews), np.int32, count=int(lengths.sum())
            )
            flat[f"x_{split}_offsets"] = np.concatenate([[0], np.cumsum(lengths)])
            flat[f"y_{split}"] = np.asarray(f[f"y_{split}"]).astype(np.uint8)
    return flat


def _take(tokens: np.ndarray, offsets: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sequences ``order`` (indices into the sequences), concatenated: one gather, no loop over words."""
    lengths = np.diff(offsets)[order]
    new_offsets = np.concatenate([[0], np.cumsum(lengths)])
    source = np.repeat(offsets[:-1][order] - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
    return tokens[source], new_offsets


def _prepend(tokens: np.ndarray, offsets: np.ndarray, value: int) -> tuple[np.ndarray, np.ndarray]:
    """Every sequence with ``value`` put in front of it."""
    new_offsets = offsets + np.arange(len(offsets))
    out = np.full(len(tokens) + len(offsets) - 1, value, dtype=tokens.dtype)
    is_word = np.ones(len(out), dtype=bool)
    is_word[new_offsets[:-1]] = False
    out[is_word] = tokens
    return out, new_offsets


def _as_lists(tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """A 1-D object array of Python lists of ints (Keras's type), one list per sequence."""
    values = tokens.tolist()
    bounds = offsets.tolist()
    result = np.empty(len(bounds) - 1, dtype=object)
    for i in range(len(result)):
        result[i] = values[bounds[i]:bounds[i + 1]]
    return result

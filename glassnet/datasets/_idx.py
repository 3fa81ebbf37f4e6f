"""Reading the IDX format of the MNIST and Fashion-MNIST files (gzip-compressed, big-endian header)."""

from __future__ import annotations

import gzip
import os

import numpy as np


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The uint8 array stored in a gzip IDX file: magic ``0x0000 08 ndim``, ``ndim`` big-endian uint32 sizes,
    then the values. Returns a writable array of that shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of uint8 values (magic bytes {data[:4]!r})")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", count=ndim, offset=4))
    values = np.frombuffer(data, np.uint8, offset=header)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{path} declares shape {shape} but holds {values.size} values")
    return values.reshape(shape).copy()

"""Where Variables keep their values. Small variables are laid side by side in shared blocks, in creation order,
so a model's biases and small kernels form one contiguous array: an optimizer then updates them all with one NumPy
call instead of one per variable (what a tiny network, like the playground's, spends most of its update time on).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

#: Variables with fewer elements than this share blocks; larger ones get arrays of their own.
SMALL_SIZE = 1 << 12
BLOCK_SIZE = 1 << 16

_lock = threading.Lock()
_open_blocks: dict[np.dtype, tuple[np.ndarray, int]] = {}  # per dtype: the block being filled and its next free offset


def allocate(shape: tuple[int, ...], dtype) -> np.ndarray:
    """A zeroed, writable, C-contiguous array of ``shape``: a slice of a shared block when small."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64))
    if not 0 < size < SMALL_SIZE:
        return np.zeros(shape, dtype=dtype)
    with _lock:
        block, offset = _open_blocks.get(dtype, (None, BLOCK_SIZE))
        if offset + size > BLOCK_SIZE:
            block, offset = np.zeros(BLOCK_SIZE, dtype=dtype), 0
        _open_blocks[dtype] = (block, offset + size)
    return block[offset:offset + size].reshape(shape)


def contiguous_runs(arrays: Sequence[np.ndarray]) -> list[tuple[list[int], np.ndarray]]:
    """Group ``arrays`` (slices handed out by ``allocate``) into runs that lie back to back in one block: for each
    run, the indices of its arrays and one flat view covering exactly them. Arrays that are in no run of two or
    more are left out."""
    placed = []
    for index, a in enumerate(arrays):
        block = a.base
        if isinstance(block, np.ndarray) and block.ndim == 1 and block.size == BLOCK_SIZE and a.flags.c_contiguous:
            start = (a.__array_interface__["data"][0] - block.__array_interface__["data"][0]) // a.itemsize
            placed.append((id(block), start, index, block))
    placed.sort(key=lambda p: (p[0], p[1]))
    runs, current = [], []
    for entry in placed:
        if current:
            last_block, last_start, last_index, _ = current[-1]
            if entry[0] != last_block or entry[1] != last_start + arrays[last_index].size:
                runs.append(current)
                current = []
        current.append(entry)
    runs.append(current)
    result = []
    for run in runs:
        if len(run) >= 2:
            start = run[0][1]
            stop = run[-1][1] + arrays[run[-1][2]].size
            result.append(([index for _, _, index, _ in run], run[0][3][start:stop]))
    return result

"""Where Variables and their optimizer states keep their values. With the fast kernels, small variables are laid
side by side in shared blocks, in creation order, so a model's biases and small kernels form one contiguous array,
and each optimizer state of a variable lies at the same place in a twin block: an optimizer then updates them all
with one call instead of one per variable (what a tiny network, like the playground's, spends most of its update
time on). With the NumPy kernels every array is its own.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from glassnet import backend

#: Variables with fewer elements than this share blocks; larger ones get arrays of their own.
SMALL_SIZE = 1 << 12
BLOCK_SIZE = 1 << 16

_lock = threading.Lock()
_open_blocks: dict[np.dtype, tuple[np.ndarray, int]] = {}  # per dtype: the block being filled and its next free offset


def allocate(shape: tuple[int, ...], dtype) -> np.ndarray:
    """A zeroed, writable, C-contiguous array of ``shape``: a slice of a shared block when small (fast kernels)."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64))
    if not 0 < size < SMALL_SIZE or backend.kernels() != "fast":
        return np.zeros(shape, dtype=dtype)
    with _lock:
        block, offset = _open_blocks.get(dtype, (None, BLOCK_SIZE))
        if offset + size > BLOCK_SIZE:
            block, offset = np.zeros(BLOCK_SIZE, dtype=dtype), 0
        _open_blocks[dtype] = (block, offset + size)
    return block[offset:offset + size].reshape(shape)


def _placement(a: np.ndarray) -> tuple[np.ndarray, int] | None:
    """(the shared block, the offset) of an array ``allocate`` carved from one, else None."""
    block = a.base
    if isinstance(block, np.ndarray) and block.ndim == 1 and block.size == BLOCK_SIZE and a.flags.c_contiguous:
        return block, (a.__array_interface__["data"][0] - block.__array_interface__["data"][0]) // a.itemsize
    return None


class Twins:
    """Zeroed arrays shaped like given weights, one set per name (an optimizer's slots: "velocity", ...). The slot
    of a weight that lives in a shared block lives at the same offset of that block's twin, so the slots of weights
    that lie back to back lie back to back too. One Twins per owner: its twin blocks live as long as it does."""

    def __init__(self):
        self._twins: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}  # (id(block), name) -> (block, twin)

    def zeros_like(self, weight: np.ndarray, name: str) -> np.ndarray:
        placed = _placement(weight)
        if placed is None:
            return np.zeros_like(weight)
        block, offset = placed
        entry = self._twins.get((id(block), name))
        if entry is None or entry[0] is not block:
            entry = self._twins[id(block), name] = (block, np.zeros_like(block))
        return entry[1][offset:offset + weight.size].reshape(weight.shape)


def contiguous_runs(arrays: Sequence[np.ndarray], *parallel: Sequence[np.ndarray]) -> list[tuple[list[int], ...]]:
    """Group ``arrays`` (slices handed out by ``allocate``) into runs that lie back to back in one block, and whose
    ``parallel`` arrays (each sequence one per array, e.g. a state per weight) lie back to back the same way. For
    each run of two or more: the indices of its arrays, then one flat view covering them in ``arrays`` and one in
    each ``parallel`` sequence."""
    placed = []
    for index, a in enumerate(arrays):
        where = _placement(a)
        if where is not None:
            placed.append((id(where[0]), where[1], index))
    placed.sort()
    runs, current = [], []
    for entry in placed:
        if current and (entry[0] != current[-1][0] or entry[1] != current[-1][1] + arrays[current[-1][2]].size):
            runs.append(current)
            current = []
        current.append(entry)
    runs.append(current)
    result = []
    for run in runs:
        indices = [index for _, _, index in run]
        if len(indices) < 2:
            continue
        views = [_span([group[i] for i in indices]) for group in (arrays, *parallel)]
        if all(view is not None for view in views):
            result.append((indices, *views))
    return result


def _span(members: list[np.ndarray]) -> np.ndarray | None:
    """One flat view over arrays that lie back to back in one shared block, in this order; None if they do not."""
    places = [_placement(a) for a in members]
    if any(p is None or p[0] is not places[0][0] for p in places):
        return None
    for (_, start), (_, following), a in zip(places, places[1:], members):
        if following != start + a.size:
            return None
    start = places[0][1]
    return places[0][0][start:places[-1][1] + members[-1].size]

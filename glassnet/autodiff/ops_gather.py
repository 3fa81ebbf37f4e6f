"""Gathering rows of a table by index: what an Embedding layer does with its word vectors.

The indices are an input of the op (not a parameter fixed when it was recorded), so a replayed step looks up the
rows of each new batch.
"""

from __future__ import annotations

import numpy as np

from glassnet.autodiff.function import Function
from glassnet.kernels.gather import scatter_add_rows


class Gather(Function):
    """z = onehot(x)·E (row x[i] of the table E for every i).  Backward: dx = none (indices are data),
    dE = onehot(x)ᵀ·dz (each dz[i] added to row x[i], repeated indices adding up).

    The product with one-hot rows is the math; the forward gathers the rows (E[x]) and the backward scatter-adds dz
    into them (the kernel ``scatter_add_rows``; np.add.at in plain NumPy), never making the one-hot matrix.
    Indices held as floats (a batch converted by fit) are truncated to integers, as Keras casts them; any index
    outside [0, rows) is refused, naming ``owner`` (the layer) and the index, before anything is looked up.
    """

    def __init__(self, owner: str = "Gather"):
        self.owner = owner

    def forward(self, x, E):  # noqa: N803 - the table's name in the equations
        rows = x if x.dtype.kind in "iu" else x.astype(np.intp)
        check_rows(rows, len(E), self.owner)
        self.save_for_backward(rows, E.shape)
        return E[rows]

    def backward(self, dz):
        rows, shape = self.saved
        return None, scatter_add_rows(rows, dz, shape)


def check_rows(rows: np.ndarray, size: int, owner: str) -> None:
    """Refuse row indices outside [0, size), naming the first bad one, where it is, and ``owner``."""
    if rows.size and (rows.min() < 0 or rows.max() >= size):
        where = np.argwhere((rows < 0) | (rows >= size))[0]
        bad = rows[tuple(where)]
        raise ValueError(f"{owner} received index {bad} at position {tuple(int(i) for i in where)} of its input "
                         f"(shape {rows.shape}), outside [0, input_dim={size}): every index must be at least 0 "
                         f"and less than input_dim={size}")

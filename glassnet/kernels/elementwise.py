"""Elementwise passes that NumPy takes in several: one compiled loop each with the fast kernels."""

from __future__ import annotations

import numpy as np

from glassnet import backend
from glassnet.kernels.compiled import compiled

#: Below this many values a compiled call costs more than the NumPy expression it replaces.
COMPILED_MIN_SIZE = 1 << 14


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^−x), in three passes: where e^−x overflows to ∞ (x < −88 in float32), 1 / ∞ = 0 is σ(x)
    rounded to zero (below 1e-38), never a NaN. A branch on the sign (e^−|x|) costs twice as many passes."""
    with np.errstate(over="ignore"):
        d = np.asarray(np.exp(-x))  # an array even for a scalar x: the passes below write into it
    d += 1
    return np.reciprocal(d, out=d)


def times_positive(values: np.ndarray, a: np.ndarray) -> np.ndarray:
    """values · [a > 0], a new array (relu's backward, dz = da · [a > 0]). NumPy makes the mask, then the
    product: three passes over a convolution's activations; the compiled loop reads both once and writes once.
    Both multiply, so NaN and the sign of zero come out the same."""
    if (values.size < COMPILED_MIN_SIZE or backend.numba() is None or values.shape != a.shape
            or values.dtype != a.dtype or values.dtype.char not in "fd"):
        return values * (a > 0)
    out = np.empty(values.shape, dtype=values.dtype)
    compiled(times_positive_loop)(np.ascontiguousarray(values).reshape(-1), np.ascontiguousarray(a).reshape(-1),
                                   out.reshape(-1))
    return out


def times_positive_loop(values, a, out):
    """out[i] = values[i] · (1 if a[i] > 0 else 0): a branch-free loop LLVM vectorizes."""
    one, zero = values.dtype.type(1), values.dtype.type(0)
    for i in range(values.shape[0]):
        out[i] = values[i] * (one if a[i] > 0 else zero)

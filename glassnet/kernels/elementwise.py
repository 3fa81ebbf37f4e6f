"""Elementwise passes that NumPy takes in several: one compiled loop each with the fast kernels."""

from __future__ import annotations

import functools

import numpy as np

from glassnet import backend

#: Below this many values a compiled call costs more than the NumPy expression it replaces.
COMPILED_MIN_SIZE = 1 << 14


def times_positive(values: np.ndarray, a: np.ndarray) -> np.ndarray:
    """values · [a > 0], a new array (relu's backward, dz = da · [a > 0]). NumPy makes the mask, then the
    product: three passes over a convolution's activations; the compiled loop reads both once and writes once.
    Both multiply, so NaN and the sign of zero come out the same."""
    if (values.size < COMPILED_MIN_SIZE or backend.numba() is None or values.shape != a.shape
            or values.dtype != a.dtype or values.dtype.char not in "fd"):
        return values * (a > 0)
    out = np.empty(values.shape, dtype=values.dtype)
    _compiled(times_positive_loop)(np.ascontiguousarray(values).reshape(-1), np.ascontiguousarray(a).reshape(-1),
                                   out.reshape(-1))
    return out


def times_positive_loop(values, a, out):
    """out[i] = values[i] · (1 if a[i] > 0 else 0): a branch-free loop LLVM vectorizes."""
    one, zero = values.dtype.type(1), values.dtype.type(0)
    for i in range(values.shape[0]):
        out[i] = values[i] * (one if a[i] > 0 else zero)


@functools.cache
def _compiled(loop):
    """``loop`` compiled by Numba (once per process; the machine code is cached on disk)."""
    return backend.numba().njit(cache=True, error_model="numpy")(loop)

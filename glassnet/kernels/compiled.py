"""One compiler for the kernels' loops: each loop is compiled by Numba the first time it runs."""

from __future__ import annotations

import functools
from collections.abc import Callable

from glassnet import backend


@functools.cache
def compiled(loop: Callable) -> Callable:
    """``loop`` compiled by Numba with NumPy's error model (no zero-division branch, so LLVM can vectorize), once
    per process; the machine code is cached on disk. Call it only when ``backend.numba()`` is not None."""
    return backend.numba().njit(cache=True, error_model="numpy")(loop)

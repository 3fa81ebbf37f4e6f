"""The bottom of glassnet: the default float type, the seeded random generators, array conversion, and which
kernels run the math (fast, with Numba, or plain NumPy).

Randomness comes from ``np.random.Generator`` objects: one global generator seeded by :func:`set_random_seed`, from
which every unseeded layer, initializer and shuffle draws its own. This module imports nothing from glassnet.
"""

from __future__ import annotations

import contextlib
import numbers
import os
from collections.abc import Iterator

import numpy as np

_FLOATX = "float32"
_FLOAT_TYPES = ("float16", "float32", "float64")
_global_rng = np.random.default_rng()
_kernels: str | None = None  # "fast" or "numpy", chosen on first use (see kernels())
_numba = None  # the numba module when the fast kernels run


def kernels() -> str:
    """Which kernels run the math: ``"fast"`` (Numba loops, sparse inputs, shared storage blocks, batch slicing,
    BLAS layout choices; the default when Numba is installed) or ``"numpy"`` (plain NumPy, nothing else: the
    reference every fast path must match). Set with ``GLASSNET_KERNELS=numpy|fast`` before the first use, or
    :func:`set_kernels`."""
    global _kernels
    if _kernels is None:
        wanted = os.environ.get("GLASSNET_KERNELS", "").strip().lower() or None
        set_kernels(wanted)
    return _kernels


def set_kernels(name: str | None) -> None:
    """Choose the kernels: ``"fast"``, ``"numpy"``, or None for the default (fast when Numba is installed).
    ``"fast"`` without Numba raises, naming the extra that installs it."""
    global _kernels, _numba
    if name not in (None, "fast", "numpy"):
        raise ValueError(f"GLASSNET_KERNELS must be 'fast' or 'numpy', received {name!r}")
    module = None
    if name != "numpy":
        try:
            import numba as module
        except ImportError:
            if name == "fast":
                raise ImportError("GLASSNET_KERNELS=fast needs Numba: pip install 'glassnet[fast]'") from None
    _numba = module
    _kernels = "fast" if module is not None else "numpy"


def numba():
    """The ``numba`` module that compiles glassnet's loops when the fast kernels run, else None (then the same math
    runs with NumPy alone). Imported on first use: its compiler costs about 170 MB and a second of startup."""
    kernels()
    return _numba


def floatx() -> str:
    """The default float type of new tensors and weights: ``'float32'`` unless changed."""
    return _FLOATX


def set_floatx(dtype: str) -> None:
    """Change the default float type (``'float32'`` or ``'float64'``; gradient checks use float64)."""
    global _FLOATX
    name = np.dtype(dtype).name
    if name not in _FLOAT_TYPES:
        raise ValueError(f"set_floatx expects one of {_FLOAT_TYPES}, received {dtype!r}")
    _FLOATX = name


def set_random_seed(seed: int) -> None:
    """Seed glassnet's global generator (and NumPy's legacy one): the same seed gives bit-identical training."""
    global _global_rng
    if not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"set_random_seed expects a non-negative integer, received {seed!r}")
    _global_rng = np.random.default_rng(int(seed))
    np.random.seed(int(seed) % 2**32)  # noqa: NPY002 - also seeds user code that uses the legacy API, as Keras does


@contextlib.contextmanager
def temporary_seed(seed: int | None) -> Iterator[None]:
    """Run the block with the global generator seeded from ``seed``, then put the previous generator back (NumPy's
    legacy generator is left alone). ``None`` leaves the global generator as it is. Not thread-safe: callers that
    run in threads hold a lock around it."""
    global _global_rng
    previous = _global_rng
    if seed is not None:
        _global_rng = np.random.default_rng(seed)
    try:
        yield
    finally:
        _global_rng = previous


def make_rng(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """A generator for one random consumer: from ``seed``, the Generator itself, or drawn from the global one."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng(_global_rng.integers(2**63))
    if not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, a numpy Generator or None, received {seed!r}")
    return np.random.default_rng(int(seed))


def to_array(value, dtype=None, name: str = "value") -> np.ndarray:
    """Convert ``value`` to a numeric ndarray: Python numbers and integer data become ``floatx()``, NumPy float
    arrays keep their dtype, and ``dtype`` overrides both.

    Refuses strings, objects and other non-numeric data with a message naming ``name`` and the received type.
    """
    is_numpy = isinstance(value, (np.ndarray, np.generic))
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must be numeric (bool, int or float), received an array of dtype {arr.dtype}"
            f" from {type(value).__name__}"
        )
    if dtype is not None:
        dtype = np.dtype(dtype)
    elif arr.dtype.kind != "f" or not is_numpy:
        dtype = np.dtype(_FLOATX)
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr

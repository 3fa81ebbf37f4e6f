"""The bottom of glassnet: the session's settings (the default float type, the fuzz factor ε, the image data
format), the seeded random generators, array conversion, and which kernels run the math (fast, with Numba, or plain
NumPy). It is also ``keras.backend``'s home: ``epsilon``, ``floatx``, ``image_data_format``, their setters (which
``glassnet.config`` re-exports as ``keras.config``'s) and ``clear_session``.

Randomness comes from ``np.random.Generator`` objects: one global generator seeded by :func:`set_random_seed`, from
which every unseeded layer, initializer and shuffle draws its own. This module imports nothing from glassnet.
"""

from __future__ import annotations

import contextlib
import gc
import math
import numbers
import os
from collections.abc import Callable, Iterator

import numpy as np

from glassnet.keras_names import missing_attribute

_FLOATX = "float32"
#: The float types ``set_floatx`` accepts (Keras also accepts 'bfloat16', which NumPy lacks).
FLOAT_TYPES = ("float16", "float32", "float64")
#: Keras's two image data formats; glassnet runs the first one only.
IMAGE_DATA_FORMATS = ("channels_last", "channels_first")
_epsilon = 1e-7
_image_data_format = "channels_last"
_session_resets: list[Callable[[], None]] = []  # what clear_session calls (see on_clear_session)
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


def backend() -> str:
    """The name of the backend that runs the math: ``'glassnet'`` (Keras 3 returns 'tensorflow', 'jax', 'torch',
    'numpy' or 'openvino'): here that is glassnet's own engine, NumPy with Numba kernels."""
    return "glassnet"


def floatx() -> str:
    """The default float type of new tensors and weights, as a string: ``'float32'`` unless changed."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type of new tensors and weights: ``'float16'``, ``'float32'`` or ``'float64'``
    (gradient checks use float64). Other values raise Keras's ValueError."""
    global _FLOATX
    if value == "bfloat16":
        raise ValueError("set_floatx: glassnet runs on NumPy, which has no bfloat16. Received: value='bfloat16'. "
                         f"Expected one of {FLOAT_TYPES}")
    if not isinstance(value, str) or value not in FLOAT_TYPES:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {FLOAT_TYPES}")
    _FLOATX = value


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (constraints, metrics): ``1e-7`` unless changed."""
    return _epsilon


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by ``epsilon()``: a finite, non-negative real number."""
    global _epsilon
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
            or value < 0):
        raise ValueError(f"set_epsilon expects a finite, non-negative float. Received: value={value!r}")
    _epsilon = float(value)


def image_data_format() -> str:
    """The default image data format: always ``'channels_last'`` in glassnet (batch, height, width, channels)."""
    return _image_data_format


def set_image_data_format(data_format: str) -> None:
    """Set the image data format. Only ``'channels_last'`` runs in glassnet: ``'channels_first'`` raises
    NotImplementedError (as glassnet's layers do for ``data_format='channels_first'``); any other value raises
    Keras's ValueError."""
    global _image_data_format
    name = str(data_format).lower()
    if name not in IMAGE_DATA_FORMATS:
        raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                         f"Received: data_format={data_format!r}")
    if name == "channels_first":
        raise NotImplementedError("set_image_data_format: glassnet supports 'channels_last' only (images as batch, "
                                  "height, width, channels). Received: data_format='channels_first'; move the "
                                  "channels last, e.g. x.transpose(0, 2, 3, 1)")
    _image_data_format = name


def on_clear_session(reset: Callable[[], None]) -> None:
    """Register ``reset`` to run at every ``clear_session()``: the module that keeps some session-wide state (the
    layers' automatic names) hands its reset down here, so this bottom module never imports it."""
    if reset not in _session_resets:
        _session_resets.append(reset)


def clear_session(free_memory: bool = True) -> None:
    """Forget the state built up by earlier models, as ``keras.backend.clear_session``: automatic layer names start
    again (the next Dense is ``dense``), and with ``free_memory`` Python's garbage collector runs. The random state is
    left as it is, as in Keras (whose fresh global seed generator draws from Python's ``random``, which it does not
    reseed): reseed with ``set_random_seed``."""
    for reset in _session_resets:
        reset()
    if free_memory:
        gc.collect()


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


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

"""``keras.config``: the default float type, the fuzz factor ε, the backend's name and the image data format.

As in Keras 3: ``floatx()`` is ``'float32'`` until ``set_floatx``; ``epsilon()`` is ``1e-7`` until ``set_epsilon``;
``image_data_format()`` is ``'channels_last'``. Differences, each refused with an error rather than ignored:

- ``backend()`` returns ``'glassnet'``: Keras returns the name of the library that runs its math (``'tensorflow'``,
  ``'jax'``, ``'torch'``, ``'numpy'``), and here that is glassnet's own engine (NumPy, with Numba kernels). Code that
  branches on Keras's backends takes none of their special paths, which is right: none of them runs here.
- ``set_floatx`` accepts ``'float16'``, ``'float32'`` and ``'float64'``; NumPy has no ``'bfloat16'``.
- ``set_image_data_format`` accepts only ``'channels_last'``: glassnet's convolution and pooling layers lay images out
  as (batch, height, width, channels) only.

The float type lives in ``glassnet.backend`` (``backend.floatx`` reads the same value); ε and the image data format
live here. glassnet's losses clip with their own ε = 1e-7 (``losses.EPSILON``), which ``set_epsilon`` does not change.
"""

from __future__ import annotations

import math
import numbers

from glassnet import backend as engine

#: The float types ``set_floatx`` accepts (Keras also accepts 'bfloat16', which NumPy lacks).
FLOAT_TYPES = ("float16", "float32", "float64")
#: Keras's two image data formats; glassnet runs the first one only.
IMAGE_DATA_FORMATS = ("channels_last", "channels_first")

_epsilon = 1e-7
_image_data_format = "channels_last"


def backend() -> str:
    """The name of the backend that runs the math: ``'glassnet'`` (Keras 3 returns 'tensorflow', 'jax', 'torch',
    'numpy' or 'openvino')."""
    return "glassnet"


def floatx() -> str:
    """The default float type, as a string: ``'float32'`` unless changed by ``set_floatx``."""
    return engine.floatx()


def set_floatx(value: str) -> None:
    """Set the default float type of new tensors and weights: ``'float16'``, ``'float32'`` or ``'float64'``."""
    if value == "bfloat16":
        raise ValueError("set_floatx: glassnet runs on NumPy, which has no bfloat16. Received: value='bfloat16'. "
                         f"Expected one of {FLOAT_TYPES}")
    if not isinstance(value, str) or value not in FLOAT_TYPES:
        raise ValueError(f"Unknown `floatx` value: {value!r}. Expected one of {FLOAT_TYPES}")
    engine.set_floatx(value)


def epsilon() -> float:
    """The fuzz factor used in numeric expressions: ``1e-7`` unless changed by ``set_epsilon``."""
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


__all__ = ["backend", "epsilon", "floatx", "image_data_format", "set_epsilon", "set_floatx", "set_image_data_format"]

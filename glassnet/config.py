"""``keras.config``: the default float type, the fuzz factor ε, the backend's name and the image data format.

As in Keras 3: ``floatx()`` is ``'float32'`` until ``set_floatx``; ``epsilon()`` is ``1e-7`` until ``set_epsilon``;
``image_data_format()`` is ``'channels_last'``. Differences, each refused with an error rather than ignored:

- ``backend()`` returns ``'glassnet'``: Keras returns the name of the library that runs its math (``'tensorflow'``,
  ``'jax'``, ``'torch'``, ``'numpy'``), and here that is glassnet's own engine (NumPy, with Numba kernels). Code that
  branches on Keras's backends takes none of their special paths, which is right: none of them runs here.
- ``set_floatx`` accepts ``'float16'``, ``'float32'`` and ``'float64'``; NumPy has no ``'bfloat16'``.
- ``set_image_data_format`` accepts only ``'channels_last'``: glassnet's convolution and pooling layers lay images out
  as (batch, height, width, channels) only.

The settings live in ``glassnet.backend`` (the bottom module, which every module may read, and ``keras.backend``'s
home): these are the same functions. glassnet's losses clip with their own ε = 1e-7 (``losses.EPSILON``), which
``set_epsilon`` does not change.
"""

from __future__ import annotations

from glassnet.backend import (
    FLOAT_TYPES,
    IMAGE_DATA_FORMATS,
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from glassnet.keras_names import missing_attribute

__all__ = ["FLOAT_TYPES", "IMAGE_DATA_FORMATS", "backend", "epsilon", "floatx", "image_data_format", "set_epsilon",
           "set_floatx", "set_image_data_format"]


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

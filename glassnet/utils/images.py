"""Images as arrays: decoded with Pillow (the ``images`` extra) and resized as ``keras.ops.image.resize`` does, for
``image_dataset_from_directory``.

Resizing is bilinear or nearest-neighbour with half-pixel centres and no antialiasing, Keras's defaults: output
pixel ``i`` sits at input coordinate ``(i + ½)·(in/out)`` (pixel centres at k + ½). ``crop_to_aspect_ratio``
first cuts the largest centred window of the target's aspect ratio; ``pad_to_aspect_ratio`` first pads with
zeros, half on each side, to it.
"""

from __future__ import annotations

import numpy as np

#: color_mode -> (Pillow mode, channels)
COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}
INTERPOLATIONS = ("bilinear", "nearest")


def load_image(path: str, color_mode: str = "rgb") -> np.ndarray:
    """The image file at ``path`` as a float32 array (height, width, channels) of values 0–255."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("image_dataset_from_directory needs Pillow to decode images: "
                          "pip install 'glassnet[images]' (or pip install pillow)") from None
    mode, _ = COLOR_MODES[color_mode]
    with Image.open(path) as image:
        pixels = np.asarray(image.convert(mode), dtype=np.float32)
    return pixels[..., None] if pixels.ndim == 2 else pixels


def resize(image: np.ndarray, size: tuple[int, int], interpolation: str = "bilinear",
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False) -> np.ndarray:
    """``image`` (height, width, channels) resized to ``size`` = (height, width), as float32."""
    target_h, target_w = size
    height, width = image.shape[:2]
    if crop_to_aspect_ratio:
        crop_h = max(min(height, int(width * target_h / target_w)), 1)
        crop_w = max(min(width, int(height * target_w / target_h)), 1)
        top, left = int((height - crop_h) / 2), int((width - crop_w) / 2)
        image = image[top:top + crop_h, left:left + crop_w]
    elif pad_to_aspect_ratio:
        pad_h = max(height, int(width * target_h / target_w))
        pad_w = max(width, int(height * target_w / target_h))
        top, left = int((pad_h - height) / 2), int((pad_w - width) / 2)
        image = np.pad(image, ((top, top), (left, left), (0, 0)))
    image = _resize_axis(image, target_h, 0, interpolation)
    return _resize_axis(image, target_w, 1, interpolation).astype(np.float32)


def _resize_axis(image: np.ndarray, out: int, axis: int, interpolation: str) -> np.ndarray:
    """Resample one axis to ``out`` pixels: nearest reads input ⌊(i + ½)·in/out⌋; bilinear mixes the two inputs
    around (i + ½)·in/out − ½ (clamped to the image) by their distances."""
    size = image.shape[axis]
    if size == out:
        return image
    scale = size / out
    if interpolation == "nearest":
        return np.take(image, np.minimum(np.floor((np.arange(out) + 0.5) * scale).astype(np.int64),
                                          size - 1), axis=axis)
    source = np.maximum((np.arange(out) + 0.5) * scale - 0.5, 0.0)
    low = np.floor(source).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    weight = (source - low).reshape((-1, 1, 1) if axis == 0 else (1, -1, 1))
    return np.take(image, low, axis=axis) * (1 - weight) + np.take(image, high, axis=axis) * weight

"""Image preprocessing layers (channels_last): Resizing and CenterCrop, and the augmentations RandomFlip,
RandomRotation, RandomZoom, RandomTranslation and RandomContrast, which act only in training.

Every geometric layer is a sampling of the input: resizing is Z = A_h · X · A_wᵀ per channel with interpolation
matrices A (bilinear, nearest or bicubic by PyTorch's half-pixel rules, as Keras on torch resizes); rotation, zoom
and translation read each output pixel (y, x) from the input at (b0·x + b1·y + b2, a0·x + a1·y + a2) — Keras's
8-number transform — blending the nearest pixels bilinearly, with Keras's fill modes outside the image. The
samplings are glassnet ops (einsum, take), so gradients flow through them; the random parameters are drawn per image
from the layer's generator, in Python: a training step with an augmentation is not replayed from a recording (the
step runs eagerly), so every batch gets new draws.
"""

from __future__ import annotations

import numbers

import numpy as np

from glassnet import backend, ops
from glassnet.autodiff.tensor import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.conv import standardize_data_format

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")
CUBIC_A = -0.75  # the cubic convolution kernel's parameter in PyTorch's bicubic
AFFINE_INTERPOLATIONS = ("nearest", "bilinear")
FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def check_image_rank(layer: Layer, x) -> None:
    """Images are (batch, height, width, channels) or one (height, width, channels); anything else is refused."""
    if x.ndim not in (3, 4):
        raise ValueError(f"{type(layer).__name__} '{layer.name}' expects images of rank 4 (batch, height, width, "
                         f"channels) or rank 3 (height, width, channels), received shape {tuple(x.shape)}")


def batched(fn, x):
    """``fn`` applied to a batch of images; one image gets a batch axis for it and loses it after."""
    if x.ndim == 4:
        return fn(x)
    return ops.squeeze(fn(ops.expand_dims(x, 0)), 0)


def antialias_matrix(size_in: int, size_out: int) -> np.ndarray:
    """The (size_out, size_in) matrix of an antialiased bilinear shrink (PyTorch's, after PIL): output i averages
    the inputs j within s = size_in/size_out of its centre c = (i + ½)·s with triangle weights
    max(0, 1 − |j + ½ − c|/s), normalized to sum to 1."""
    scale = size_in / size_out
    matrix = np.zeros((size_out, size_in), dtype=np.float64)
    for i in range(size_out):
        centre = (i + 0.5) * scale
        low, high = max(int(centre - scale + 0.5), 0), min(int(centre + scale + 0.5), size_in)
        j = np.arange(low, high)
        weights = np.maximum(0.0, 1.0 - np.abs((j + 0.5 - centre) / scale))
        matrix[i, low:high] = weights / weights.sum()
    return matrix


def cubic_weights(t: np.ndarray) -> np.ndarray:
    """Keys's cubic convolution weights (a = −0.75) of the four pixels at offsets −1, 0, 1, 2 from ⌊s⌋, for the
    fraction t = s − ⌊s⌋: |d| ≤ 1 gives (a + 2)|d|³ − (a + 3)|d|² + 1, 1 < |d| < 2 gives a|d|³ − 5a|d|² + 8a|d| − 4a."""
    a = CUBIC_A
    distances = np.stack([t + 1, t, 1 - t, 2 - t], axis=-1)
    near = ((a + 2) * distances - (a + 3)) * distances * distances + 1
    far = ((a * distances - 5 * a) * distances + 8 * a) * distances - 4 * a
    return np.where(distances <= 1, near, far)


def resize_matrix(size_in: int, size_out: int, interpolation: str, antialias: bool = False) -> np.ndarray:
    """The (size_out, size_in) matrix A with z = A·x along one axis. Bilinear: output i reads the input at
    s = (i + ½)·size_in/size_out − ½ (clamped at 0), weights 1 − (s − ⌊s⌋) and s − ⌊s⌋ on ⌊s⌋ and ⌊s⌋ + 1 (the last
    pixel repeats); nearest: output i copies input ⌊i·size_in/size_out⌋ (PyTorch's rules, which Keras uses)."""
    if antialias and interpolation == "bilinear" and size_in > size_out:
        return antialias_matrix(size_in, size_out)
    matrix = np.zeros((size_out, size_in), dtype=np.float64)
    scale = size_in / size_out
    rows = np.arange(size_out)
    if interpolation == "nearest":
        matrix[rows, np.minimum(np.floor((rows + 0.5) * scale).astype(int), size_in - 1)] = 1.0
        return matrix
    if interpolation == "bicubic":  # s unclamped, the 4 pixels around it clamped to the image
        source = (rows + 0.5) * scale - 0.5
        floor = np.floor(source)
        weights = cubic_weights(source - floor)
        for k in range(4):
            np.add.at(matrix, (rows, np.clip(floor.astype(int) - 1 + k, 0, size_in - 1)), weights[:, k])
        return matrix
    source = np.maximum((rows + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(int), size_in - 1)
    high = np.minimum(low + 1, size_in - 1)
    frac = source - low
    np.add.at(matrix, (rows, low), 1.0 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix


def resize_images(x, height: int, width: int, interpolation: str, dtype: str, antialias: bool = False):
    """Images (batch, h, w, c) resized to (batch, height, width, c): Z = A_h · X · A_wᵀ."""
    a_h = resize_matrix(x.shape[1], height, interpolation, antialias).astype(dtype)
    a_w = resize_matrix(x.shape[2], width, interpolation, antialias).astype(dtype)
    return ops.einsum("pw,bowc->bopc", a_w, ops.einsum("oh,bhwc->bowc", a_h, x))


def aspect_crop_box(height: int, width: int, target_height: int, target_width: int) -> tuple[int, int, int, int]:
    """(top, left, crop height, crop width): the largest centred box of the target's aspect ratio (Keras's rule)."""
    crop_height = min(int(width * target_height / target_width), height)
    crop_width = min(int(height * target_width / target_height), width)
    return int((height - crop_height) / 2), int((width - crop_width) / 2), crop_height, crop_width


def positive_int(value, name: str, layer: str) -> int:
    """A size argument: a positive int, or an error naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{layer}: `{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


class Resizing(Layer):
    """``Resizing(height, width, interpolation='bilinear', crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
    fill_mode='constant', fill_value=0.0, antialias=False)``: images to (height, width), Z = A_h · X · A_wᵀ; with
    ``crop_to_aspect_ratio`` the largest centred box of the target's aspect ratio is resized (no distortion), with
    ``pad_to_aspect_ratio`` the image is first padded with ``fill_value`` toward that ratio (the same margin on both
    sides, as Keras pads); ``antialias`` averages over the shrunk pixels' footprint when bilinear shrinks."""

    def __init__(self, height: int, width: int, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False, fill_mode: str = "constant", fill_value: float = 0.0,
                 antialias: bool = False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = positive_int(height, "height", "Resizing"), positive_int(width, "width", "Resizing")
        if interpolation not in RESIZE_INTERPOLATIONS:
            raise ValueError(f"Resizing: `interpolation` must be one of {RESIZE_INTERPOLATIONS} in glassnet. "
                             f"Received: interpolation={interpolation!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be True.")
        if antialias and interpolation == "bicubic":
            raise ValueError("Resizing: glassnet antialiases bilinear resizing only; received interpolation="
                             "'bicubic' with antialias=True.")
        if fill_mode != "constant":
            raise ValueError(f"Invalid value for argument `fill_mode`. Only `'constant'` is supported. Received: "
                             f"fill_mode={fill_mode}")
        self.interpolation, self.crop_to_aspect_ratio = interpolation, bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio, self.fill_mode, self.fill_value = bool(pad_to_aspect_ratio), fill_mode, fill_value
        self.antialias = bool(antialias)
        self.data_format = standardize_data_format(data_format, "Resizing")

    def call(self, x):
        check_image_rank(self, x)
        return batched(self._resize, x)

    def _resize(self, x):
        height, width = x.shape[1], x.shape[2]
        if self.crop_to_aspect_ratio:
            top, left, crop_height, crop_width = aspect_crop_box(height, width, self.height, self.width)
            x = x[:, top:top + crop_height, left:left + crop_width, :]
        elif self.pad_to_aspect_ratio:
            pad_height = max(int(width * self.height / self.width), height)
            pad_width = max(int(height * self.width / self.height), width)
            top, left = int((pad_height - height) / 2), int((pad_width - width) / 2)  # each side, as Keras pads
            x = ops.pad(x, [(0, 0), (top, top), (left, left), (0, 0)], constant_values=self.fill_value)
        return resize_images(x, self.height, self.width, self.interpolation, self.dtype, self.antialias)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = list(input_shape)
        shape[-3], shape[-2] = self.height, self.width
        return tuple(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


class CenterCrop(Layer):
    """``CenterCrop(height, width)``: the centred (height, width) window, starting at ((h − height)//2,
    (w − width)//2); an image smaller than that is resized instead (its largest centred box of the target's aspect
    ratio, bilinear), as Keras does."""

    def __init__(self, height: int, width: int, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = positive_int(height, "height", "CenterCrop")
        self.width = positive_int(width, "width", "CenterCrop")
        self.data_format = standardize_data_format(data_format, "CenterCrop")

    def call(self, x):
        check_image_rank(self, x)
        return batched(self._crop, x)

    def _crop(self, x):
        height, width = x.shape[1], x.shape[2]
        if height >= self.height and width >= self.width:
            top, left = (height - self.height) // 2, (width - self.width) // 2
            return x[:, top:top + self.height, left:left + self.width, :]
        top, left, crop_height, crop_width = aspect_crop_box(height, width, self.height, self.width)
        x = x[:, top:top + crop_height, left:left + crop_width, :]
        return resize_images(x, self.height, self.width, "bilinear", self.dtype)

    def compute_output_shape(self, input_shape) -> tuple:
        shape = list(input_shape)
        shape[-3], shape[-2] = self.height, self.width
        return tuple(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "height": self.height, "width": self.width}


# ----- the random augmentations ------------------------------------------------------------------------------------
def mirror_index(index: np.ndarray, size: int) -> np.ndarray:
    """The triangular wave |(i + s) mod 2s − s| with s = size − 1: indices bounced back at both edges."""
    s = size - 1
    return np.abs((index + s) % (2 * s) - s) if s > 0 else np.zeros_like(index)


def fix_index(index: np.ndarray, size: int, fill_mode: str) -> np.ndarray:
    """An index outside [0, size) mapped inside by the fill mode: reflect (d c b a | a b c d | d c b a), wrap
    (a b c d | a b c d), nearest/constant (clamped; constant then fills with ``fill_value``)."""
    if fill_mode == "reflect":
        return (mirror_index(2 * index + 1, 2 * size + 1) - 1) // 2
    if fill_mode == "wrap":
        return index % size
    return np.clip(index, 0, size - 1)


def sampling_nodes(coordinate: np.ndarray, interpolation: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(index, weight) pairs along one axis: the rounded coordinate with weight 1 (nearest), or ⌊c⌋ and ⌊c⌋ + 1 with
    weights 1 − (c − ⌊c⌋) and c − ⌊c⌋ (bilinear)."""
    if interpolation == "nearest":
        return [(np.round(coordinate).astype(np.int64), np.ones_like(coordinate))]
    lower = np.floor(coordinate)
    upper_weight = coordinate - lower
    return [(lower.astype(np.int64), 1.0 - upper_weight), (lower.astype(np.int64) + 1, upper_weight)]


def affine_transform(x, transforms: np.ndarray, interpolation: str, fill_mode: str, fill_value: float):
    """Images (batch, h, w, c) sampled through one transform per image, [a0, a1, a2, b0, b1, b2, c0, c1] (Keras's
    layout): output (y, x) = Σ_k w_k · X[row_k, col_k] over the nodes around (b0·x + b1·y + b2, a0·x + a1·y + a2),
    a node outside the image reading ``fill_value`` in constant mode. Written as one ``take`` per node."""
    batch, height, width, channels = x.shape
    t = np.asarray(transforms, dtype=np.float32).reshape(batch, 8)[:, :, None, None]  # float32, as Keras computes
    ys, xs = np.meshgrid(np.arange(height, dtype=np.float32), np.arange(width, dtype=np.float32), indexing="ij")
    rows = t[:, 3] * xs + t[:, 4] * ys + t[:, 5]
    cols = t[:, 0] * xs + t[:, 1] * ys + t[:, 2]
    flat = ops.reshape(x, (batch * height * width, channels))
    base = (np.arange(batch) * height * width)[:, None, None]
    out, filled = None, np.zeros((batch, height, width), dtype=np.float32)
    for row, row_weight in sampling_nodes(rows, interpolation):
        for col, col_weight in sampling_nodes(cols, interpolation):
            weight = row_weight * col_weight
            if fill_mode == "constant":
                valid = (row >= 0) & (row < height) & (col >= 0) & (col < width)
                filled += weight * ~valid
                weight = weight * valid
            index = base + fix_index(row, height, fill_mode) * width + fix_index(col, width, fill_mode)
            term = ops.multiply(ops.take(flat, index.reshape(-1), axis=0),
                                weight.reshape(-1, 1).astype(x.dtype))
            out = term if out is None else ops.add(out, term)
    if fill_mode == "constant" and fill_value != 0:
        out = ops.add(out, (filled.reshape(-1, 1) * fill_value).astype(x.dtype))
    return ops.reshape(out, (batch, height, width, channels))


def keras_affine_matrix(angle_degrees: np.ndarray, height: int, width: int) -> np.ndarray:
    """Rotation by θ about the image centre ((w − 1)/2, (h − 1)/2) in Keras's layout: a0 = cos θ, a1 = −sin θ,
    a2 = cx − cx·a0 − cy·a1, b0 = sin θ, b1 = cos θ, b2 = cy − cx·b0 − cy·b1 (no shear, scale or shift)."""
    theta = np.asarray(angle_degrees, dtype=np.float64) * np.pi / 180.0
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    cos, sin = np.cos(theta), np.sin(theta)
    a0, a1, b0, b1 = cos, -sin, sin, cos
    zeros = np.zeros_like(theta)
    return np.stack([a0, a1, cx - cx * a0 - cy * a1, b0, b1, cy - cx * b0 - cy * b1, zeros, zeros], axis=1)


def zoom_matrix(height_zoom: np.ndarray, width_zoom: np.ndarray, height: int, width: int) -> np.ndarray:
    """Zoom about the centre: input column = zx·x + (w − 1)/2·(1 − zx), row = zy·y + (h − 1)/2·(1 − zy)."""
    zeros = np.zeros_like(height_zoom)
    return np.stack([width_zoom, zeros, (width - 1) / 2 * (1 - width_zoom), zeros, height_zoom,
                     (height - 1) / 2 * (1 - height_zoom), zeros, zeros], axis=1)


def translation_matrix(dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Shift by (dy, dx) pixels: output (y, x) reads input (y − dy, x − dx)."""
    ones, zeros = np.ones_like(dx), np.zeros_like(dx)
    return np.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)


def factor_range(factor, name: str, bounds: tuple[float, float], message: str) -> tuple[float, float]:
    """(lower, upper) from a number f (→ (−|f|, |f|), clipped to ``bounds``) or a pair (sorted); else Keras's error."""
    def is_number(v):
        return isinstance(v, numbers.Real) and not isinstance(v, bool)

    if isinstance(factor, (list, tuple)) and len(factor) == 2 and all(is_number(v) for v in factor):
        if factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(f"{message} Received: {name}={factor}")
        lower, upper = sorted(float(v) for v in factor)
        return lower, upper
    if is_number(factor) and bounds[0] <= factor <= bounds[1]:
        return max(-abs(float(factor)), bounds[0]), abs(float(factor))
    raise ValueError(f"{message} Received: {name}={factor}")


class RandomImageLayer(Layer):
    """An augmentation: in training, ``transform(images, parameters)`` with parameters drawn per image by
    ``draw(batch, height, width)`` from the layer's generator (``seed`` makes the sequence reproducible); at inference
    the images pass unchanged."""

    def __init__(self, seed: int | None = None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.rng = backend.make_rng(seed)
        self.data_format = standardize_data_format(data_format, type(self).__name__)

    def call(self, x, training: bool = False):
        check_image_rank(self, x)
        if not training:
            return x
        if x.op is None and not x.requires_grad:
            # raw images (the usual place, first in the model): read as data, so that a recorded training step
            # never takes them in and freezes this batch's draws into its replays (the step then runs eagerly)
            x = Tensor(x.numpy())
        return batched(lambda images: self.transform(images, self.draw(*images.shape[:3])), x)

    def draw(self, batch: int, height: int, width: int) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define draw()")

    def transform(self, images, parameters: np.ndarray):
        raise NotImplementedError(f"{type(self).__name__} must define transform()")

    def compute_output_shape(self, input_shape) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "seed": self.seed}


class RandomFlip(RandomImageLayer):
    """``RandomFlip(mode='horizontal_and_vertical', seed=None)``: in training each image is flipped with probability
    ½ — left↔right ('horizontal'), top↔bottom ('vertical'), or both at once ('horizontal_and_vertical', one draw
    for both, as in Keras)."""

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in self.MODES:
            raise ValueError(f"RandomFlip layer {self.name} received an unknown mode argument {mode!r}. Expected "
                             f"one of {self.MODES}.")
        self.mode = mode

    def draw(self, batch: int, height: int, width: int) -> np.ndarray:
        """One flag per image: flipped when a uniform draw is ≤ ½."""
        return self.rng.uniform(size=batch) <= 0.5

    def transform(self, images, flips: np.ndarray):
        """Flipped images are read through reversed indices: rows h − 1 … 0 and/or columns w − 1 … 0."""
        flips = np.asarray(flips, dtype=bool).reshape(-1, 1, 1, 1)
        out = images
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            out = ops.where(flips, ops.take(out, np.arange(images.shape[2])[::-1], axis=2), out)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            out = ops.where(flips, ops.take(out, np.arange(images.shape[1])[::-1], axis=1), out)
        return out

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


class AffineAugmentation(RandomImageLayer):
    """A random affine resampling (rotation, zoom, translation): ``fill_mode`` (reflect, wrap, constant, nearest)
    and ``fill_value`` say what lies outside the image, ``interpolation`` (bilinear, nearest) how pixels blend.
    Subclasses draw Keras's 8-number transforms."""

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if fill_mode not in FILL_MODES:
            raise NotImplementedError(f"Unknown `fill_mode` {fill_mode}. Expected of one {FILL_MODES}.")
        if interpolation not in AFFINE_INTERPOLATIONS:
            raise NotImplementedError(f"Unknown `interpolation` {interpolation}. Expected of one "
                                      f"{AFFINE_INTERPOLATIONS}.")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value

    def transform(self, images, transforms: np.ndarray):
        return affine_transform(images, transforms, self.interpolation, self.fill_mode, self.fill_value)

    def get_config(self) -> dict:
        return {**super().get_config(), "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "interpolation": self.interpolation}


class RandomRotation(AffineAugmentation):
    """``RandomRotation(factor, fill_mode='reflect', interpolation='bilinear', seed=None, fill_value=0.0)``: in
    training each image turns about its centre by an angle drawn uniformly from [lower·360°, upper·360°], where
    ``factor`` f gives (−f, f) and a pair gives (lower, upper); counter-clockwise for a positive angle."""

    MESSAGE = "The `factor` argument should be a number (or a list of two numbers) in the range [-1.0, 1.0]."

    def __init__(self, factor, fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor_range(factor, "factor", (-1.0, 1.0), self.MESSAGE)

    def draw(self, batch: int, height: int, width: int) -> np.ndarray:
        angles = self.rng.uniform(self.factor[0] * 360.0, self.factor[1] * 360.0, size=batch)
        return keras_affine_matrix(angles, height, width)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(AffineAugmentation):
    """``RandomZoom(height_factor, width_factor=None, fill_mode='reflect', ...)``: in training each image is read
    through a zoom about its centre, z ~ U[1 + lower, 1 + upper] per axis (z < 1 zooms in, z > 1 out); without
    ``width_factor`` both axes share the height's draw (the aspect ratio is kept)."""

    MESSAGE = ("The `height_factor` and `width_factor` arguments should be a number (or a list of two numbers) in "
               "the range (-1.0, 1.0].")

    def __init__(self, height_factor, width_factor=None, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = self._zoom_range(height_factor, "height_factor")
        self.width_range = None if width_factor is None else self._zoom_range(width_factor, "width_factor")

    def _zoom_range(self, factor, name: str) -> tuple[float, float]:
        lower, upper = factor_range(factor, name, (-1.0, 1.0), self.MESSAGE)
        if lower <= -1.0:
            raise ValueError(f"{self.MESSAGE} Received: {name}={factor}")
        return lower, upper

    def draw(self, batch: int, height: int, width: int) -> np.ndarray:
        height_zoom = self.rng.uniform(1 + self.height_range[0], 1 + self.height_range[1], size=batch)
        width_zoom = (height_zoom if self.width_range is None else
                      self.rng.uniform(1 + self.width_range[0], 1 + self.width_range[1], size=batch))
        return zoom_matrix(height_zoom, width_zoom, height, width)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomTranslation(AffineAugmentation):
    """``RandomTranslation(height_factor, width_factor, fill_mode='reflect', ...)``: in training each image shifts
    by dy ~ U[lower, upper]·h rows and dx ~ U[lower, upper]·w columns (fractions of its size)."""

    MESSAGE = ("The `height_factor` and `width_factor` arguments should be a number (or a list of two numbers) in "
               "the range [-1.0, 1.0].")

    def __init__(self, height_factor, width_factor, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = factor_range(height_factor, "height_factor", (-1.0, 1.0), self.MESSAGE)
        self.width_range = factor_range(width_factor, "width_factor", (-1.0, 1.0), self.MESSAGE)

    def draw(self, batch: int, height: int, width: int) -> np.ndarray:
        dy = self.rng.uniform(*self.height_range, size=batch) * height
        dx = self.rng.uniform(*self.width_range, size=batch) * width
        return translation_matrix(dy, dx)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomContrast(RandomImageLayer):
    """``RandomContrast(factor, value_range=(0, 255), seed=None)``: in training each image's channels move away from
    (or toward) their mean over the pixels, z = (x − x̄)·c + x̄, clipped to ``value_range``, with c drawn from
    [1 − lower, 1 + upper]. As in Keras 3, a number f gives (lower, upper) = (0, f): c ∈ [1, 1 + f]."""

    MESSAGE = "The `factor` argument should be a number (or a list of two numbers) in the range [0.0, 1.0]."

    def __init__(self, factor, value_range=(0, 255), seed: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_range(factor, "factor", (0.0, 1.0), self.MESSAGE)
        self.value_range = value_range

    def draw(self, batch: int, height: int, width: int) -> np.ndarray:
        return self.rng.uniform(1.0 - self.factor[0], 1.0 + self.factor[1], size=batch)

    def transform(self, images, contrast: np.ndarray):
        mean = ops.mean(images, axis=(1, 2), keepdims=True)
        c = np.asarray(contrast, dtype=images.dtype).reshape(-1, 1, 1, 1)
        out = ops.add(ops.multiply(ops.subtract(images, mean), c), mean)
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}

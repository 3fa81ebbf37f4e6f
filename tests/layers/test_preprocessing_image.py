"""Normalization and the image preprocessing layers against Keras 3 on torch: outputs from the same statistics
(adapt included), configs, weights and summary rows; Resizing/CenterCrop value for value; the random augmentations
through a fixed transform (Keras's own transform function with the same parameters), identity at inference, and
the statistics of their draws with a seed."""

import numpy as np
import pytest
import torch

import glassnet as gk
from glassnet import layers
from glassnet.autodiff import Tensor
from glassnet.layers import image_preprocessing as ip
from tests.layers.keras_peer import TOLERANCE, comparable, round_trips, same_layer

RNG = np.random.default_rng(16)
X_FLAT = (3 * RNG.normal(size=(40, 4)) + 1).astype("float32")
X_IMG = RNG.uniform(0, 255, size=(2, 7, 9, 3)).astype("float32")

CASES = {
    "normalization-given": ((4,), "Normalization", {"mean": [1.0, 2.0, 3.0, 4.0], "variance": [1.0, 4.0, 0.5, 2.0]}),
    "normalization-scalar": ((4,), "Normalization", {"mean": 2.0, "variance": 3.0}),
    "normalization-invert": ((4,), "Normalization", {"mean": [1.0, 2.0, 3.0, 4.0], "variance": [1.0, 4.0, 0.5, 2.0],
                                                      "invert": True}),
    "resizing": ((7, 9, 3), "Resizing", {"height": 4, "width": 5}),
    "resizing-up": ((7, 9, 3), "Resizing", {"height": 13, "width": 11}),
    "resizing-nearest": ((7, 9, 3), "Resizing", {"height": 4, "width": 12, "interpolation": "nearest"}),
    "resizing-antialias": ((7, 9, 3), "Resizing", {"height": 3, "width": 11, "antialias": True}),
    "resizing-bicubic": ((7, 9, 3), "Resizing", {"height": 12, "width": 5, "interpolation": "bicubic"}),
    "resizing-crop": ((7, 9, 3), "Resizing", {"height": 5, "width": 5, "crop_to_aspect_ratio": True}),
    "resizing-pad": ((7, 9, 3), "Resizing", {"height": 6, "width": 3, "pad_to_aspect_ratio": True,
                                             "fill_value": 2.0}),
    "center-crop": ((7, 9, 3), "CenterCrop", {"height": 3, "width": 4}),
    "center-crop-larger": ((7, 9, 3), "CenterCrop", {"height": 8, "width": 12}),
    "random-flip": ((7, 9, 3), "RandomFlip", {"mode": "horizontal", "seed": 3}),
    "random-rotation": ((7, 9, 3), "RandomRotation", {"factor": 0.2, "fill_mode": "constant", "seed": 1}),
    "random-zoom": ((7, 9, 3), "RandomZoom", {"height_factor": (-0.3, 0.2), "width_factor": 0.1}),
    "random-translation": ((7, 9, 3), "RandomTranslation", {"height_factor": 0.1, "width_factor": (-0.2, 0.3),
                                                            "interpolation": "nearest"}),
    "random-contrast": ((7, 9, 3), "RandomContrast", {"factor": 0.4, "value_range": (0, 1)}),
}


@pytest.mark.parametrize("case", CASES)
def test_same_as_keras_at_inference(keras, case):
    """Inference outputs, weights, configs and summaries equal Keras's (the random layers are the identity)."""
    input_shape, name, config = CASES[case]
    same_layer(keras, input_shape, name, config, X_FLAT[:5] if len(input_shape) == 1 else X_IMG / 255)


@pytest.mark.parametrize("batches", [1, 3])
def test_normalization_adapt_as_keras(keras, batches):
    """adapt on one array (as Keras) or on a list of batches (Keras's running pooling; Keras itself needs
    TensorFlow to read an iterable, so its whole-array statistics are the reference): mean, variance, count and
    the outputs, for one feature axis and for axis=None."""
    for axis in (-1, None):
        k = keras.layers.Normalization(axis=axis)
        k.adapt(X_FLAT)
        g = layers.Normalization(axis=axis)
        g.adapt(X_FLAT if batches == 1 else np.array_split(X_FLAT, batches))
        for got, expected in zip(g.get_weights(), k.get_weights()):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        assert g.mean.shape == tuple(k.mean.shape) and g.variance.shape == tuple(k.variance.shape)
        np.testing.assert_allclose(g(X_FLAT).numpy(), keras.ops.convert_to_numpy(k(X_FLAT)), **TOLERANCE)
        assert [w.name.split("/")[-1] for w in g.weights] == ["mean", "variance", "count"]
        assert g.get_weights()[2].dtype == np.int32


def test_normalization_adapt_on_a_pydataset_and_image_axes(keras):
    """A PyDataset's (x, y) batches adapt on x; per-channel statistics of images (axis=-1) equal Keras's."""
    class Batches(gk.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return X_IMG[i:i + 1], np.zeros(1)

    g = layers.Normalization()
    g.adapt(Batches())
    k = keras.layers.Normalization()
    k.adapt(X_IMG)
    np.testing.assert_allclose(g.get_weights()[0], k.get_weights()[0], rtol=1e-5)
    np.testing.assert_allclose(g.get_weights()[1], k.get_weights()[1], rtol=1e-5)
    np.testing.assert_allclose(g(X_IMG).numpy(), keras.ops.convert_to_numpy(k(X_IMG)), **TOLERANCE)


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0])
    with pytest.raises(ValueError, match="incompatible shape"):
        g = layers.Normalization()
        g.adapt(X_FLAT)
        g.adapt(X_IMG)
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt([])


def test_normalization_trains_inside_a_model(keras):
    """An adapted Normalization before a Dense: fit runs and its statistics stay as adapted (non-trainable)."""
    norm = layers.Normalization()
    norm.adapt(X_FLAT)
    before = norm.get_weights()
    model = gk.Sequential([gk.Input((4,)), norm, layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(X_FLAT, X_FLAT[:, :1] * 2, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    for got, expected in zip(norm.get_weights(), before):
        np.testing.assert_array_equal(got, expected)


def keras_affine(keras, layer_name, images, matrix, **config):
    """Keras's own transform of ``images`` through ``matrix`` (the layer's affine_transform on torch)."""
    layer = getattr(keras.layers, layer_name)(**config)
    return keras.ops.convert_to_numpy(keras.src.backend.torch.image.affine_transform(
        torch.tensor(images), torch.tensor(np.array(matrix, dtype="float32")), layer.interpolation,
        layer.fill_mode, layer.fill_value))


@pytest.mark.parametrize("fill_mode", ip.FILL_MODES)
@pytest.mark.parametrize("interpolation", ip.AFFINE_INTERPOLATIONS)
def test_rotation_transform_equals_keras(keras, fill_mode, interpolation):
    """Rotating by known angles: Keras's rotation matrix for the same angles, and its resampled images."""
    angles = np.array([37.0, -113.0], dtype="float32")
    k_layer = keras.layers.RandomRotation(0.5)
    zeros = torch.zeros(2)
    expected_matrix = keras.ops.convert_to_numpy(k_layer._compute_affine_matrix(
        0.5, 0.5, torch.tensor(angles), zeros, zeros, torch.ones(2), zeros, zeros, 7, 9))
    matrix = ip.keras_affine_matrix(angles, 7, 9)
    np.testing.assert_allclose(matrix, expected_matrix, rtol=1e-5, atol=1e-5)
    g = layers.RandomRotation(0.5, fill_mode=fill_mode, interpolation=interpolation, fill_value=7.0)
    got = g.transform(Tensor(X_IMG), matrix).numpy()
    expected = keras_affine(keras, "RandomRotation", X_IMG, matrix, factor=0.5, fill_mode=fill_mode,
                            interpolation=interpolation, fill_value=7.0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)  # pixel values up to 255


def test_zoom_and_translation_transforms_equal_keras(keras):
    """Known zooms and shifts: Keras's matrices (its layers' own helpers) and its resampled images."""
    zooms = np.array([[0.7, 1.3], [1.2, 0.9]], dtype="float32")  # (width zoom, height zoom) per image
    k_zoom = keras.layers.RandomZoom(0.3)
    expected = keras.ops.convert_to_numpy(k_zoom._get_zoom_matrix(torch.tensor(zooms), 7, 9))
    np.testing.assert_allclose(ip.zoom_matrix(zooms[:, 1], zooms[:, 0], 7, 9), expected, rtol=1e-6, atol=1e-6)
    shifts = np.array([[2.5, -1.0], [-3.0, 1.7]], dtype="float32")  # (dx, dy) per image
    k_shift = keras.layers.RandomTranslation(0.3, 0.3)
    expected = keras.ops.convert_to_numpy(k_shift._get_translation_matrix(torch.tensor(shifts)))
    matrix = ip.translation_matrix(shifts[:, 1], shifts[:, 0])
    np.testing.assert_allclose(matrix, expected, rtol=1e-6)
    for fill_mode in ip.FILL_MODES:
        got = layers.RandomTranslation(0.3, 0.3, fill_mode=fill_mode).transform(Tensor(X_IMG), matrix).numpy()
        np.testing.assert_allclose(got, keras_affine(keras, "RandomTranslation", X_IMG, matrix, height_factor=0.3,
                                                     width_factor=0.3, fill_mode=fill_mode), rtol=1e-5, atol=1e-3)


def test_flip_and_contrast_transforms_equal_keras(keras):
    """Flips forced on one image and off on the other, and known contrast factors: Keras's transform_images."""
    flips = np.array([True, False])
    for mode in layers.RandomFlip.MODES:
        k = keras.layers.RandomFlip(mode)
        expected = keras.ops.convert_to_numpy(k.transform_images(
            torch.tensor(X_IMG), {"flips": torch.tensor(flips.reshape(2, 1, 1, 1)), "input_shape": X_IMG.shape}))
        np.testing.assert_array_equal(layers.RandomFlip(mode).transform(Tensor(X_IMG), flips).numpy(), expected)
    factors = np.array([0.5, 1.8], dtype="float32")
    k = keras.layers.RandomContrast(0.9)
    expected = keras.ops.convert_to_numpy(k.transform_images(
        torch.tensor(X_IMG), {"contrast_factor": torch.tensor(factors.reshape(2, 1, 1, 1))}))
    got = layers.RandomContrast(0.9).transform(Tensor(X_IMG), factors).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("name, config", [
    ("RandomFlip", {}), ("RandomRotation", {"factor": 0.1}), ("RandomZoom", {"height_factor": 0.2}),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.2}), ("RandomContrast", {"factor": 0.5}),
])
def test_augmentations_act_only_in_training(name, config):
    """Identity at inference (also by default and inside predict); in training a change of the same shape, and the
    same seed gives the same images."""
    x = X_IMG
    layer = getattr(layers, name)(seed=5, **config)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    model = gk.Sequential([gk.Input(x.shape[1:]), layer])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    draws = [getattr(layers, name)(seed=5, **config)(np.repeat(x, 8, axis=0), training=True).numpy()
             for _ in range(2)]
    assert draws[0].shape == (16, *x.shape[1:])
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.allclose(draws[0], np.repeat(x, 8, axis=0))


def test_draws_follow_keras_ranges():
    """Seeded draws over many images: flips with probability ½, angles in [lower·360°, upper·360°] and uniform,
    zooms in [1 + lower, 1 + upper], contrast factors in [1, 1 + f] (Keras 3's range for a number f)."""
    flips = layers.RandomFlip(seed=0).draw(20000, 4, 4)
    assert abs(flips.mean() - 0.5) < 0.02
    matrices = layers.RandomRotation((-0.1, 0.25), seed=0).draw(20000, 5, 5)
    angles = np.degrees(np.arctan2(matrices[:, 3], matrices[:, 0]))  # b0 = sin θ, a0 = cos θ
    assert angles.min() >= -36.0 and angles.max() <= 90.0 and abs(angles.mean() - 27.0) < 1.0
    zooms = layers.RandomZoom((-0.3, 0.2), seed=0).draw(20000, 5, 5)[:, 4]
    assert zooms.min() >= 0.7 and zooms.max() <= 1.2 and abs(zooms.mean() - 0.95) < 0.01
    contrast = layers.RandomContrast(0.4, seed=0).draw(20000, 5, 5)
    assert contrast.min() >= 1.0 and contrast.max() <= 1.4


def test_image_layer_errors():
    with pytest.raises(ValueError, match=r"rank 4 \(batch, height, width, channels\).*received shape \(5, 6\)"):
        layers.Resizing(2, 2)(np.zeros((5, 6), "float32"))
    with pytest.raises(ValueError, match="interpolation"):
        layers.Resizing(2, 2, interpolation="lanczos3")
    with pytest.raises(ValueError, match="antialiases bilinear resizing only"):
        layers.Resizing(2, 2, interpolation="bicubic", antialias=True)
    with pytest.raises(ValueError, match="Only one of"):
        layers.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="factor"):
        layers.RandomRotation(1.5)
    with pytest.raises(ValueError, match="unknown mode"):
        layers.RandomFlip("diagonal")
    with pytest.raises(NotImplementedError, match="fill_mode"):
        layers.RandomZoom(0.1, fill_mode="mirror")


def test_configs_rebuild(keras):
    """Every image layer's config has Keras's keys and values and rebuilds the same layer."""
    for name, config in [("RandomZoom", {"height_factor": 0.1}), ("RandomContrast", {"factor": 0.2}),
                         ("Normalization", {})]:
        g, k = getattr(layers, name)(**config), getattr(keras.layers, name)(**config)
        assert comparable(g.get_config()) == comparable(k.get_config())
        assert layers.deserialize(layers.serialize(g)).get_config() == g.get_config()


def test_fit_draws_new_augmentations_every_batch():
    """In fit, each batch is augmented with new draws (a recorded step must not replay the first batch's): the
    flips and angles drawn over 2 epochs of 5 batches are at least one per batch, and all different."""
    x = RNG.uniform(size=(40, 6, 6, 1)).astype("float32")
    y = RNG.uniform(size=(40, 1)).astype("float32")
    rotation = layers.RandomRotation(0.2, seed=2)
    drawn = []
    original = rotation.draw
    rotation.draw = lambda *shape: drawn.append(original(*shape)) or drawn[-1]
    model = gk.Sequential([gk.Input((6, 6, 1)), rotation, layers.Flatten(), layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert len(drawn) >= 10
    assert len({matrix.tobytes() for matrix in drawn}) == len(drawn)


def test_models_with_preprocessing_round_trip_through_keras_files(keras, tmp_path):
    """An adapted Normalization, and the image layers, saved in glassnet's format and as .keras files: glassnet and
    Keras load them back and predict the same."""
    norm = layers.Normalization()
    norm.adapt(X_FLAT)
    round_trips(keras, gk.Sequential([gk.Input((4,)), norm, layers.Dense(2)]), X_FLAT[:8], tmp_path)
    images = gk.Sequential([gk.Input((7, 9, 3)), layers.RandomFlip(), layers.RandomRotation(0.1),
                            layers.Resizing(5, 6), layers.CenterCrop(4, 4), layers.Flatten(), layers.Dense(2)])
    round_trips(keras, images, X_IMG / 255, tmp_path)


def test_single_images_without_a_batch_axis(keras):
    """A (height, width, channels) image is resized, cropped and augmented as a batch of one, as in Keras."""
    image = X_IMG[0]
    for name, config in [("Resizing", {"height": 4, "width": 5}), ("CenterCrop", {"height": 3, "width": 3}),
                         ("Resizing", {"height": 5, "width": 5, "crop_to_aspect_ratio": True})]:
        expected = keras.ops.convert_to_numpy(getattr(keras.layers, name)(**config)(image))
        got = getattr(layers, name)(**config)(image).numpy()
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)
    assert layers.RandomRotation(0.3, seed=1)(image, training=True).shape == image.shape


@pytest.mark.parametrize("axis", [(1, 2), (-3,), None])
def test_normalization_over_image_axes_as_keras(keras, axis):
    """Statistics per pixel position (axis=(1, 2)), per row, or one for all: weights and outputs as Keras's."""
    k = keras.layers.Normalization(axis=axis)
    k.adapt(X_IMG)
    g = layers.Normalization(axis=axis)
    g.adapt(X_IMG)
    for got, expected in zip(g.get_weights(), k.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(g(X_IMG).numpy(), keras.ops.convert_to_numpy(k(X_IMG)), **TOLERANCE)
    assert g.mean.shape == tuple(k.mean.shape)

"""Shaping layers (Reshape, Permute, RepeatVector, ZeroPadding2D, Cropping2D, UpSampling2D): the same program in
Keras 3 and glassnet (outputs, shapes, summary rows, configs), their gradients, Keras files both ways, and the
errors a user meets."""


import numpy as np
import pytest

import glassnet as gk
from glassnet import layers
from glassnet.autodiff import Tensor, gradcheck, ops_shape
from tests.layers.keras_peer import TOLERANCE, round_trips, same_layer, summary_text

RNG = np.random.default_rng(16)
X_FLAT = RNG.normal(size=(3, 12)).astype("float32")
X_SEQ = RNG.normal(size=(3, 4, 5)).astype("float32")
X_IMG = RNG.normal(size=(2, 5, 6, 3)).astype("float32")

CASES = {
    "reshape": ((12,), "Reshape", {"target_shape": (3, 4)}, X_FLAT),
    "reshape-inferred": ((12,), "Reshape", {"target_shape": (-1, 2, 3)}, X_FLAT),
    "reshape-rank3": ((4, 5), "Reshape", {"target_shape": (20,)}, X_SEQ),
    "permute": ((4, 5), "Permute", {"dims": (2, 1)}, X_SEQ),
    "permute-image": ((5, 6, 3), "Permute", {"dims": (3, 1, 2)}, X_IMG),
    "repeat-vector": ((12,), "RepeatVector", {"n": 3}, X_FLAT),
    "zero-padding-default": ((5, 6, 3), "ZeroPadding2D", {}, X_IMG),
    "zero-padding-int": ((5, 6, 3), "ZeroPadding2D", {"padding": 2}, X_IMG),
    "zero-padding-pair": ((5, 6, 3), "ZeroPadding2D", {"padding": (1, 3)}, X_IMG),
    "zero-padding-pairs": ((5, 6, 3), "ZeroPadding2D", {"padding": ((0, 2), (1, 0))}, X_IMG),
    "cropping-default": ((5, 6, 3), "Cropping2D", {}, X_IMG),
    "cropping-int": ((5, 6, 3), "Cropping2D", {"cropping": 1}, X_IMG),
    "cropping-pair": ((5, 6, 3), "Cropping2D", {"cropping": (2, 1)}, X_IMG),
    "cropping-pairs": ((5, 6, 3), "Cropping2D", {"cropping": ((0, 2), (3, 1))}, X_IMG),
    "upsampling-default": ((5, 6, 3), "UpSampling2D", {}, X_IMG),
    "upsampling-uneven": ((5, 6, 3), "UpSampling2D", {"size": (1, 3)}, X_IMG),
    "upsampling-int": ((5, 6, 3), "UpSampling2D", {"size": 3}, X_IMG),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_layer_is_the_keras_layer(keras, case):
    input_shape, name, config, x = CASES[case]
    same_layer(keras, input_shape, name, config, x)


def test_shaping_layers_together_match_keras_with_weights(keras):
    """A small model mixing the shaping layers with Dense and Conv2D, glassnet's weights set from Keras's."""
    x = RNG.normal(size=(2, 12)).astype("float32")

    def make(ls):
        return [ls.Reshape((3, 4, 1)), ls.ZeroPadding2D(1), ls.Conv2D(2, 3), ls.UpSampling2D((2, 1)),
                ls.Cropping2D(((1, 1), (0, 1))), ls.Permute((2, 1, 3)), ls.Reshape((-1,)), ls.Dense(3),
                ls.RepeatVector(2)]

    keras.utils.clear_session(free_memory=False)
    km = keras.Sequential([keras.Input((12,)), *make(keras.layers)])
    gm = gk.Sequential([gk.Input((12,)), *make(layers)])
    gm.set_weights(km.get_weights())
    np.testing.assert_allclose(gm(x).numpy(), keras.ops.convert_to_numpy(km(x)), **TOLERANCE)
    assert gm.count_params() == km.count_params()
    assert [gm.output_shape_of(layer) for layer in gm.layers] == [tuple(layer.output.shape) for layer in km.layers]
    assert summary_text(gm) == summary_text(km)


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # no optimizer state is written
def test_shaping_model_round_trips_through_keras_files(keras, tmp_path):
    pytest.importorskip("h5py", reason="Keras .keras files need the 'keras-files' extra (h5py)")
    x = RNG.normal(size=(2, 12)).astype("float32")
    model = gk.Sequential([gk.Input((12,)), layers.Reshape((3, 4, 1)), layers.ZeroPadding2D(((1, 0), (2, 1))),
                           layers.UpSampling2D(2), layers.Cropping2D(1), layers.Permute((2, 1, 3)),
                           layers.Reshape((-1,)), layers.Dense(3), layers.RepeatVector(2)])
    round_trips(keras, model, x, tmp_path)


# ----- gradients ------------------------------------------------------------------------------------------------
def test_pad_op_gradcheck_and_values():
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 2))
    z = ops_shape.Pad.apply(Tensor(x), pad_width=((0, 0), (1, 2), (0, 1), (0, 0))).numpy()
    np.testing.assert_array_equal(z, np.pad(x, ((0, 0), (1, 2), (0, 1), (0, 0))))
    assert gradcheck(lambda t: ops_shape.Pad.apply(t, pad_width=((0, 0), (1, 2), (0, 1), (0, 0))), [x])


@pytest.mark.parametrize("make", [
    lambda: layers.Reshape((-1, 3), dtype="float64"), lambda: layers.Permute((3, 1, 2), dtype="float64"),
    lambda: layers.ZeroPadding2D(((1, 0), (0, 2)), dtype="float64"),
    lambda: layers.Cropping2D(((1, 0), (0, 1)), dtype="float64"), lambda: layers.UpSampling2D((2, 3), dtype="float64"),
], ids=["reshape", "permute", "zero-padding", "cropping", "upsampling"])
def test_image_layers_gradcheck(make):
    layer = make()  # float64, so the perturbed inputs are not cast to float32
    x = np.random.default_rng(2).normal(size=(2, 3, 4, 2))
    assert gradcheck(lambda t: layer(t), [x])


def test_repeat_vector_gradient_sums_the_copies():
    layer = layers.RepeatVector(4, dtype="float64")
    x = np.random.default_rng(3).normal(size=(2, 3))
    assert gradcheck(lambda t: layer(t), [x])
    t = gk.Variable(x)
    gk.ops.sum(layer(t)).backward()
    np.testing.assert_array_equal(t.grad, np.full((2, 3), 4.0))


def test_upsampling_repeats_each_pixel():
    x = np.arange(4.0).reshape(1, 2, 2, 1)
    got = layers.UpSampling2D((2, 3))(x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(got, np.repeat(np.repeat(x[0, :, :, 0], 2, axis=0), 3, axis=1))


def test_shaping_model_trains_on_batches_of_any_size():
    """A replayed step pads, crops and repeats a last batch smaller than the others."""
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(10, 12)).astype("float32"), rng.normal(size=(10, 2, 3)).astype("float32")
    model = gk.Sequential([gk.Input((12,)), layers.Reshape((3, 4, 1)), layers.ZeroPadding2D(1),
                           layers.UpSampling2D(2), layers.Cropping2D(2), layers.Flatten(), layers.Dense(3),
                           layers.RepeatVector(2)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert "eager" not in model._cached_step.plans.values()  # both batch sizes replayed, none fell back


# ----- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.Reshape((-1, -1)), ValueError, "at most one unknown dimension"),
    (lambda: layers.Permute((1, 3)), ValueError, "must be consecutive and start from 1. Received dims=(1, 3)"),
    (lambda: layers.Permute((0, 1)), ValueError, "must be consecutive and start from 1"),
    (lambda: layers.RepeatVector(2.5), TypeError, "Expected an integer value for `n`"),
    (lambda: layers.RepeatVector(0), ValueError, "received n=0"),
    (lambda: layers.ZeroPadding2D((1, 2, 3)), ValueError, "`padding` should have two elements. Received: padding"),
    (lambda: layers.ZeroPadding2D(((1, 2, 3), 1)), ValueError, "`padding[0]` should be an int or a pair"),
    (lambda: layers.ZeroPadding2D("same"), ValueError, "`padding` should be either an int"),
    (lambda: layers.ZeroPadding2D(-1), ValueError, "must not be negative"),
    (lambda: layers.Cropping2D((1, 2, 3)), ValueError, "`cropping` should have two elements. Received: cropping"),
    (lambda: layers.UpSampling2D(interpolation="bilinear"), NotImplementedError, "interpolation='nearest' only"),
    (lambda: layers.UpSampling2D((1, 2, 3)), ValueError, "must be a tuple of 2 integers"),
    (lambda: layers.ZeroPadding2D(data_format="channels_first"), NotImplementedError, "channels_last"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        make()


@pytest.mark.parametrize("layer, shape, message", [
    (lambda: layers.Reshape((5,)), (2, 6), r"total size of the tensor must be unchanged. Received: "
                                           r"input_shape=\(6,\), target_shape=\(5,\)"),
    (lambda: layers.Reshape((5, -1)), (2, 6), r"cannot by divided by the specified dimensions in target_shape"),
    (lambda: layers.Permute((2, 1)), (2, 3), r"Permute 'permute' expects inputs with 3 dimensions, received "
                                             r"shape \(2, 3\)"),
    (lambda: layers.RepeatVector(2), (2, 3, 4), r"RepeatVector 'repeat_vector' expects inputs of rank 2 "
                                                  r"\(batch, features\), received shape \(2, 3, 4\)"),
    (lambda: layers.ZeroPadding2D(1), (2, 3, 4), r"ZeroPadding2D 'zero_padding2d' expects inputs of rank 4 "
                                                 r"\(batch, height, width, channels\), received shape \(2, 3, 4\)"),
    (lambda: layers.Cropping2D(1), (2, 3, 4), r"Cropping2D 'cropping2d' expects inputs of rank 4"),
    (lambda: layers.Cropping2D(2), (2, 3, 4, 1), r"Values in `cropping` argument should be smaller than the "
                                                 r"corresponding spatial dimension"),
    (lambda: layers.UpSampling2D(2), (2, 3, 4), r"UpSampling2D 'up_sampling2d' expects inputs of rank 4"),
])
def test_wrong_inputs_are_refused(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer()(np.zeros(shape, dtype="float32"))

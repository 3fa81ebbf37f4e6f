"""Masking: the same layer as Keras 3 (outputs, masks, config, summary rows), the mask it hands to the layers
after it, its gradient, Keras files both ways, and the errors a user meets."""

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers, ops
from glassnet.autodiff import Variable
from glassnet.layers.masking import Masking
from tests.layers.keras_peer import TOLERANCE, round_trips, same_layer

RNG = np.random.default_rng(19)
X = RNG.normal(size=(3, 5, 4)).astype("float32")
X[:, 1] = 0  # a padded timestep in every sequence
X[2, 3:] = 0
X[0, 4, :2] = 0  # partly zero: not masked
X_MINUS_ONE = np.where(X == 0, -1, X).astype("float32")


@pytest.mark.parametrize("config, x", [({}, X), ({"mask_value": -1.0}, X_MINUS_ONE), ({"mask_value": 2}, X)],
                         ids=["zero", "minus-one", "int-value"])
def test_layer_is_the_keras_layer(keras, config, x):
    km, gm = same_layer(keras, (5, 4), "Masking", config, x)
    kl, gl = km.layers[0], gm.layers[0]
    expected = keras.ops.convert_to_numpy(kl.compute_mask(x))
    np.testing.assert_array_equal(gl.compute_mask(x).numpy(), expected)
    np.testing.assert_array_equal(gl(x)._keras_mask.numpy(), keras.ops.convert_to_numpy(kl(x)._keras_mask))
    assert gm.count_params() == 0


def test_masked_timesteps_are_zeroed_and_masked():
    out = Masking(mask_value=-1.0)(X_MINUS_ONE)
    keep = np.array([[1, 0, 1, 1, 1], [1, 0, 1, 1, 1], [1, 0, 1, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(out._keras_mask.numpy(), keep)
    np.testing.assert_array_equal(out.numpy(), np.where(keep[..., None], X_MINUS_ONE, 0))


def test_gradient_flows_only_through_kept_timesteps():
    x = Variable(X)
    ops.sum(Masking()(x)).backward()
    keep = np.any(X != 0, axis=-1, keepdims=True)
    np.testing.assert_array_equal(x.grad, np.broadcast_to(keep, X.shape).astype("float32"))


def test_mask_reaches_batch_normalization(keras):
    """Masking → BatchNormalization in training: the masked timesteps do not count in the batch statistics."""
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km = keras.Sequential([keras.Input((5, 4)), keras.layers.Masking(), keras.layers.BatchNormalization()])
    gm = gk.Sequential([gk.Input((5, 4)), Masking(), layers.BatchNormalization()])
    expected = keras.ops.convert_to_numpy(km(X, training=True))
    np.testing.assert_allclose(gm(X, training=True).numpy(), expected, **TOLERANCE)
    for got, want in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, want, **TOLERANCE)
    kept = X[np.any(X != 0, axis=-1)]
    np.testing.assert_allclose(gm.layers[1].moving_mean.numpy(), 0.01 * kept.mean(axis=0), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("first", ["masking", "embedding"])
def test_masks_travel_through_a_functional_model(keras, first):
    """Input → Masking (or Embedding(mask_zero=True)) → BatchNormalization as a functional Model, in training: the
    same outputs and moving statistics as Keras's."""
    def build(k):
        inputs = k.Input((5, 4)) if first == "masking" else k.Input((7,))
        masked = k.layers.Masking()(inputs) if first == "masking" else k.layers.Embedding(20, 3, mask_zero=True)(inputs)
        return k.Model(inputs, k.layers.BatchNormalization(momentum=0.5)(masked))

    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    x = X if first == "masking" else np.array([[3, 1, 7, 0, 0, 0, 0], [19, 2, 2, 2, 5, 0, 0]])
    km, gm = build(keras), build(gk)
    gm.set_weights(km.get_weights())
    expected = keras.ops.convert_to_numpy(km(x, training=True))
    np.testing.assert_allclose(gm(x, training=True).numpy(), expected, **TOLERANCE)
    for got, want in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, want, **TOLERANCE)


def test_a_masked_model_trains_on_replayed_steps():
    """fit replays the recorded step: the mask is recomputed from each new batch (no batch's mask is frozen)."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(32, 5, 4)).astype("float32")
    x[rng.random((32, 5)) < 0.3] = 0
    y = rng.normal(size=(32, 1)).astype("float32")
    model = gk.Sequential([gk.Input((5, 4)), Masking(), layers.BatchNormalization(), layers.Flatten(),
                           layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    (entry,) = model._cached_step.plans.values()
    assert entry != "eager" and entry.verified


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.filterwarnings("ignore:Layer 'flatten' .* does not support masking")  # Keras: Flatten drops the mask
def test_model_round_trips_through_keras_files(keras, tmp_path):
    pytest.importorskip("h5py", reason="Keras .keras files need the 'keras-files' extra (h5py)")
    model = gk.Sequential([gk.Input((5, 4)), Masking(mask_value=-1.0), layers.Flatten(), layers.Dense(2)])
    round_trips(keras, model, X_MINUS_ONE, tmp_path)


def test_bad_mask_value_is_refused():
    with pytest.raises(ValueError, match=r"Masking: `mask_value` must be a number, received mask_value='pad'"):
        Masking(mask_value="pad")

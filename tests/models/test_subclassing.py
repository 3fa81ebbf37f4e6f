"""Subclassed models and custom layers against Keras 3: the same class body (only the import changed) gives the
same weights, order and names, the same outputs from the same weights, and the same weights after training."""

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers as glayers
from tests.layers.keras_peer import TOLERANCE

RNG = np.random.default_rng(1)
X = RNG.normal(size=(16, 4)).astype("float32")
Y = RNG.normal(size=(16, 1)).astype("float32")


def classes(k):
    """Chollet-style custom layer (a sublayer and its own weight) and a subclassed model, written against ``k``."""

    class Block(k.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.inner = k.layers.Dense(units, activation="relu")

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(self.units,), initializer="ones", name="scale")

        def call(self, x):
            return self.inner(x) * self.scale

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    class Regressor(k.Model):
        def __init__(self, rate=0.0, **kwargs):
            super().__init__(**kwargs)
            self.block = Block(8)
            self.drop = k.layers.Dropout(rate)
            self.head = k.layers.Dense(1)

        def call(self, inputs, training=None):
            return self.head(self.drop(self.block(inputs)))

    return Block, Regressor


def pair(keras, **kwargs):
    keras.utils.clear_session(free_memory=False)
    glayers.reset_uids()
    km, gm = classes(keras)[1](**kwargs), classes(gk)[1](**kwargs)
    km(X[:2]), gm(X[:2])
    gm.set_weights([RNG.normal(size=w.shape).astype("float32") * 0.5 for w in gm.get_weights()])
    km.set_weights(gm.get_weights())
    return km, gm


def test_weights_layers_and_outputs_match_keras(keras):
    km, gm = pair(keras)
    assert gm.name == km.name == "regressor"
    assert [layer.name for layer in gm.layers] == [layer.name for layer in km.layers]
    assert [w.name for w in gm.weights] == [w.path.split("/", 1)[1].replace("block/dense", "dense")
                                            for w in km.weights]
    assert gm.count_params() == km.count_params() == 4 * 8 + 8 + 8 + 8 + 1
    np.testing.assert_allclose(gm.predict(X, verbose=0), km.predict(X, verbose=0), **TOLERANCE)


def test_training_matches_keras(keras):
    km, gm = pair(keras)
    for k, model in ((keras, km), (gk, gm)):
        model.compile(optimizer=k.optimizers.SGD(0.05), loss="mse")
        model.fit(X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    for got, expected in zip(gm.get_weights(), km.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, **TOLERANCE)
    assert "W1" in gm.step_source() and "scale" in gm.step_source()


def test_a_sublayer_called_without_training_follows_the_model(keras):
    _, gm = pair(keras, rate=0.5)
    inference = gm(X, training=False).numpy()
    np.testing.assert_array_equal(inference, gm(X).numpy())  # outside fit: inference
    assert not np.allclose(gm(X, training=True).numpy(), inference)  # the Dropout inside saw training=True


def test_custom_layer_config_rebuilds_it():
    block_class = classes(gk)[0]
    block = block_class(3, name="b")
    block(X)
    clone = block_class.from_config(block.get_config())
    assert clone.units == 3 and clone.name == "b"
    clone(X)
    clone.set_weights(block.get_weights())
    np.testing.assert_array_equal(clone(X).numpy(), block(X).numpy())


def test_freezing_a_model_freezes_its_layers(keras):
    km, gm = pair(keras)
    for model in (km, gm):
        model.trainable = False
    assert len(gm.trainable_weights) == len(km.trainable_weights) == 0
    assert len(gm.non_trainable_weights) == len(km.non_trainable_weights) == 5
    gm.trainable = True
    assert len(gm.trainable_weights) == 5


def test_a_model_without_call_says_what_to_write():
    class Empty(gk.Model):
        pass

    with pytest.raises(NotImplementedError, match="call"):
        Empty()(X)

"""A custom train_step/test_step, written as the Keras guide writes it for the torch backend (zero_grad,
compute_loss, backward, optimizer.apply, model.metrics), trains and evaluates as Keras 3 does from the same weights."""

import numpy as np
import pytest
import torch

import glassnet as gk
from glassnet import layers
from tests.layers.keras_peer import TOLERANCE

RNG = np.random.default_rng(7)
X = RNG.normal(size=(32, 4)).astype("float32")
Y = RNG.normal(size=(32, 1)).astype("float32")


def custom_model_class(k, gradients_of):
    """The same subclass in both libraries; only how a gradient is read differs (torch's ``v.value.grad``)."""

    class CustomModel(k.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
            loss.backward()
            weights = self.trainable_weights
            self.optimizer.apply(gradients_of(weights), weights)
            return self.logs_after(loss, y, y_pred)

        def logs_after(self, loss, y, y_pred):
            """The guide's metric update: the loss tracker gets the loss, compile_metrics the predictions."""
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
            return self.logs_after(loss, y, y_pred)

    return CustomModel


def build(k, gradients_of):
    inputs = k.Input(shape=(4,), name="x")
    hidden = k.layers.Dense(8, activation="tanh", name="hidden")(inputs)
    outputs = k.layers.Dense(1, name="out")(hidden)
    return custom_model_class(k, gradients_of)(inputs, outputs, name="custom")


def torch_gradients(weights):
    with torch.no_grad():
        return [w.value.grad for w in weights]


def test_custom_train_step_trains_like_keras(keras):
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km = build(keras, torch_gradients)
    gm = build(gk, lambda weights: [w.grad for w in weights])
    gm.set_weights([RNG.normal(size=w.shape).astype("float32") * 0.5 for w in gm.get_weights()])
    km.set_weights(gm.get_weights())
    histories = []
    for k, model in ((keras, km), (gk, gm)):
        model.compile(optimizer=k.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
        histories.append(model.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0).history)
    for got, expected in zip(gm.get_weights(), km.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, **TOLERANCE)
    k_history, g_history = histories
    assert sorted(g_history) == sorted(k_history) == ["loss", "mae"]
    for key in k_history:
        np.testing.assert_allclose(g_history[key], k_history[key], rtol=1e-4)
    k_eval, g_eval = km.evaluate(X, Y, verbose=0, return_dict=True), gm.evaluate(X, Y, verbose=0, return_dict=True)
    assert sorted(g_eval) == sorted(k_eval)
    for key in k_eval:
        np.testing.assert_allclose(g_eval[key], k_eval[key], rtol=1e-4)


def test_the_default_steps_are_fits_own():
    layers.reset_uids()
    model = gk.Sequential([gk.Input((4,)), gk.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    before = model.evaluate(X, Y, verbose=0, return_dict=True)
    assert model.test_step((X, Y)) == before
    logs = model.train_step((X, Y))
    assert sorted(logs) == ["loss", "mae"] and logs["loss"] == pytest.approx(before["loss"], rel=1e-5)
    assert model.evaluate(X, Y, verbose=0, return_dict=True)["loss"] < before["loss"]
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]


def test_a_train_step_that_returns_no_dict_is_named():
    class Broken(gk.Model):
        def train_step(self, data):
            return 1.0

    inputs = gk.Input((4,))
    model = Broken(inputs, gk.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="train_step must return a dict of logs"):
        model.fit(X, Y, verbose=0)

"""evaluate, predict, test_on_batch and predict_on_batch replay a recorded forward pass, as fit replays its
training step: the same numbers as the model run layer by layer, a fresh recording after the model changes, and
the layer-by-layer run where a recording cannot be trusted."""

import threading
import time

import numpy as np
import pytest

import glassnet as keras
from glassnet import layers, optimizers
from glassnet.autodiff import Function
from glassnet.models.step import _EAGER


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, :1] * x[:, 1:2] > 0).astype("float32")


def make_model(**compile_args):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([layers.Input((4,)), layers.Dense(8, activation="tanh"), layers.Dropout(0.5),
                              layers.BatchNormalization(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"], **compile_args)
    return model


def by_layers(model, x):
    return model(x, training=False).numpy()


def test_predictions_and_losses_are_the_layer_by_layer_ones():
    x, y = data()
    model = make_model()
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)  # moving statistics away from their start
    for i in range(0, 40, 10):  # traced, checked on a new batch, then replayed
        np.testing.assert_array_equal(model.predict_on_batch(x[i:i + 10]), by_layers(model, x[i:i + 10]))
    plans = model._forward_steps["predict"].plans
    assert len(plans) == 1 and next(iter(plans.values())).verified  # one batch shape: one proven recording
    p = np.clip(by_layers(model, x[:10])[:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    bce = -np.mean(y[:10, 0] * np.log(p) + (1 - y[:10, 0]) * np.log(1 - p))
    for _ in range(3):
        logs = model.test_on_batch(x[:10], y[:10], return_dict=True)
        assert logs["loss"] == pytest.approx(bce, rel=1e-5)
        assert logs["accuracy"] == np.mean((p > 0.5) == (y[:10, 0] > 0.5))
    batchwise = np.concatenate([by_layers(model, x[i:i + 10]) for i in range(0, 40, 10)])  # a product's rounding
    np.testing.assert_array_equal(model.predict(x, batch_size=10, verbose=0), batchwise)  # depends on its rows


def test_new_weights_and_a_new_structure_reach_the_replay():
    x, _ = data()
    model = make_model()
    model.predict_on_batch(x[:10])
    model.predict_on_batch(x[10:20])
    model.set_weights([w * 2 for w in model.get_weights()])  # in place: the recording reads the same arrays
    np.testing.assert_array_equal(model.predict_on_batch(x[:10]), by_layers(model, x[:10]))
    model.pop()
    model.add(layers.Dense(3, activation="softmax"))
    out = model.predict_on_batch(x[:10])
    assert out.shape == (10, 3)
    np.testing.assert_array_equal(out, by_layers(model, x[:10]))


def test_freezing_keeps_the_recorded_forward_pass():
    """A GAN's loop freezes and unfreezes a model between calls: that changes what trains, not what it computes."""
    x, _ = data()
    model = make_model()
    model.predict_on_batch(x[:10])
    step = model._forward_steps["predict"]
    plan = next(iter(step.plans.values())).plan
    model.layers[0].trainable = False
    model.predict_on_batch(x[10:20])
    model.layers[0].trainable = True
    model.predict_on_batch(x[20:30])
    assert model._forward_steps["predict"] is step and next(iter(step.plans.values())).plan is plan


class Branching(keras.Model):
    """A forward pass that depends on the data through Python: its recording holds for one branch only."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(2)

    def call(self, x):
        z = self.dense(x)
        return z * 2.0 if float(x.numpy().sum()) > 0 else z * -1.0


def test_a_forward_pass_that_branches_on_the_data_runs_layer_by_layer():
    model = Branching()
    positive, negative = np.ones((4, 3), "float32"), -np.ones((4, 3), "float32")
    np.testing.assert_allclose(model.predict_on_batch(positive), by_layers(model, positive))
    np.testing.assert_allclose(model.predict_on_batch(negative), by_layers(model, negative))  # checked: differs
    assert next(iter(model._forward_steps["predict"].plans.values())) is _EAGER
    np.testing.assert_allclose(model.predict_on_batch(positive), by_layers(model, positive))


def test_run_eagerly_records_nothing():
    x, y = data()
    model = make_model(run_eagerly=True)
    model.predict_on_batch(x[:10])
    model.test_on_batch(x[:10], y[:10])
    assert not model._forward_steps["predict"].plans and not model._forward_steps["test"].plans
    model.compile(optimizer="sgd", loss="mse")  # compiled anew without run_eagerly: recorded from now on
    model.predict_on_batch(x[:10])
    assert model._forward_steps["predict"].plans


class Probe(Function):
    """y = x, noting how many forwards run at once (and taking its time, so that overlaps happen)."""

    running, most = 0, 0

    def forward(self, x):
        Probe.running += 1
        Probe.most = max(Probe.most, Probe.running)
        time.sleep(0.002)
        Probe.running -= 1
        return x.copy()

    def backward(self, dy):
        return dy


class Probed(layers.Layer):
    def call(self, x):
        return Probe.apply(x)


def test_threads_predicting_with_one_model_replay_one_at_a_time():
    """A server's request threads share one model: its recording is replayed by one thread at a time (a plan's ops
    keep what they read), and each thread gets its own batch's outputs."""
    x, _ = data(80)
    keras.utils.set_random_seed(3)
    model = keras.Sequential([layers.Input((4,)), layers.Dense(3), Probed(), layers.Dense(2)])
    expected = [by_layers(model, x[i:i + 10]) for i in range(0, 80, 10)]
    model.predict_on_batch(x[:10])
    model.predict_on_batch(x[10:20])  # recorded and checked: replays from here on
    Probe.most = 0
    failures = []

    def predict_all():
        for k, i in enumerate(range(0, 80, 10)):
            if not np.array_equal(model.predict_on_batch(x[i:i + 10]), expected[k]):
                failures.append(k)

    threads = [threading.Thread(target=predict_all) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and Probe.most == 1

"""Replayed training steps give the eager engine's results, and fall back to eager when a replay would be wrong."""

import numpy as np
import pytest

import glassnet as keras
from glassnet import layers, ops
from tests.cycles import cycles_made_by


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, :1] * x[:, 1:2] > 0).astype("float32")
    return x, y


class ScaleByBatchMean(layers.Layer):
    """Reads the data through NumPy: a replay would freeze the first batch's mean, so it must stay eager."""

    def call(self, x):
        return x * float(np.abs(x.numpy()).mean())


def train(run_eagerly, extra=(), epochs=3):
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((4,)), *extra, layers.Dense(8, activation="tanh"),
                              layers.Dropout(0.25), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], run_eagerly=run_eagerly)
    x, y = data()
    history = model.fit(x, y, batch_size=10, epochs=epochs, verbose=0)  # 96 = 9 batches of 10 + one of 6
    return model, history


@pytest.mark.parametrize("extra", [(), "data-dependent"], ids=["plain", "data-dependent layer"])
def test_replayed_training_equals_eager_training(extra):
    extra = (ScaleByBatchMean(),) if extra else ()
    eager, h_eager = train(True, extra)
    replayed, h_replayed = train(False, extra)
    for a, b in zip(eager.get_weights(), replayed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_eager.history["loss"], h_replayed.history["loss"], rtol=1e-5)


def test_data_dependent_step_falls_back_to_eager():
    model, _ = train(False, (ScaleByBatchMean(),), epochs=1)
    assert "eager" in [entry if isinstance(entry, str) else "plan" for entry in model._cached_step.plans.values()]
    plain, _ = train(False, epochs=1)
    kinds = [entry[1] for entry in plain._cached_step.plans.values()]
    assert kinds == [True, False]  # the full batch's plan verified itself; the last batch (6) was traced once


def test_a_trained_model_can_be_copied_without_its_plans():
    import copy
    import pickle

    model, _ = train(False, epochs=1)
    clone = pickle.loads(pickle.dumps(model))  # what Dask and joblib do with a model
    x, _ = data()
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    clone.fit(x, data()[1], epochs=1, verbose=0)  # the copy traces its own step
    assert copy.deepcopy(model).count_params() == model.count_params()


def test_a_loss_that_compares_values_replays_its_mask():
    """Huber picks ½e² or δ|e| − ½δ² by comparing |e| with δ: the comparison is an op, so replays recompute it."""
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="huber")
    x, y = data()
    model.fit(x, 3 * y - 1, batch_size=16, epochs=2, verbose=0)  # 96 = 6 full batches: traced, then verified
    assert [entry[1] for entry in model._cached_step.plans.values()] == [True]


def _weights_after_fits(run_eagerly, loss, units=1, activation="sigmoid", labels=None, n_fits=3):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                              layers.Dense(units, activation=activation)])
    model.compile(optimizer="sgd", loss=loss, run_eagerly=run_eagerly)
    x, y = data(100)
    for _ in range(n_fits):  # each fit gathers its shuffled batches into new buffers
        model.fit(x, y if labels is None else labels(y), batch_size=10, epochs=1, verbose=0)
    return model


def frozen_label_loss(y_true, y_pred):
    """A user's loss that reads the labels through NumPy: a replay would freeze the traced batch's labels."""
    labels = np.asarray(y_true.numpy(), dtype="float32")
    return ops.mean(ops.square(y_pred - labels), axis=-1)


@pytest.mark.parametrize("setup", [
    {"loss": "binary_crossentropy"},
    {"loss": "sparse_categorical_crossentropy", "units": 3, "activation": "softmax",
     "labels": lambda y: (y[:, 0] * 2).astype("int64")},
    {"loss": frozen_label_loss},
], ids=["binary", "sparse", "labels read through numpy"])
def test_several_fits_replay_exactly_what_eager_computes(setup):
    eager, replayed = _weights_after_fits(True, **setup), _weights_after_fits(False, **setup)
    for a, b in zip(eager.get_weights(), replayed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    kinds = [entry if isinstance(entry, str) else entry[1] for entry in replayed._cached_step.plans.values()]
    assert kinds == (["eager"] if setup["loss"] is frozen_label_loss else [True])


def label_scaled_loss(y_true, y_pred):
    """Uses the labels in the graph, and also their mean read through NumPy: a replay freezes the traced mean."""
    scale = float(y_true.numpy().mean())
    return ops.mean(ops.square(y_pred - y_true * scale), axis=-1)


def test_a_loop_with_constant_labels_replays_once_its_inputs_are_proven():
    """A GAN's discriminator sees y = 1 on every call: the plan is checked on the inputs that differ, then replayed
    (where a batch equals the traced one, even a value frozen into the replay is its own)."""
    x, _ = data(60)
    ones = np.ones((10, 1), dtype="float32")
    models = {}
    for run_eagerly in (True, False):
        keras.utils.set_random_seed(5)
        model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="tanh"), layers.Dense(1)])
        model.compile(optimizer="sgd", loss=label_scaled_loss, run_eagerly=run_eagerly)
        for i in range(0, 60, 10):
            model.train_on_batch(x[i:i + 10], ones)
        models[run_eagerly] = model
    (entry,) = models[False]._cached_step.plans.values()
    assert entry.live == {0} and not entry.verified  # x proven live; y never differed, so never proven
    for a, b in zip(models[True].get_weights(), models[False].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    models[False].train_on_batch(x[:10], -ones)  # now y differs: the check finds the frozen labels
    assert list(models[False]._cached_step.plans.values()) == ["eager"]


def twenty_tanh_layers():
    """A compiled stack of twenty Dense(256, tanh) layers and 4096 random samples for it: (model, x, y)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((256,)), *[layers.Dense(256, activation="tanh") for _ in range(20)],
                              layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    return model, rng.normal(size=(4096, 256)).astype("float32"), rng.normal(size=(4096, 1)).astype("float32")


def test_the_first_two_batches_peak_near_one_steps_activations():
    """The first batch is traced, the second checked against an eager run: neither keeps a gradient per tensor,
    the check lets go of the traced batch's activations before its eager run, and neither forward keeps a value
    that only its graph holds and no op saved (each layer's Z: tanh saves its output A). Twenty tanh layers of 256
    units on 2048 samples keep 20 arrays of 2 MB (the activations); the two steps peak at 1.45 times that (the
    gradients ahead of the walk, the batch); before, 2.3 times (every Z kept), and before that five."""
    import tracemalloc

    model, x, y = twenty_tanh_layers()
    activations = 20 * 2048 * 256 * 4  # float32 outputs of the tanh layers, one batch
    model.fit(x[:64], y[:64], batch_size=32, epochs=1, verbose=0)  # the imports and compilations fit makes
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        model.fit(x, y, batch_size=2048, epochs=1, shuffle=False, verbose=0)
        peak = (tracemalloc.get_traced_memory()[1] - before) / activations
    finally:
        tracemalloc.stop()
    assert peak < 1.7, f"the first two steps peaked at {peak:.2f} × one step's activations"


def test_fit_lets_go_of_the_last_steps_activations_after_each_epoch():
    """What the training step's ops saved (a batch's activations) stays from step to step, where a callback reads it
    after the batch (Watch does), but goes after each epoch's last step: not held through validation or after fit."""
    from glassnet.autodiff import Function

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 8)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")

    def saved_arrays() -> int:
        ops = [v for v in model.step_source().bindings.values() if isinstance(v, Function)]
        return sum(isinstance(a, np.ndarray) for fn in ops for a in fn.saved)

    found = {"train": [], "test": []}
    reader = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: found["train"].append(saved_arrays()),
        on_test_batch_end=lambda batch, logs: found["test"].append(saved_arrays()))
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_data=(x[:32], y[:32]), callbacks=[reader])
    assert found == {"train": [6] * 8, "test": [0] * 4}  # each Affine its X and W, the tanh A, the error Ŷ − Y
    assert saved_arrays() == 0


@pytest.mark.parametrize("method", ["predict", "evaluate"])
def test_a_forward_pass_holds_only_the_values_it_works_on(method):
    """predict's and evaluate's recorded passes run under no_grad: their ops save nothing for a backward that never
    comes. Twenty tanh layers of 256 units on batches of 2048 (2 MB an output): the trace peaks at about 5 outputs
    (the batch, the trace's copy of it, an op's input and output), a replay at 2, and once the call returns only
    the plan's copy of the traced batch stays (later batches are checked against it); before, every op kept its
    output, so the trace peaked at 22 and the 20 outputs stayed after it."""
    import tracemalloc

    model, x, y = twenty_tanh_layers()
    output = 2048 * 256 * 4  # one layer's float32 output, one batch
    run = (lambda: model.predict(x, batch_size=2048, verbose=0)) if method == "predict" else (
        lambda: model.evaluate(x, y, batch_size=2048, verbose=0))
    model.predict(x[:64], verbose=0)  # the imports and compilations the first call makes
    tracemalloc.start()
    try:
        start, peaks, held = tracemalloc.get_traced_memory()[0], [], []
        for _ in range(2):  # the trace, then a replay
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            result = run()
            current, peak = tracemalloc.get_traced_memory()
            peaks.append((peak - before) / output)
            held.append((current - start - np.asarray(result).nbytes) / output)
            del result
    finally:
        tracemalloc.stop()
    assert max(peaks) < 6, f"{method} peaked at {peaks} × one layer's output (trace, replay)"
    assert max(held) < 1.5, f"{method} held {held} × one layer's output after returning (trace, replay)"
    plan = model._forward_steps["predict" if method == "predict" else "test"].latest
    assert all(fn.saved == () for fn in plan.ops)


@pytest.mark.parametrize("run_eagerly", [True, False], ids=["eager", "replayed"])
def test_a_training_step_leaves_no_reference_cycles(run_eagerly):
    """Memory a step made is freed when the step ends, not when the garbage collector next runs: a cycle through
    a step's tensors (a recursive closure over them, as pack_like had) would keep its whole graph alive."""
    model, _ = train(run_eagerly, epochs=1)
    x, y = data(10)
    model.train_on_batch(x, y)
    assert cycles_made_by(lambda: model.train_on_batch(x, y)) == []

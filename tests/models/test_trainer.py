"""The training loop: learning a separable problem, History keys, validation split, seeds, evaluate/predict,
bad data refused before any step, class/sample weights, regularization in the loss, Ctrl-C."""

import numpy as np
import pytest

from glassnet import backend, callbacks, losses, models, optimizers
from glassnet.layers import Dense


def blobs(n=400, seed=0):
    """Two Gaussian blobs, 4 features, linearly separable with a wide margin."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.normal(size=(n, 4)) + np.where(y[:, None] == 1, 2.0, -2.0)
    return x.astype(np.float32), y.astype(np.float32)


def binary_model(**compile_kwargs):
    model = models.Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(1, activation="sigmoid")])
    model.compile(optimizer=compile_kwargs.pop("optimizer", optimizers.Adam(0.01)), loss="binary_crossentropy",
                  metrics=compile_kwargs.pop("metrics", ["accuracy"]), **compile_kwargs)
    return model


def test_training_reduces_loss_and_reaches_accuracy():
    backend.set_random_seed(1)
    x, y = blobs()
    model = binary_model()
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    loss = history.history["loss"]
    assert loss[-1] < 0.5 * loss[0]
    assert history.history["accuracy"][-1] > 0.97
    assert model.evaluate(x, y, verbose=0)[1] > 0.97


def test_history_keys_are_exactly_the_strings_passed():
    x, y = blobs(100)
    model = binary_model(metrics=["acc", "mae"])
    history = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0)
    assert list(history.history) == ["acc", "loss", "mae", "val_acc", "val_loss", "val_mae"]
    assert history.epoch == [0, 1] and model.history is history
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 3}
    assert model.metrics_names == ["loss", "compile_metrics"]  # Keras 3's names


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    x, y = blobs(70)
    model = binary_model(optimizer=optimizers.SGD(0.0))  # no learning: every batch sees the same weights
    history = model.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    p = np.clip(model.predict(x, verbose=0)[:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    per_sample = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert history.history["loss"][0] == pytest.approx(per_sample.mean(), rel=1e-5)  # 32+32+6 samples


def test_validation_split_takes_the_last_samples():
    x, y = blobs(100)
    model = binary_model(optimizer=optimizers.SGD(0.0))
    history = model.fit(x, y, epochs=1, validation_split=0.2, verbose=0)
    assert history.params["steps"] == 3  # 80 training samples in batches of 32
    expected = model.evaluate(x[80:], y[80:], verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(expected["loss"], rel=1e-6)
    assert history.history["val_accuracy"][0] == pytest.approx(expected["accuracy"])


def test_same_seed_gives_bit_identical_weights():
    x, y = blobs(200)

    def run():
        backend.set_random_seed(123)
        model = binary_model()
        model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        return model.get_weights()

    first, second = run(), run()
    for a, b in zip(first, second):
        assert np.array_equal(a, b)


def test_evaluate_and_predict_shapes_and_return_dict():
    x, y = blobs(50)
    model = binary_model(metrics=["accuracy", "mse"])
    assert model.predict(x, batch_size=7, verbose=0).shape == (50, 1)
    result = model.evaluate(x, y, batch_size=7, verbose=0)
    assert isinstance(result, list) and len(result) == 3
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(as_dict) == ["accuracy", "loss", "mse"] and as_dict["loss"] == pytest.approx(result[0], rel=1e-6)
    model_no_metrics = models.Sequential([Dense(1, input_shape=(4,))])
    model_no_metrics.compile(loss="mse")
    assert isinstance(model_no_metrics.evaluate(x, y, verbose=0), float)
    single = model.train_on_batch(x[:8], y[:8])
    assert len(single) == 3 and model.test_on_batch(x[:8], y[:8], return_dict=True).keys() == as_dict.keys()
    np.testing.assert_allclose(model.predict_on_batch(x[:3]), model.predict(x[:3], verbose=0))


def sparse_model():
    model = models.Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.build((None, 4))
    return model


@pytest.mark.parametrize("make_args, error, pattern", [
    (lambda x, y: (np.zeros((10, 5)), y), ValueError, r"argument `x` has shape \(10, 5\).*expects inputs of shape "
                                                       r"\(None, 4\)"),
    (lambda x, y: (x, y[:7]), ValueError, r"`x` has 10 samples, `y` has 7 samples"),
    (lambda x, y: (np.where(np.arange(40).reshape(10, 4) == 5, np.nan, x), y), ValueError,
     r"argument `x` contains 1 NaN and 0 infinite.*sample 1"),
    (lambda x, y: (x, np.where(np.arange(10) == 3, np.inf, y)), ValueError, r"argument `y` contains 0 NaN and 1 inf"),
    (lambda x, y: (x[:0], y[:0]), ValueError, r"argument `x` is empty"),
    (lambda x, y: (x, np.full(10, 3.0)), ValueError, r"argument `y`.*class indices in \[0, 3\).*3 to 3"),
    (lambda x, y: (x, np.eye(3)[np.zeros(10, int)]), ValueError, r"argument `y` \(shape \(10, 3\)\)"),
    (lambda x, y: (np.array([["a"] * 4] * 10), y), TypeError, r"argument `x` must hold numbers"),
])
def test_bad_data_is_refused_before_any_step(make_args, error, pattern):
    model = sparse_model()
    before = model.get_weights()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 4)), rng.integers(0, 3, size=10).astype(float)
    with pytest.raises(error, match=pattern):
        model.fit(*make_args(x, y), epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        assert np.array_equal(a, b)
    assert model.optimizer.iterations == 0


def test_one_hot_vs_sparse_mismatch_both_ways():
    x = np.random.default_rng(0).normal(size=(6, 4))
    model = models.Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"fit: argument `y`"):
        model.fit(x, np.array([0, 1, 2, 0, 1, 2]), verbose=0)


def test_fit_before_compile_and_feature_dim_from_declared_input():
    model = models.Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(RuntimeError, match="You must call `compile\\(\\)`"):
        model.fit(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="`validation_data` must be a tuple"):
        model.compile(loss="mse")
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), validation_data=np.zeros(3), verbose=0)


def test_class_weight_equals_the_matching_sample_weight():
    x, y = blobs(64)
    weights = np.where(y == 1, 3.0, 0.5)

    def run(**kwargs):
        backend.set_random_seed(5)
        model = binary_model(optimizer=optimizers.SGD(0.1))
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, **kwargs)
        return history.history["loss"], model.get_weights()

    loss_cw, w_cw = run(class_weight={0: 0.5, 1: 3.0})
    loss_sw, w_sw = run(sample_weight=weights)
    loss_plain, _ = run()
    assert loss_cw == loss_sw and all(np.array_equal(a, b) for a, b in zip(w_cw, w_sw))
    assert loss_cw != loss_plain
    with pytest.raises(ValueError, match="no weight for class"):
        binary_model().fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_regularization_penalty_is_in_the_loss_value():
    from glassnet import regularizers

    x, y = blobs(32)
    model = models.Sequential([Dense(1, input_shape=(4,), kernel_regularizer=regularizers.L2(0.5))])
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    history = model.fit(x, y, batch_size=32, verbose=0)
    kernel, bias = model.get_weights()
    mse = np.mean((x @ kernel + bias - y[:, None]) ** 2)
    assert history.history["loss"][0] == pytest.approx(mse + 0.5 * np.sum(kernel.astype(np.float64) ** 2), rel=1e-5)


def test_keyboard_interrupt_keeps_finished_epochs_and_a_usable_model():
    x, y = blobs(64)
    model = binary_model()

    def interrupt(epoch, logs):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=10, verbose=0, callbacks=[callbacks.LambdaCallback(on_epoch_begin=interrupt)])
    assert model.history.epoch == [0, 1] and len(model.history.history["loss"]) == 2
    out = model.predict(x, verbose=0)
    assert out.shape == (64, 1) and np.isfinite(out).all()
    assert model.fit(x, y, epochs=1, verbose=0).epoch == [0]


def test_sigint_is_deferred_to_the_end_of_a_step():
    import os
    import signal

    x, y = blobs(64)
    model = binary_model()
    steps = []

    class SendSigint(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            steps.append(batch)
            if batch == 1:
                os.kill(os.getpid(), signal.SIGINT)  # arrives mid-step: the step must still finish

    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[SendSigint()])
    assert steps == [0, 1] and model.optimizer.iterations == 2


def test_shuffle_false_uses_batches_in_order_and_loss_helper_consistency():
    x, y = blobs(40)
    model = binary_model(optimizer=optimizers.SGD(0.0))
    seen = []
    spy = callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs["loss"]))
    model.fit(x, y, batch_size=10, shuffle=False, verbose=0, callbacks=[spy])
    p = model.predict(x, verbose=0)
    first = float(losses.binary_crossentropy(y[:10, None], p[:10]).numpy().mean())
    assert seen[0] == pytest.approx(first, rel=1e-5) and len(seen) == 4

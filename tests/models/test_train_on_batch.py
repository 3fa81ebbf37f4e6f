"""The batch-level methods custom loops call: train_on_batch takes fit's step bit for bit, test_on_batch and
predict_on_batch give evaluate's and predict's values, and a batch like an earlier one is checked by its values
only, so a bad batch after good ones still gets the error fit would give."""

import numpy as np
import pytest

import glassnet as keras
from glassnet import layers, losses, optimizers


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, :1] * x[:, 1:2] > 0).astype("float32")
    return x, y


def make_model(loss="binary_crossentropy", units=1, activation="sigmoid", metrics=("accuracy",)):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([layers.Input((4,)), layers.Dense(8, activation="tanh"), layers.Dropout(0.25),
                              layers.Dense(units, activation=activation)])
    model.compile(optimizer=optimizers.Adam(0.01), loss=loss, metrics=list(metrics))
    return model


@pytest.mark.parametrize("sample_weighted", [False, True])
def test_train_on_batch_takes_fits_steps_bit_for_bit(sample_weighted):
    x, y = data()
    sw = np.linspace(0.5, 2.0, len(x)).astype("float32") if sample_weighted else None
    fitted, looped = make_model(), make_model()
    keras.utils.set_random_seed(9)  # the dropout masks
    history = fitted.fit(x, y, sample_weight=sw, batch_size=10, epochs=1, shuffle=False, verbose=0)
    keras.utils.set_random_seed(9)
    results = [looped.train_on_batch(x[i:i + 10], y[i:i + 10], sample_weight=None if sw is None else sw[i:i + 10],
                                     return_dict=True) for i in range(0, 40, 10)]  # traced, checked, replayed
    for a, b in zip(fitted.get_weights(), looped.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert np.mean([r["loss"] for r in results]) == pytest.approx(history.history["loss"][0], rel=1e-6)
    assert [w.iterations for w in (fitted.optimizer, looped.optimizer)] == [4, 4]


def test_the_result_is_the_batchs_own_loss_and_metrics():
    x, y = data()
    model = make_model(metrics=["accuracy", "mae"])
    first = model.train_on_batch(x[:10], y[:10])
    assert isinstance(first, list) and len(first) == 3  # [loss, accuracy, mae], in metrics_names order
    logs = model.train_on_batch(x[10:20], y[10:20], return_dict=True)
    assert sorted(logs) == ["accuracy", "loss", "mae"]
    tested = model.test_on_batch(x[10:20], y[10:20], return_dict=True)
    evaluated = model.evaluate(x[10:20], y[10:20], batch_size=10, verbose=0, return_dict=True)
    assert tested == pytest.approx(evaluated, rel=1e-6)
    p = np.clip(model.predict_on_batch(x[10:20])[:, 0].astype(np.float64), 1e-7, 1 - 1e-7)
    bce = -np.mean(y[10:20, 0] * np.log(p) + (1 - y[10:20, 0]) * np.log(1 - p))
    assert tested["loss"] == pytest.approx(bce, rel=1e-5)
    assert tested["accuracy"] == np.mean((p > 0.5) == (y[10:20, 0] > 0.5))
    np.testing.assert_array_equal(model.predict_on_batch(x[:10]), model.predict(x[:10], verbose=0))


def test_a_batch_like_an_earlier_one_is_checked_by_its_values_only(monkeypatch):
    x, y = data()
    calls = []
    check = losses.validate_targets
    monkeypatch.setattr(losses, "validate_targets", lambda *a: calls.append(1) or check(*a))
    mse = make_model(loss="mse", activation="tanh", metrics=())
    for i in range(0, 40, 10):
        mse.train_on_batch(x[i:i + 10], y[i:i + 10])
    assert len(calls) == 1  # shapes against the loss and the output: once for this kind of batch
    mse.train_on_batch(x[:7], y[:7])
    assert len(calls) == 2  # a new kind
    calls.clear()
    sparse = make_model(loss="sparse_categorical_crossentropy", units=3, activation="softmax")
    labels = np.arange(40) % 3
    for i in range(0, 40, 10):
        sparse.train_on_batch(x[i:i + 10], labels[i:i + 10])
    assert len(calls) == 4  # class indices are values: checked every time


def with_value(a, row, value):
    """A copy of ``a`` with ``value`` in the last column of ``row``."""
    a = a.copy()
    a[row, -1] = value
    return a


BAD_BATCHES = {
    "NaN in x": (lambda x, y: (with_value(x[:10], 3, np.nan), y[:10]),
                 ValueError, r"train_on_batch: argument `x` contains 1 NaN and 0 infinite value\(s\) \(first in "
                             r"sample 3\)"),
    "inf in y": (lambda x, y: (x[:10], with_value(y[:10], 6, np.inf)),
                 ValueError, r"argument `y` contains 0 NaN and 1 infinite value\(s\) \(first in sample 6\)"),
    "labels outside [0, 1]": (lambda x, y: (x[:10], y[:10] * 2), ValueError, r"expects labels in \[0, 1\], received "
                                                                               r"y with values from 0 to 2"),
    "wrong features": (lambda x, y: (x[:10, :3], y[:10]), ValueError, r"argument `x` has shape \(10, 3\).*expects "
                                                                       r"inputs of shape \(None, 4\)"),
    "fewer labels": (lambda x, y: (x[:10], y[:9]), ValueError, "`x` has 10 samples, `y` has 9 samples"),
    "strings": (lambda x, y: (x[:10].astype(str), y[:10]), TypeError, "argument `x` must hold numbers"),
}


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_a_bad_batch_after_good_ones_gets_the_clear_error_and_changes_nothing(case):
    x, y = data()
    model = make_model()
    for i in range(0, 40, 10):
        model.train_on_batch(x[i:i + 10], y[i:i + 10])
    before = model.get_weights()
    make_bad, error, message = BAD_BATCHES[case]
    bad_x, bad_y = make_bad(x, y)
    with pytest.raises(error, match=message):
        model.train_on_batch(bad_x, bad_y)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(error, match=message.replace("train_on_batch", "test_on_batch")):
        model.test_on_batch(bad_x, bad_y)


def test_negative_sample_weights_after_good_ones_are_refused():
    x, y = data()
    model = make_model()
    model.train_on_batch(x[:10], y[:10], sample_weight=np.ones(10))
    with pytest.raises(ValueError, match="`sample_weight` must be non-negative, received a minimum of -1"):
        model.train_on_batch(x[:10], y[:10], sample_weight=-np.ones(10))


def test_a_rebuilt_model_checks_the_same_batch_again():
    x, y = data()
    model = make_model()
    model.train_on_batch(x[:10], y[:10])
    model.pop()
    model.add(layers.Dense(3, activation="softmax"))  # the output changes: (None, 3)
    with pytest.raises(ValueError, match=r"argument `y` \(shape \(10, 1\)\) does not fit the loss and the model's "
                                         r"output shape \(None, 3\)"):
        model.train_on_batch(x[:10], y[:10])


def test_freezing_between_calls_changes_what_the_next_call_trains():
    """A GAN's loop: the discriminator is frozen for the generator's step and unfrozen for its own. The step's
    list of weights is cached between calls; every way of changing what trains must reach the next call."""
    x, y = data()
    model = make_model(loss="mse", activation="tanh", metrics=())
    first, last = model.layers[0], model.layers[-1]
    model.train_on_batch(x[:10], y[:10])

    def changed_by_one_call() -> list[bool]:
        before = model.get_weights()
        model.train_on_batch(x[10:20], y[10:20])
        return [not np.array_equal(a, b) for a, b in zip(before, model.get_weights())]

    assert changed_by_one_call() == [True, True, True, True]  # kernel and bias of both Dense layers
    first.trainable = False
    assert changed_by_one_call() == [False, False, True, True]
    first.trainable = True
    last.kernel.trainable = False  # one variable, directly (a nested model's weights are filtered by their flags)
    nested = keras.Sequential([layers.Input((4,)), model])
    nested.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    before = model.get_weights()
    nested.train_on_batch(x[:10], y[:10])
    assert [not np.array_equal(a, b) for a, b in zip(before, model.get_weights())] == [True, True, False, True]
    last.kernel.trainable = True
    before = model.get_weights()
    nested.train_on_batch(x[:10], y[:10])
    assert [not np.array_equal(a, b) for a, b in zip(before, model.get_weights())] == [True, True, True, True]

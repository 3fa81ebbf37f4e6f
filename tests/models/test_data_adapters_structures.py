"""Structured data (x and y as lists or dicts of arrays, for models of several inputs): the adapter cuts every
array alike into the user's structure, the validation split and shuffling keep rows together, each array gets the
checks one array gets, and a two-input model trains as Keras's functional twin does (same weights after fit)."""

import numpy as np
import pytest

import glassnet as gk
from glassnet.models import data, data_adapters
from glassnet.models.data_adapters import ArrayDataAdapter


def columns(n=10):
    a = np.arange(n * 2, dtype="float32").reshape(n, 2)
    b = np.arange(n, dtype="float32").reshape(n, 1) + 100
    y = np.arange(n, dtype="float32").reshape(n, 1) * 10
    return a, b, y


class TwoInputs(gk.Model):
    """A subclassed model of two inputs (a list or a dict {"a", "b"}): Dense(1) on their concatenation."""

    def __init__(self):
        super().__init__()
        self.dense = gk.layers.Dense(1)

    def call(self, inputs, training=None):
        a, b = (inputs["a"], inputs["b"]) if isinstance(inputs, dict) else inputs
        return self.dense(gk.ops.concatenate([a, b], axis=-1))

    def _takes_structures(self):
        return True


def test_batches_keep_the_structure_and_cut_every_array_alike():
    a, b, y = columns()
    for x in ([a, b], (a, b), {"a": a, "b": b}):
        batches = list(ArrayDataAdapter(x, {"out": y}, None, batch_size=4).get_epoch_iterator())
        assert len(batches) == 3
        xb, yb, swb = batches[1]
        assert type(xb) is type(x) and swb is None and set(yb) == {"out"}
        first, second = (xb["a"], xb["b"]) if isinstance(xb, dict) else xb
        np.testing.assert_array_equal(first, a[4:8])
        np.testing.assert_array_equal(second, b[4:8])
        np.testing.assert_array_equal(yb["out"], y[4:8])


def test_shuffled_structures_keep_rows_together_and_cover_every_sample():
    a, b, y = columns(20)
    sw = np.linspace(1, 2, 20).astype("float32")
    gk.utils.set_random_seed(3)
    seen = []
    for (xa, xb), yb, swb in ArrayDataAdapter([a, b], y, sw, batch_size=6, shuffle=True).get_epoch_iterator():
        rows = (yb[:, 0] / 10).astype(int)
        np.testing.assert_array_equal(xa, a[rows])
        np.testing.assert_array_equal(xb, b[rows])
        np.testing.assert_array_equal(swb, sw[rows])
        seen.extend(rows.tolist())
    assert sorted(seen) == list(range(20)) and seen != list(range(20))


def test_validation_split_takes_the_last_rows_of_every_array():
    a, b, y = columns(10)
    (x_train, y_train, sw_train), (x_val, y_val, _) = data_adapters.train_validation_split(
        ({"a": a, "b": b}, [y, y], np.ones(10)), 0.3, "fit")
    np.testing.assert_array_equal(x_train["a"], a[:7])
    np.testing.assert_array_equal(x_val["b"], b[7:])
    assert isinstance(y_val, list) and len(y_val[1]) == 3 and len(sw_train) == 7


def test_leaves_are_named_by_their_place_and_lists_of_numbers_stay_arrays():
    a, b, _ = columns()
    assert list(data.leaves({"a": a, "pair": [a, b]}, "x")) == ["x['a']", "x['pair'][0]", "x['pair'][1]"]
    assert not data.is_structure([[1.0, 2.0], [3.0, 4.0]]) and data.is_structure((a, b))
    model = gk.Sequential([gk.Input((2,)), gk.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit([[1.0, 2.0], [3.0, 4.0]], [0.0, 1.0], verbose=0)  # nested lists are one array, as before


def test_each_array_of_a_structure_gets_the_single_array_checks():
    a, b, y = columns()
    model = TwoInputs()
    model.compile("sgd", "mse", run_eagerly=True)
    bad = b.copy()
    bad[3, 0] = np.inf
    with pytest.raises(ValueError, match=r"argument `x\['b'\]` contains 0 NaN and 1 infinite"):
        model.fit({"a": a, "b": bad}, y, verbose=0)
    with pytest.raises(ValueError, match=r"data cardinality is ambiguous: `x\[0\]` has 10 samples, `x\[1\]` has 9"):
        model.fit([a, b[:9]], y, verbose=0)
    with pytest.raises(ValueError, match="`class_weight` is only supported for Models with a single output"):
        model.fit([a, b], [y, y], class_weight={0: 1.0}, verbose=0)


def test_a_single_input_model_refuses_a_list_of_arrays():
    a, _, y = columns()
    model = gk.Sequential([gk.Input((2,)), gk.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"model 'sequential\w*' takes one array as `x`, received a list of 2 "
                                         r"arrays.*stack them"):
        model.fit([a, a], y, verbose=0)


@pytest.mark.parametrize("as_dict", [False, True])
def test_a_two_input_model_trains_as_keras_functional_twin(keras, as_dict):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 2)).astype("float32"), rng.normal(size=(40, 1)).astype("float32")
    y = (a[:, :1] - 2 * a[:, 1:] + 0.5 * b).astype("float32")
    sw = rng.uniform(0.5, 1.5, size=40).astype("float32")
    k_a, k_b = keras.Input((2,), name="a"), keras.Input((1,), name="b")
    k_model = keras.Model({"a": k_a, "b": k_b} if as_dict else [k_a, k_b],
                          keras.layers.Dense(1)(keras.layers.Concatenate()([k_a, k_b])))
    k_model.compile(keras.optimizers.SGD(0.05), "mse")
    model = TwoInputs()
    model.compile(gk.optimizers.SGD(0.05), "mse", run_eagerly=True)
    x = {"a": a, "b": b} if as_dict else [a, b]
    model(x)
    model.set_weights([np.asarray(w) for w in k_model.get_weights()])
    kwargs = dict(epochs=3, batch_size=8, shuffle=False, validation_split=0.25, sample_weight=sw, verbose=0)
    k_hist, g_hist = k_model.fit(x, y, **kwargs), model.fit(x, y, **kwargs)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(g_hist.history[key], k_hist.history[key], rtol=1e-5)
    for g, k in zip(model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(g, np.asarray(k), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), k_model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)

    def batches():
        for i in range(0, 40, 10):
            yield ({"a": a[i:i + 10], "b": b[i:i + 10]} if as_dict else (a[i:i + 10], b[i:i + 10])), y[i:i + 10]

    assert model.evaluate(batches(), verbose=0) == pytest.approx(k_model.evaluate(batches(), verbose=0), rel=1e-5)

"""The data adapter (models/data_adapters.py): the batches fit takes, in the order glassnet's seed gives, with the
weights, the validation split and the input storage decided in one place each."""

import numpy as np
import pytest

import glassnet as keras
from glassnet import backend, layers
from glassnet.kernels import SparseRows
from glassnet.models import data_adapters
from glassnet.models.data_adapters import ArrayDataAdapter, BatchRows, DataAdapter

fast = pytest.mark.fast_kernels  # SparseRows are a fast kernel


def arrays(n=10):
    x = np.arange(n * 3, dtype="float32").reshape(n, 3)
    y = np.arange(n, dtype="float32").reshape(n, 1) * 10
    sw = np.linspace(0.5, 1.4, n).astype("float32")
    return x, y, sw


def epoch_batches(adapter):
    return [(step, tuple(None if a is None else np.array(a) for a in batch)) for step, batch in adapter.epoch()]


def test_unshuffled_batches_are_views_in_order_and_the_last_one_is_short():
    x, y, sw = arrays()
    adapter = ArrayDataAdapter(x, y, sw, batch_size=4)
    assert (adapter.num_batches, adapter.batch_size, adapter.slice_rows) == (3, 4, None)
    batches = list(adapter.get_epoch_iterator())
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(batches[2][0], [[24, 25, 26], [27, 28, 29]])
    np.testing.assert_array_equal(batches[1][1][:, 0], [40, 50, 60, 70])
    np.testing.assert_array_equal(batches[0][2], sw[:4])
    assert all(np.shares_memory(b[0], x) and np.shares_memory(b[1], y) for b in batches)  # no copy


def test_steps_keeps_the_first_batches_and_predict_batches_have_no_labels():
    x, _, _ = arrays()
    batches = epoch_batches(ArrayDataAdapter(x, batch_size=3, steps=2))
    assert [step for step, _ in batches] == [0, 1]
    assert all(yb is None and swb is None for _, (_, yb, swb) in batches)
    np.testing.assert_array_equal(batches[1][1][0][:, 0], [9, 12, 15])
    assert ArrayDataAdapter(x, batch_size=3, steps=99).num_batches == 4


def test_shuffled_order_is_the_seeded_permutation_drawn_anew_each_epoch():
    x, y, sw = arrays()
    backend.set_random_seed(0)
    adapter = ArrayDataAdapter(x, y, sw, batch_size=4, shuffle=True)
    orders = []
    for _ in range(2):
        batches = epoch_batches(adapter)
        order = np.concatenate([xb[:, 0] for _, (xb, _, _) in batches]).astype(int) // 3
        np.testing.assert_array_equal(np.concatenate([yb[:, 0] for _, (_, yb, _) in batches]), order * 10)
        np.testing.assert_array_equal(np.concatenate([swb for _, (_, _, swb) in batches]), sw[order])
        orders.append(order.tolist())
    # backend.make_rng() when the adapter is made, then rng.permutation(n) at each epoch: glassnet's order since
    # seeds were introduced, so a seeded run trains exactly as before
    assert orders == [[5, 2, 0, 8, 3, 7, 6, 4, 1, 9], [3, 9, 0, 1, 4, 2, 7, 5, 6, 8]]


def test_shuffled_batches_are_gathered_into_one_reused_buffer():
    x, y, _ = arrays()
    adapter = ArrayDataAdapter(x, y, batch_size=4, shuffle=True)
    first, second, last = [batch[0] for batch in adapter.get_epoch_iterator()]
    assert np.shares_memory(first, second) and np.shares_memory(first, last) and not np.shares_memory(first, x)
    assert last.shape == (2, 3)


def test_fit_takes_the_adapters_order():
    x = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    keras.utils.set_random_seed(2)
    model = keras.Sequential([layers.Input((3,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    weights = [w.copy() for w in model.get_weights()]
    backend.set_random_seed(4)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[Recorder()])
    assert seen == [0, 1, 2, 0, 1, 2]

    by_hand = keras.Sequential([layers.Input((3,)), layers.Dense(1, activation="sigmoid")])
    by_hand.compile(optimizer="sgd", loss="binary_crossentropy")
    by_hand.set_weights(weights)
    backend.set_random_seed(4)
    adapter = ArrayDataAdapter(x, y, batch_size=4, shuffle=True)
    for _ in range(2):
        for _, (xb, yb, _) in adapter.epoch():
            by_hand.train_on_batch(xb, yb)
    for a, b in zip(model.get_weights(), by_hand.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_batch_rows_gather_one_slice_at_a_time_into_a_slice_sized_buffer():
    x, y, _ = arrays()
    backend.set_random_seed(0)
    adapter = ArrayDataAdapter(x, y, batch_size=8, shuffle=True, slice_rows=3)
    rows, yb, _ = next(adapter.get_epoch_iterator())
    assert isinstance(rows, BatchRows) and len(rows) == 8 and len(yb) == 8
    order = [5, 2, 0, 8, 3, 7, 6, 4]  # the first 8 of the seeded permutation above
    np.testing.assert_array_equal(rows.rows(0, 3)[:, 0], np.array(order[:3]) * 3)
    np.testing.assert_array_equal(rows.rows(6, 8)[:, 0], np.array(order[6:]) * 3)
    assert rows.buffer.shape == (3, 3)
    unshuffled = next(ArrayDataAdapter(x, y, batch_size=8, slice_rows=3).get_epoch_iterator())[0]
    assert np.shares_memory(unshuffled.rows(3, 6), x) and unshuffled.rows(3, 6)[0, 0] == 9


def test_epoch_end_is_called_after_every_complete_epoch():
    class Counting(DataAdapter):
        ended = 0

        @property
        def num_batches(self):
            return 2

        def get_epoch_iterator(self):
            yield from [("a", None, None), ("b", None, None)]

        def on_epoch_end(self):
            self.ended += 1

    adapter = Counting()
    assert [batch[0] for _, batch in adapter.epoch()] == ["a", "b"] and adapter.ended == 1
    with pytest.raises(NotImplementedError, match="Counting must define batch_size"):
        _ = adapter.batch_size


def test_class_weights_become_one_weight_per_sample():
    y = np.array([0, 1, 1, 2, 0], dtype="float32")
    np.testing.assert_array_equal(data_adapters.sample_weights(y, None, {0: 0.5, 1: 2.0, 2: 1.0}, "fit"),
                                  [0.5, 2.0, 2.0, 1.0, 0.5])
    one_hot = np.eye(3, dtype="float32")[[2, 0, 1]]
    np.testing.assert_array_equal(data_adapters.sample_weights(one_hot, None, {0: 3, 1: 4, 2: 5}, "fit"), [5, 3, 4])
    with pytest.raises(ValueError, match=r"`class_weight` has no weight for class\(es\) \[2\] found in `y`"):
        data_adapters.sample_weights(y, None, {0: 1.0, 1: 1.0}, "fit")
    with pytest.raises(ValueError, match="cannot pass `class_weight` and `sample_weight` at the same time"):
        data_adapters.sample_weights(y, np.ones(5), {0: 1.0}, "fit")


def test_sample_weights_are_a_checked_column_of_floats():
    y = np.zeros(3, dtype="float32")
    sw = data_adapters.sample_weights(y, [[1], [2], [3]], None, "fit")
    assert sw.dtype == np.float32 and sw.tolist() == [1.0, 2.0, 3.0]
    assert data_adapters.sample_weights(y, None, None, "fit") is None
    with pytest.raises(ValueError, match="`sample_weight` must be non-negative, received a minimum of -1"):
        data_adapters.sample_weights(y, [1, -1, 2], None, "fit")
    with pytest.raises(ValueError, match=r"`sample_weight` must have shape \(samples,\), received shape \(3, 2\)"):
        data_adapters.sample_weights(y, np.ones((3, 2)), None, "fit")


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x, y, sw = arrays()
    (tx, ty, tsw), (vx, vy, vsw) = data_adapters.train_validation_split((x.tolist(), y, sw), 0.25, "fit")
    assert (len(tx), len(vx)) == (7, 3)  # floor(10 · 0.75) samples train
    np.testing.assert_array_equal(vy[:, 0], [70, 80, 90])
    np.testing.assert_array_equal(vx, x[7:])  # converted to an array first
    np.testing.assert_array_equal(tsw, sw[:7])
    (_, _, no_weights), (_, _, still_none) = data_adapters.train_validation_split((x, y, None), 0.5, "fit")
    assert no_weights is None and still_none is None
    with pytest.raises(ValueError, match=r"`validation_split` must be in \[0, 1\), received 1.5"):
        data_adapters.train_validation_split((x, y, None), 1.5, "fit")
    with pytest.raises(ValueError, match=r"empty training or validation set with 10 samples \(training gets 0,"):
        data_adapters.train_validation_split((x, y, None), 0.99, "fit")
    with pytest.raises(ValueError, match="`x` has 10 samples, `y` has 9 samples"):
        data_adapters.train_validation_split((x, y[:9], None), 0.5, "fit")


def test_validation_data_unpacks_to_three_items():
    assert data_adapters.unpack_validation_data(("x", "y"), "fit") == ("x", "y", None)
    assert data_adapters.unpack_validation_data(["x", "y", "w"], "fit") == ("x", "y", "w")
    with pytest.raises(ValueError, match="`validation_data` must be a tuple .* received tuple of length 1"):
        data_adapters.unpack_validation_data(("x",), "fit")


def multi_hot(n=400, d=1000, seed=0):
    """1.6 MB of 0/1 with about 2% ones: over the size and under the density where SparseRows pay."""
    return (np.random.default_rng(seed).random((n, d)) < 0.02).astype("float32")


def stack(*inner, dtype="float32"):
    """A model's layers as it hands them to store_inputs: its InputLayer first."""
    return [layers.InputLayer(shape=(1000,), dtype=dtype), *inner]


def test_small_inputs_stay_as_they_are():
    x = multi_hot(100)  # 0.4 MB
    assert data_adapters.keeps_dense(x)
    assert data_adapters.store_inputs(x, stack(layers.Dense(4))) is x


@fast
def test_a_large_mostly_zero_input_is_stored_by_rows_only_for_a_first_dense():
    x = multi_hot()
    assert not data_adapters.keeps_dense(x)
    stored = data_adapters.store_inputs(x, stack(layers.Dense(4)))
    assert isinstance(stored, SparseRows) and stored.nnz == np.count_nonzero(x)
    np.testing.assert_array_equal(stored.toarray(), x)
    assert data_adapters.store_inputs(x, stack(layers.Dropout(0.5), layers.Dense(4))) is x
    dense = x + 0.5
    assert data_adapters.store_inputs(dense, stack(layers.Dense(4))) is dense  # mostly nonzero
    assert data_adapters.store_inputs(x, stack(layers.Dense(4, dtype="float64"), dtype="float64")) is x  # a cast


@fast
def test_shuffled_sparse_rows_are_gathered_row_by_row():
    x = multi_hot()
    rows = SparseRows.from_dense(x, x.size)
    backend.set_random_seed(1)
    adapter = ArrayDataAdapter(rows, batch_size=64, shuffle=True)
    backend.set_random_seed(1)
    order = backend.make_rng().permutation(len(x))
    first = next(adapter.get_epoch_iterator())[0]
    assert isinstance(first, SparseRows)
    np.testing.assert_array_equal(first.toarray(), x[order[:64]])

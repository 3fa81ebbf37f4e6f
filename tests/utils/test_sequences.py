"""pad_sequences and split_dataset against Keras 3 (both run on the torch backend); timeseries_dataset_from_array
against the examples Keras documents (Keras 3 builds it on tf.data or grain, neither installed here)."""

import random

import numpy as np
import pytest

from glassnet import utils

SEQUENCES = [[1, 2, 3, 4, 5], [6], [], [7, 8, 9]]


@pytest.mark.parametrize("kwargs", [
    {}, {"maxlen": 3}, {"maxlen": 3, "padding": "post"}, {"maxlen": 3, "truncating": "post"},
    {"maxlen": 7, "padding": "post", "value": -1.0}, {"dtype": "float32", "value": 0.5},
    {"maxlen": 2, "dtype": "int64", "padding": "post", "truncating": "post"},
])
def test_pad_sequences_matches_keras(keras, kwargs):
    ours, theirs = utils.pad_sequences(SEQUENCES, **kwargs), keras.utils.pad_sequences(SEQUENCES, **kwargs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_to_length_zero():
    assert utils.pad_sequences(SEQUENCES, maxlen=0).shape == (4, 0)  # Keras 3.15 fails to broadcast here


def test_pad_sequences_of_vectors_and_strings_match_keras(keras):
    steps = [np.ones((2, 3)), np.full((4, 3), 2.0)]
    np.testing.assert_array_equal(utils.pad_sequences(steps, maxlen=3, dtype="float32"),
                                  keras.utils.pad_sequences(steps, maxlen=3, dtype="float32"))
    words = [["a", "b"], ["c"]]
    np.testing.assert_array_equal(utils.pad_sequences(words, dtype=object, value="<pad>"),
                                  keras.utils.pad_sequences(words, dtype=object, value="<pad>"))


@pytest.mark.parametrize("call, message", [
    (lambda pad: pad(5), "`sequences` must be iterable"),
    (lambda pad: pad([[1], 2]), "`sequences` must be a list of iterables"),
    (lambda pad: pad([[1]], value="x"), "is not compatible with `value`'s type"),
    (lambda pad: pad([[1]], padding="middle"), 'Padding type "middle" not understood'),
    (lambda pad: pad([[1]], truncating="middle"), 'Truncating type "middle" not understood'),
    (lambda pad: pad([np.ones((2, 3)), np.ones((2, 4))]), r"Shape of sample \(4,\) of sequence at position 1"),
])
def test_pad_sequences_errors_match_keras(keras, call, message):
    for pad in (utils.pad_sequences, keras.utils.pad_sequences):
        with pytest.raises(ValueError, match=message):
            call(pad)


def test_timeseries_windows_are_keras_documented_example_1():
    """Keras's docstring: indices 0..98, sequence_length=10, sampling_rate=2, sequence_stride=3."""
    ds = utils.timeseries_dataset_from_array(np.arange(99), None, sequence_length=10, sampling_rate=2,
                                             sequence_stride=3, batch_size=128)
    (windows,) = list(ds)
    np.testing.assert_array_equal(windows[0], [0, 2, 4, 6, 8, 10, 12, 14, 16, 18])
    np.testing.assert_array_equal(windows[1], [3, 5, 7, 9, 11, 13, 15, 17, 19, 21])
    np.testing.assert_array_equal(windows[2], [6, 8, 10, 12, 14, 16, 18, 20, 22, 24])
    np.testing.assert_array_equal(windows[-1], [78, 80, 82, 84, 86, 88, 90, 92, 94, 96])


def test_timeseries_targets_are_keras_documented_example_2():
    """Keras's docstring: the past 10 steps predict the next one."""
    data = np.arange(200, dtype=np.float32) * 0.5
    ds = utils.timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10, batch_size=32)
    inputs, targets = ds[0]
    np.testing.assert_array_equal(inputs[0], data[:10])
    assert targets[0] == data[10]
    assert len(ds) == 6 and sum(len(b[0]) for b in ds) == 181  # 190 steps give 181 windows of 10


def test_timeseries_start_end_shuffle_and_unbatched():
    data = np.arange(50)
    ds = utils.timeseries_dataset_from_array(data, data * 10, sequence_length=4, start_index=5, end_index=30,
                                             batch_size=None)
    window, target = ds[0]
    np.testing.assert_array_equal(window, [5, 6, 7, 8])
    assert target == 50 and len(ds) == 22  # windows start at 5 … 26 and end before step 30
    shuffled = utils.timeseries_dataset_from_array(data, None, sequence_length=4, shuffle=True, seed=3,
                                                   batch_size=None)
    starts = np.arange(47)
    np.random.RandomState(3).shuffle(starts)  # Keras shuffles the start positions with RandomState(seed)
    np.testing.assert_array_equal([w[0] for w in shuffled], starts)
    shuffled.on_epoch_end()  # a new order of the same windows each epoch
    again = [w[0] for w in shuffled]
    assert sorted(again) == list(range(47)) and again != starts.tolist()
    with pytest.raises(ValueError, match="`sequence_stride` must be higher than 0"):
        utils.timeseries_dataset_from_array(data, None, 4, sequence_stride=0)
    with pytest.raises(ValueError, match="`end_index` must be higher than `start_index`"):
        utils.timeseries_dataset_from_array(data, None, 4, start_index=10, end_index=5)


def test_a_timeseries_dataset_trains_a_model():
    import glassnet as gk

    series = np.sin(np.arange(300) / 10).astype(np.float32)
    ds = utils.timeseries_dataset_from_array(series[:-5, None], series[5:], sequence_length=5, batch_size=64)
    model = gk.Sequential([gk.Input((5, 1)), gk.layers.Flatten(), gk.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(ds, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    assert model.predict(ds, verbose=0).shape == (291, 1)


@pytest.mark.parametrize("sizes", [dict(left_size=0.8), dict(right_size=3), dict(left_size=4, right_size=6),
                                   dict(left_size=0.25, right_size=0.75)])
def test_split_dataset_sizes_match_keras(keras, sizes):
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    left, right = utils.split_dataset((x, y), **sizes)
    k_left, k_right = keras.utils.split_dataset((x, y), **sizes)  # torch Subsets of (x_i, y_i) samples
    assert (len(left[0]), len(right[0])) == (len(k_left), len(k_right))
    kept = sorted(right[1].tolist() + left[1].tolist())
    assert kept == sorted(int(k[1]) for part in (k_left, k_right) for k in part)


def test_split_dataset_takes_the_first_and_the_last_samples_as_keras_reference():
    """Keras's tf.data version (its reference: on torch it returns random_split Subsets) keeps the first
    left_size samples and the last right_size ones, after random.seed(seed); random.shuffle(samples)."""
    x = np.arange(10)
    left, right = utils.split_dataset(x, left_size=0.25, right_size=0.5)
    np.testing.assert_array_equal(left, [0, 1])  # round(2.5) = 2
    np.testing.assert_array_equal(right, [5, 6, 7, 8, 9])
    samples = list(range(10))
    random.seed(7)
    random.shuffle(samples)
    left, right = utils.split_dataset(x, left_size=6, shuffle=True, seed=7)
    np.testing.assert_array_equal(np.concatenate([left, right]), samples)


def test_split_dataset_shuffles_rows_together_and_keeps_structures():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    (left_x, left_y), (right_x, right_y) = utils.split_dataset([x, y], left_size=6, shuffle=True, seed=1)
    np.testing.assert_array_equal(left_x[:, 0], left_y * 2)  # rows stay together
    assert sorted(np.concatenate([left_y, right_y]).tolist()) == list(range(10))
    left, right = utils.split_dataset({"a": x, "b": y}, right_size=0.3)
    assert set(left) == {"a", "b"} and len(right["b"]) == 3
    only_left, only_right = utils.split_dataset(x, left_size=0.5)
    np.testing.assert_array_equal(np.concatenate([only_left, only_right]), x)


@pytest.mark.parametrize("sizes, message", [
    (dict(), "At least one of the `left_size` or `right_size` must be specified"),
    (dict(left_size=1.5), "`left_size` should be either a positive integer"),
    (dict(left_size=0.7, right_size=0.6), "The sum of `left_size` and `right_size` is greater than 1"),
    (dict(left_size="a"), "Invalid `left_size` Type"),
])
def test_split_dataset_errors_match_keras(keras, sizes, message):
    x = np.arange(10.0)
    for split in (utils.split_dataset, keras.utils.split_dataset):
        with pytest.raises((ValueError, TypeError), match=message):
            split(x, **sizes)

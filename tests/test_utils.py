"""utils checked against direct computations: Keras's to_categorical and L2 normalize, the book's
vectorize_sequences, feature-wise normalization and K-fold split."""

import numpy as np
import pytest

from glassnet import backend, utils


def test_to_categorical_matches_identity_rows():
    y = np.array([2, 0, 1, 2])
    expected = np.eye(3, dtype=np.float32)[y]
    got = utils.to_categorical(y)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(utils.to_categorical(y, num_classes=5), np.eye(5, dtype=np.float32)[y])


def test_to_categorical_drops_a_trailing_axis_of_one_and_keeps_other_axes():
    assert utils.to_categorical(np.array([[1], [0]])).shape == (2, 2)
    y = np.array([[0, 1, 2], [2, 1, 0]])
    got = utils.to_categorical(y)
    assert got.shape == (2, 3, 3)
    np.testing.assert_array_equal(got.argmax(-1), y)


def test_to_categorical_rejects_labels_out_of_range():
    with pytest.raises(ValueError, match=r"labels in \[0, 3\)"):
        utils.to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="integer"):
        utils.to_categorical([0.5, 1.0])


def test_multi_hot_equals_the_books_loop():
    rng = np.random.default_rng(0)
    sequences = [list(rng.integers(0, 50, size=n)) for n in (0, 1, 7, 30)]
    expected = np.zeros((len(sequences), 50))
    for i, sequence in enumerate(sequences):  # the book's vectorize_sequences
        for j in sequence:
            expected[i, j] = 1.0
    got = utils.multi_hot(sequences, 50)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match=r"token indices in \[0, 50\)"):
        utils.multi_hot([[1, 50]], 50)


def test_normalize_is_keras_l2_row_normalization():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
    got = utils.normalize(x)
    np.testing.assert_allclose(got, [[0.6, 0.8], [0.0, 0.0], [2**-0.5, -(2**-0.5)]])
    np.testing.assert_allclose(np.linalg.norm(utils.normalize(x, axis=0), axis=0), [1.0, 1.0])
    np.testing.assert_allclose(utils.normalize(x, order=1)[0], [3 / 7, 4 / 7])


def test_standardize_uses_training_statistics_for_test_data():
    rng = np.random.default_rng(1)
    train, test = rng.normal(5, 3, size=(100, 4)), rng.normal(5, 3, size=(20, 4))
    normalized, mean, std = utils.standardize(train)
    np.testing.assert_allclose(mean, train.mean(axis=0))
    np.testing.assert_allclose(std, train.std(axis=0))
    np.testing.assert_allclose(normalized.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(normalized.std(axis=0), 1)
    test_normalized, _, _ = utils.standardize(test, mean=mean, std=std)
    np.testing.assert_allclose(test_normalized, (test - train.mean(axis=0)) / train.std(axis=0))


def test_standardize_only_centres_a_constant_feature():
    x = np.array([[1.0, 2.0], [1.0, 4.0]])
    normalized, _, std = utils.standardize(x)
    np.testing.assert_array_equal(normalized[:, 0], [0, 0])
    assert std[0] == 0


def test_train_test_split_partitions_the_samples():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    x_train, x_test, y_train, y_test = utils.train_test_split(x, y, test_size=0.25, seed=0)
    assert (len(x_train), len(x_test)) == (7, 3)  # ceil(0.25 * 10)
    np.testing.assert_array_equal(x_train[:, 0] // 2, y_train)  # pairs stay together
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(10))
    _, x_test, _, y_test = utils.train_test_split(x, y, test_size=2, shuffle=False)
    np.testing.assert_array_equal(y_test, [8, 9])
    with pytest.raises(ValueError, match="same length"):
        utils.train_test_split(x, y[:5])


def test_k_fold_is_the_books_split():
    n, k = 404, 4
    folds = list(utils.k_fold(n, k))
    assert len(folds) == k
    m = n // k
    for i, (train, val) in enumerate(folds):  # the book: val = data[i*m:(i+1)*m], train = the rest
        np.testing.assert_array_equal(val, np.arange(i * m, (i + 1) * m))
        np.testing.assert_array_equal(train, np.concatenate([np.arange(0, i * m), np.arange((i + 1) * m, n)]))
    leftover = list(utils.k_fold(np.zeros((10, 3)), k=3))  # 10 // 3 = 3: sample 9 is always trained on
    assert all(9 in train and 9 not in val for train, val in leftover)


def test_k_fold_shuffle_covers_every_sample_once():
    folds = list(utils.k_fold(12, k=3, shuffle=True, seed=0))
    vals = [val for _, val in folds]
    assert [len(val) for val in vals] == [4, 4, 4]
    assert sorted(np.concatenate(vals).tolist()) == list(range(12))
    for train, val in folds:  # the rest of the samples, every one once
        assert sorted(np.concatenate([train, val]).tolist()) == list(range(12))
    assert not np.array_equal(np.concatenate(vals), np.arange(12))
    again = [val for _, val in utils.k_fold(12, k=3, shuffle=True, seed=0)]
    assert all(np.array_equal(a, b) for a, b in zip(vals, again))  # the seed repeats the split
    with pytest.raises(ValueError, match="2 <= k"):
        list(utils.k_fold(5, k=1))


def test_set_random_seed_is_the_backends():
    assert utils.set_random_seed is backend.set_random_seed


KERAS_FUNCTIONS = ["pad_sequences", "timeseries_dataset_from_array", "split_dataset", "image_dataset_from_directory",
                   "text_dataset_from_directory", "to_categorical", "normalize", "set_random_seed"]


@pytest.mark.parametrize("name", KERAS_FUNCTIONS)
def test_keras_utils_functions_take_keras_arguments_and_defaults(keras, name):
    """Every keras.utils function glassnet has takes Keras 3's arguments with Keras 3's defaults (less `format`,
    which picks tf.data or grain, and `preferred_backend`, which picks tf or torch datasets)."""
    import inspect

    ours = inspect.signature(getattr(utils, name)).parameters
    theirs = inspect.signature(getattr(keras.utils, name)).parameters
    for arg, param in theirs.items():
        if arg in ("format", "preferred_backend"):
            continue
        assert arg in ours, f"{name} lacks Keras's argument {arg}"
        assert ours[arg].default == param.default, f"{name}({arg}=…) defaults differ"


def test_utils_is_a_package_that_keeps_every_name():
    """The course's helpers moved to glassnet.utils.encoding; `from glassnet.utils import …` still finds them, and
    Sequence is the PyDataset class, no longer collections.abc.Sequence."""
    import collections.abc

    from glassnet.utils import encoding

    for name in ("k_fold", "multi_hot", "normalize", "standardize", "to_categorical", "train_test_split"):
        assert getattr(utils, name) is getattr(encoding, name)
    assert utils.Sequence is utils.PyDataset and utils.Sequence is not collections.abc.Sequence
    assert sorted(utils.__all__) == sorted(name for name in utils.__all__ if hasattr(utils, name))

"""The loaders against published facts of the real data (through GLASSNET_DATA_DIR, set by conftest.py)."""

import numpy as np
import pytest

from glassnet.datasets import _download, boston_housing, fashion_mnist, imdb, mnist


def _has(relpath: str) -> bool:
    return any((folder / relpath).exists() for folder in _download.data_dirs())


needs = {
    name: pytest.mark.skipif(not _has(folder), reason=f"{folder} is in no GLASSNET_DATA_DIR folder ({why})")
    for name, folder, why in [
        ("mnist", "mnist", "the shared datasets folder holds it"),
        ("imdb", "imdb", "the shared datasets folder holds it"),
        ("boston", "boston_housing", "the shared datasets folder holds it"),
        ("fashion", "fashion-mnist", "install it with: apt-get install -y dataset-fashion-mnist"),
    ]
}


@pytest.fixture(scope="module")
def mnist_data():
    return mnist.load_data()


@pytest.fixture(scope="module")
def imdb_default():
    return imdb.load_data()


@needs["mnist"]
def test_mnist_shapes_dtypes_and_first_label(mnist_data):
    (x_train, y_train), (x_test, y_test) = mnist_data
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train[0] == 5
    assert x_train.min() == 0 and x_train.max() == 255


@needs["mnist"]
def test_mnist_label_histograms(mnist_data):
    (_, y_train), (_, y_test) = mnist_data
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@needs["mnist"]
def test_mnist_from_an_explicit_folder(mnist_data):
    folder = next(d / "mnist" for d in _download.data_dirs() if (d / "mnist").is_dir())
    (_, y_train), (x_test, _) = mnist.load_data(path=folder)
    np.testing.assert_array_equal(y_train, mnist_data[0][1])
    np.testing.assert_array_equal(x_test, mnist_data[1][0])


@needs["fashion"]
def test_fashion_mnist_facts():
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert y_train[0] == 9
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


@needs["boston"]
def test_boston_housing_keras_split():
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data()
    assert x_train.shape == (404, 13) and x_test.shape == (102, 13)
    assert x_train.dtype == np.float64 and y_train.dtype == np.float64
    np.testing.assert_allclose(y_train[:10], [15.2, 42.3, 50, 21.1, 17.7, 18.5, 11.3, 15.6, 15.6, 14.4])
    np.testing.assert_allclose(x_train[0], [1.23247, 0, 8.14, 0, 0.538, 6.142, 91.7, 3.9769, 4, 307, 21, 396.9,
                                            18.72])
    assert x_test[0][0] == pytest.approx(18.0846) and y_test[0] == pytest.approx(7.2)


@needs["boston"]
def test_boston_housing_test_split_and_seed():
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(test_split=0.5, seed=1)
    assert (len(x_train), len(x_test)) == (253, 253)
    # Keras's rule: RandomState(seed).shuffle(arange(506)) orders the file's rows, the first ⌊506·(1 − split)⌋ train.
    # The default load (seed 113, split 0.2) gives the file's rows back through the inverse of its own order.
    def order(seed):
        indices = np.arange(506)
        np.random.RandomState(seed).shuffle(indices)
        return indices

    (x_default, y_default), (x_default_test, y_default_test) = boston_housing.load_data()
    x_file, y_file = np.empty((506, 13)), np.empty(506)
    x_file[order(113)] = np.concatenate([x_default, x_default_test])
    y_file[order(113)] = np.concatenate([y_default, y_default_test])
    np.testing.assert_array_equal(np.concatenate([x_train, x_test]), x_file[order(1)])
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), y_file[order(1)])
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=1.0)


@needs["imdb"]
def test_imdb_defaults_match_the_published_output(imdb_default):
    (x_train, y_train), (x_test, y_test) = imdb_default
    assert x_train.dtype == object and x_train.shape == (25000,) and x_test.shape == (25000,)
    assert type(x_train[0]) is list and type(x_train[0][0]) is int
    assert x_train[0][:8] == [1, 14, 22, 16, 43, 530, 973, 1622] and len(x_train[0]) == 218
    assert len(x_test[0]) == 68
    assert y_train.dtype == np.int64
    assert y_train[:3].tolist() == [1, 0, 0] and y_train[-3:].tolist() == [0, 1, 0]
    assert y_test[:3].tolist() == [0, 1, 1] and y_test[-3:].tolist() == [0, 0, 0]


@needs["imdb"]
def test_imdb_published_lengths(imdb_default):
    (x_train, _), (x_test, _) = imdb_default
    train_lengths = np.array([len(s) for s in x_train])
    test_lengths = np.array([len(s) for s in x_test])
    assert train_lengths.mean() == pytest.approx(238.71364, abs=1e-9)
    assert (train_lengths.max(), train_lengths.min(), train_lengths.argmin()) == (2494, 11, 6719)
    assert test_lengths.mean() == pytest.approx(230.8042, abs=1e-9)
    assert (test_lengths.max(), test_lengths.min()) == (2315, 7)


@needs["imdb"]
def test_imdb_first_review_decodes_to_the_books_text(imdb_default):
    (x_train, _), _ = imdb_default
    word_index = imdb.get_word_index()
    assert len(word_index) == 88584 and word_index["the"] == 1
    reverse = {rank: word for word, rank in word_index.items()}
    words = [reverse[i - 3] for i in x_train[0][1:9]]
    assert words == "this film was just brilliant casting location scenery".split()


@needs["imdb"]
def test_imdb_num_words_skip_top_maxlen_follow_keras(imdb_default):
    """Keras's rule, computed here from the default load: keep sequences shorter than maxlen (start mark
    included), then every index outside skip_top <= w < num_words becomes oov_char."""
    (x_train, y_train), (x_test, y_test) = imdb_default
    num_words, skip_top, maxlen, oov = 1000, 20, 60, 2
    (fx_train, fy_train), (fx_test, fy_test) = imdb.load_data(num_words=num_words, skip_top=skip_top, maxlen=maxlen)
    for xs, ys, got_x, got_y in [(x_train, y_train, fx_train, fy_train), (x_test, y_test, fx_test, fy_test)]:
        kept = [i for i, s in enumerate(xs) if len(s) < maxlen]
        assert 0 < len(kept) < len(xs)
        assert got_y.tolist() == ys[kept].tolist()
        expected = [[w if skip_top <= w < num_words else oov for w in xs[i]] for i in kept]
        assert list(got_x) == expected
    assert max(max(s) for s in fx_train) == num_words - 1


@needs["imdb"]
def test_imdb_oov_none_drops_words_and_index_from_shifts(imdb_default):
    (x_train, _), _ = imdb_default
    (dropped, _), _ = imdb.load_data(num_words=100, oov_char=None, start_char=None, index_from=0)
    raw = [w - 3 for w in x_train[0][1:]]  # default load: start mark 1, ranks shifted by index_from=3
    assert dropped[0] == [w for w in raw if w < 100]
    with pytest.raises(ValueError, match="Increase maxlen"):
        imdb.load_data(maxlen=2)


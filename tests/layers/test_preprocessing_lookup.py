"""The categorical preprocessing layers. CategoryEncoding and Discretization run in Keras 3 on torch and are
compared output for output (Discretization's adapt through Keras's own quantile-sketch functions, since Keras's
adapt itself needs TensorFlow). StringLookup, IntegerLookup, Hashing and TextVectorization need TensorFlow in
Keras 3 (they raise ImportError without it, as in this environment), so their expected values are the examples of
Keras's own docstrings (the hash buckets among them, which glassnet computes with the same FarmHash and SipHash),
checked by hand against its rules (vocabulary by count then token, both descending; '' and
'[UNK]' first; tf_idf = count · ln(1 + N/(1 + df)))."""

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers
from glassnet.layers import lookup
from glassnet.layers.fingerprints import fingerprint64
from tests.layers.keras_peer import comparable

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding_as_keras(keras, mode):
    x = np.array([[1, 2], [3, 3], [0, 1]])
    for data in (x, x[:, :1], np.array([3, 2, 0, 1])):
        expected = keras.ops.convert_to_numpy(keras.layers.CategoryEncoding(4, output_mode=mode)(data))
        got = layers.CategoryEncoding(4, output_mode=mode)(data)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got.numpy(), expected)
        assert layers.CategoryEncoding(4, output_mode=mode).compute_output_shape(data.shape) == expected.shape
    assert comparable(layers.CategoryEncoding(4, mode).get_config()) == comparable(
        keras.layers.CategoryEncoding(4, mode).get_config())


def test_category_encoding_count_weights_and_errors(keras):
    x, w = np.array([[1, 2, 2], [0, 3, 3]]), np.array([[0.5, 1.0, 2.0], [1.0, 0.25, 0.25]])
    expected = keras.ops.convert_to_numpy(keras.layers.CategoryEncoding(4, "count")(x, count_weights=w))
    np.testing.assert_allclose(layers.CategoryEncoding(4, "count")(x, count_weights=w).numpy(), expected)
    with pytest.raises(ValueError, match="0 <= values < num_tokens"):
        layers.CategoryEncoding(3)(np.array([[1, 3]]))
    with pytest.raises(ValueError, match="num_tokens must be set"):
        layers.CategoryEncoding()


def test_category_encoding_refuses_a_bad_value_anywhere_in_fits_data_before_the_first_step():
    """As the first layer, CategoryEncoding checks all of fit's x before any step: a value past num_tokens in the
    last batch leaves the weights as they were."""
    import glassnet as gk

    model = gk.Sequential([gk.Input((2,)), layers.CategoryEncoding(4), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.random.default_rng(0).integers(0, 4, size=(64, 2)), np.zeros((64, 1), dtype="float32")
    x[60, 1] = 4
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"0 <= values < num_tokens with num_tokens=4. Received: min=0.0, max=4.0"):
        model.fit(x, y, batch_size=16, shuffle=False, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


@pytest.mark.parametrize("mode", lookup.ENCODINGS)
def test_discretization_as_keras(keras, mode):
    x = np.array([[-1.5, 0.0, 0.2], [1.0, 3.0, 0.99]], dtype="float32")
    k = keras.layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode=mode)
    g = layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode=mode)
    expected = keras.ops.convert_to_numpy(k(x))
    got = g(x)
    assert str(got.dtype) == str(expected.dtype) and got.shape == expected.shape
    np.testing.assert_array_equal(got.numpy(), expected)
    assert g.get_config() == {**k.get_config(), "name": g.name}


def test_discretization_adapt_as_keras_sketch(keras):
    """Boundaries from adapt equal those of Keras's own summarize / merge_summaries / get_bin_boundaries, for one
    array and for several batches; they are near the true quantiles."""
    from keras.src.layers.preprocessing import discretization as kd

    data = np.random.default_rng(0).normal(size=(3000,)).astype("float32")
    for batches in ([data], np.array_split(data, 3)):
        summary = np.array([[], []], dtype="float32")
        for batch in batches:
            summary = kd.merge_summaries(kd.summarize(batch, 0.01), summary, 0.01)
        expected = kd.get_bin_boundaries(summary, 4).tolist()
        g = layers.Discretization(num_bins=4)
        g.adapt(batches if len(batches) > 1 else data)
        np.testing.assert_allclose(g.bin_boundaries, expected, rtol=1e-6)
    np.testing.assert_allclose(g.bin_boundaries, np.quantile(data, [0.25, 0.5, 0.75]), atol=0.05)
    rebuilt = layers.deserialize(layers.serialize(g))
    assert rebuilt.bin_boundaries == g.bin_boundaries
    with pytest.raises(ValueError, match="use `num_bins` instead"):
        layers.Discretization(bin_boundaries=[0.0]).adapt(data)


def test_string_lookup_keras_docstring_examples():
    """Keras's StringLookup examples: given vocabulary, adapted vocabulary, one_hot, multi_hot, count, tf_idf
    (with and without the OOV weight) and invert."""
    assert layers.StringLookup(vocabulary=VOCAB)(DATA).numpy().tolist() == [[1, 3, 4], [4, 0, 2]]
    layer = layers.StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert layer(DATA).numpy().tolist() == [[5, 3, 1], [1, 2, 4]]
    assert layer(DATA).dtype == np.int64
    np.testing.assert_array_equal(layers.StringLookup(vocabulary=VOCAB, output_mode="one_hot")(
        ["a", "b", "c", "d", "z"]).numpy(), np.eye(5)[[1, 2, 3, 4, 0]])
    data = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    assert layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(data).numpy().tolist() == [
        [0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    assert layers.StringLookup(vocabulary=VOCAB, output_mode="count")(data).numpy().tolist() == [
        [0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]
    tf_idf = layers.StringLookup(output_mode="tf_idf")
    tf_idf.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(tf_idf(data).numpy(), [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6)
    tf_idf.set_vocabulary(["[UNK]", *VOCAB], idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(tf_idf(data).numpy(), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], rtol=1e-6)
    inverse = layers.StringLookup(vocabulary=VOCAB, invert=True)
    assert inverse(layers.StringLookup(vocabulary=VOCAB)(DATA)).tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]


def test_string_lookup_mask_oov_and_limits():
    """A mask token takes index 0 (int mode) and is left out of the vectors; max_tokens keeps the most frequent;
    ties go to the larger token; several OOV indices share unknowns stably; bytes are decoded."""
    layer = layers.StringLookup(mask_token="", max_tokens=4)
    layer.adapt(np.array(["b", "a", "c", "a", "", "d", "d"]))
    assert layer.get_vocabulary() == ["", "[UNK]", "d", "a"]  # a and d twice; b, c once: dropped
    assert layer(np.array([b"a", b"", b"q"])).numpy().tolist() == [3, 0, 1]
    multi = layers.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="multi_hot")
    assert multi.get_vocabulary() == ["[UNK]", *VOCAB]
    assert multi([["a", "", "z"]]).numpy().tolist() == [[1, 1, 0, 0, 0]]
    two = layers.StringLookup(vocabulary=VOCAB, num_oov_indices=2)  # Keras's example: FarmHash buckets
    assert two([["a", "c", "d"], ["m", "z", "b"]]).numpy().tolist() == [[2, 4, 5], [0, 1, 3]]
    assert layers.StringLookup(vocabulary=VOCAB, pad_to_max_tokens=True, max_tokens=8,
                               output_mode="multi_hot")(DATA).shape == (2, 8)


def test_integer_lookup_keras_docstring_examples():
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    vocab = [12, 36, 1138, 42]
    assert layers.IntegerLookup(vocabulary=vocab)(data).numpy().tolist() == [[1, 3, 4], [4, 0, 2]]
    layer = layers.IntegerLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    assert layer(data).numpy().tolist() == [[5, 2, 1], [1, 3, 4]]
    oov2 = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=2)
    assert oov2(np.array([[12, 1138, 42], [37, 1000, 36]])).numpy().tolist() == [[2, 4, 5], [1, 0, 3]]
    oov4 = layers.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4)
    assert oov4(np.array([100, 300, 700, 1100, 1700, 2000])).numpy().tolist() == [0] * 6  # floormod, as Keras
    farm = layers.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="farmhash")
    assert farm(np.array([100, 300, 700, 1100, 1700, 2000])).numpy().tolist() == [3, 3, 2, 2, 0, 1]
    with pytest.raises(ValueError, match="`salt` can only be used when `oov_method='farmhash'`"):
        layers.IntegerLookup(salt=3)
    assert layers.IntegerLookup(vocabulary=vocab, invert=True)(np.array([[1, 3], [0, 4]])).tolist() == [
        [12, 1138], [-1, 42]]
    assert layers.IntegerLookup(vocabulary=vocab, output_mode="one_hot")(
        np.array([12, 36, 1138, 42, 7])).numpy().tolist() == np.eye(5)[[1, 2, 3, 4, 0]].tolist()


def test_lookup_errors_and_configs():
    with pytest.raises(ValueError, match="repeated term"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="reserved tokens"):
        layers.StringLookup(vocabulary=["a", "[UNK]"])
    with pytest.raises(ValueError, match="all inputs should be in vocabulary"):
        layers.StringLookup(vocabulary=VOCAB, num_oov_indices=0)(["z"])
    with pytest.raises(ValueError, match="`output_mode` must be `'int'` when `invert` is true"):
        layers.StringLookup(invert=True, output_mode="multi_hot")
    with pytest.raises(ValueError, match="Allowed values"):
        layers.IntegerLookup(output_mode="bits")
    config = layers.StringLookup(vocabulary=VOCAB, output_mode="count").get_config()
    assert {k: config[k] for k in ("max_tokens", "num_oov_indices", "mask_token", "oov_token", "vocabulary",
                                   "vocabulary_size", "output_mode", "vocabulary_dtype")} == {
        "max_tokens": None, "num_oov_indices": 1, "mask_token": None, "oov_token": "[UNK]", "vocabulary": VOCAB,
        "vocabulary_size": 5, "output_mode": "count", "vocabulary_dtype": "string"}
    rebuilt = layers.deserialize(layers.serialize(layers.IntegerLookup(vocabulary=[3, 1], mask_token=0)))
    assert rebuilt.get_vocabulary() == [0, -1, 3, 1]


def test_hashing_keras_docstring_examples():
    """Keras's Hashing examples (FarmHash without a salt, SipHash with one, the mask value at 0), which come from
    TensorFlow's hashes: glassnet computes the same two hashes."""
    letters = [["A"], ["B"], ["C"], ["D"], ["E"]]
    assert layers.Hashing(num_bins=3)(letters).numpy().ravel().tolist() == [1, 0, 1, 1, 2]
    assert layers.Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]]).numpy().ravel().tolist() \
        == [1, 1, 0, 2, 2]
    assert layers.Hashing(num_bins=3, salt=[133, 137])(letters).numpy().ravel().tolist() == [1, 2, 1, 0, 2]
    assert layers.Hashing(num_bins=3, salt=133)(letters).numpy().ravel().tolist() == [0, 0, 2, 1, 0]
    assert layers.Hashing(num_bins=3, salt=133).get_config()["salt"] == [133, 133]


def test_fingerprints_match_tensorflow():
    """tf.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3) is [0, 2, 2] (TensorFlow's documentation);
    integers hash as their decimal text (Keras's IntegerLookup farmhash example: [3, 3, 2, 2, 0, 1]); a 179-byte
    string takes FarmHash's long path (its value from FarmHash's C++ source, compiled)."""
    assert lookup.hash_buckets(np.array(["Hello", "TensorFlow", "2.x"]), 3).tolist() == [0, 2, 2]
    assert lookup.hash_buckets(np.array([100, 300, 700, 1100, 1700, 2000]), 4).tolist() == [3, 3, 2, 2, 0, 1]
    assert fingerprint64(" ".join(["glassnet"] * 20).encode()) == 12049928076894941839


def test_hashing_properties():
    """Bins in range and stable, strings and integers alike (floats cut to integers, as Keras), one_hot and
    multi_hot outputs."""
    values = np.array([[f"token{i}"] for i in range(200)])
    bins = layers.Hashing(num_bins=7)(values).numpy()
    assert bins.shape == (200, 1) and bins.dtype == np.int64 and bins.min() >= 0 and bins.max() < 7
    assert len(set(bins.ravel())) == 7
    ints = layers.Hashing(num_bins=3, mask_value=0)(np.array([0, 5, 11, 0])).numpy()
    assert ints[0] == ints[3] == 0 and set(ints[1:3]) <= {1, 2}
    np.testing.assert_array_equal(layers.Hashing(num_bins=5)(np.array([3.0, 7.9])).numpy(),
                                  layers.Hashing(num_bins=5)(np.array([3, 7])).numpy())
    assert layers.Hashing(num_bins=4, output_mode="one_hot")(np.array([["a"], ["b"]])).shape == (2, 4)
    hot = layers.Hashing(num_bins=4, output_mode="multi_hot")(np.array([["a", "b"]])).numpy()
    assert hot.shape == (1, 4) and 1 <= hot.sum() <= 2
    with pytest.raises(ValueError, match="`salt` argument"):
        layers.Hashing(num_bins=3, salt="pepper")


def test_numeric_preprocessing_inside_a_model():
    """CategoryEncoding and Discretization inside a Sequential: predict and fit run (they have no weights)."""
    x = np.random.default_rng(1).uniform(0, 3, size=(32, 2)).astype("float32")
    model = gk.Sequential([gk.Input((2,)), layers.Discretization(bin_boundaries=[1.0, 2.0], output_mode="count"),
                           layers.Dense(1)])
    model.compile("sgd", "mse")
    expected = layers.Discretization(bin_boundaries=[1.0, 2.0], output_mode="count")(x).numpy()
    assert expected.shape == (32, 3)
    np.testing.assert_allclose(model.predict(x, verbose=0), model.layers[-1](expected).numpy(), rtol=1e-6)
    history = model.fit(x, x[:, :1], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_lookup_in_a_functional_model():
    """Input(int64) → IntegerLookup(multi_hot) → Dense: the symbolic output has the encoding's shape and dtype, the
    summary row 0 parameters, and predict equals the layers called one after the other; fit runs."""
    inputs = gk.Input((3,), dtype="int64")
    encode = layers.IntegerLookup(vocabulary=[5, 7, 9], output_mode="multi_hot")
    encoded = encode(inputs)
    assert encoded.shape == (None, 4) and encoded.dtype == "float32"
    dense = layers.Dense(1)
    model = gk.Model(inputs, dense(encoded))
    assert model.count_params() == 5
    x = np.array([[5, 7, 1], [9, 9, 9]])
    np.testing.assert_allclose(model.predict(x, verbose=0), dense(encode(x)).numpy(), rtol=1e-6)
    model.compile("sgd", "mse")
    assert np.isfinite(model.fit(x, np.ones((2, 1)), epochs=2, verbose=0).history["loss"]).all()
    assert layers.TextVectorization(output_sequence_length=5)(gk.Input((1,))).shape == (None, 5)


def test_adapted_vocabularies_survive_configs_and_files(tmp_path):
    """An adapted layer's config carries its learned vocabulary (and idf weights), so a layer rebuilt from it, or a
    model saved and loaded, looks up the same indices."""
    for mode in ("int", "multi_hot", "count", "tf_idf"):
        layer = layers.StringLookup(mask_token="", output_mode=mode)
        layer.adapt(np.array([["a", "b"], ["a", "c"]]))
        rebuilt = layers.deserialize(layers.serialize(layer))
        assert rebuilt.get_vocabulary() == layer.get_vocabulary()
        np.testing.assert_allclose(rebuilt([["a", "z"], ["c", ""]]).numpy(), layer([["a", "z"], ["c", ""]]).numpy())
    encode = layers.IntegerLookup(output_mode="count")
    encode.adapt(np.array([[3, 3, 4], [5, 4, 4]]))
    inputs = gk.Input((3,), dtype="int64")
    model = gk.Model(inputs, layers.Dense(1)(encode(inputs)))
    model.save(tmp_path / "lookup.keras")
    x = np.array([[3, 9, 4], [5, 5, 5]])
    loaded = gk.models.load_model(tmp_path / "lookup.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)

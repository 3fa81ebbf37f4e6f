"""TextVectorization. Keras 3 runs it through TensorFlow (without TensorFlow, as here, constructing it raises
ImportError), so the expected values are Keras's docstring examples and values worked out by hand from its rules:
ASCII lowercasing, Keras's punctuation pattern deleted, splitting on ASCII whitespace, n-grams joined by a space (all
1-grams before all 2-grams), the vocabulary by count then token (both descending) after '' and '[UNK]' in 'int'
mode ('[UNK]' alone in the others), tf_idf = count · ln(1 + N/(1 + df)) with the mean idf for OOV."""

import time

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers

CORPUS = ["The cat sat.", "the CAT ran!", "a dog; a cat?"]


def test_keras_docstring_examples():
    layer = layers.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    out = layer([["foo qux bar"], ["qux baz"]])
    assert out.dtype == np.int64 and out.numpy().tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]
    given = layers.TextVectorization(max_tokens=5000, output_sequence_length=4,
                                     vocabulary=["earth", "wind", "and", "fire"])
    assert given.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    assert given.vocabulary_size() == 6


def test_standardize_split_and_vocabulary_order():
    """'cat' 3×, 'the' 2×, 'a' 2× (tie: 'the' > 'a'), then the singletons in descending order."""
    layer = layers.TextVectorization()
    layer.adapt(np.array(CORPUS))
    assert layer.get_vocabulary() == ["", "[UNK]", "cat", "the", "a", "sat", "ran", "dog"]
    out = layer(np.array(CORPUS)).numpy()
    assert out.tolist() == [[3, 2, 5, 0], [3, 2, 6, 0], [4, 7, 4, 2]]  # padded to the longest
    assert layer(["Über-CAT\u00a0x"]).numpy().tolist() == [[1]]  # ASCII-only rules: one unknown token
    batched = layers.TextVectorization()
    batched.adapt(np.array(CORPUS), batch_size=1, steps=2)  # the first two texts only
    assert batched.get_vocabulary() == ["", "[UNK]", "the", "cat", "sat", "ran"]
    lower = layers.TextVectorization(standardize="lower", split=None)
    lower.adapt(["A b.", "a B."])
    assert lower.get_vocabulary() == ["", "[UNK]", "a b."]
    chars = layers.TextVectorization(standardize=None, split="character")
    chars.adapt(["abca"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    custom = layers.TextVectorization(standardize=lambda texts: np.char.upper(texts), split=lambda t: t.split("-"))
    custom.adapt(["x-y-x"])
    assert custom.get_vocabulary() == ["", "[UNK]", "X", "Y"]


def test_ngrams_and_vector_modes():
    layer = layers.TextVectorization(ngrams=2, output_mode="multi_hot")
    layer.adapt(["a b a b"])  # a, b twice; 'a b' twice; 'b a' once
    assert layer.get_vocabulary() == ["[UNK]", "b", "a b", "a", "b a"]
    out = layer(["a b c", "b"])
    assert out.dtype == np.float32 and out.numpy().tolist() == [[1, 1, 1, 1, 0], [0, 1, 0, 0, 0]]
    count = layers.TextVectorization(ngrams=(2,), output_mode="count", vocabulary=["a b", "b a"])
    assert count(["a b a b x"]).numpy().tolist() == [[1, 2, 1]]  # 'a b' twice, 'b a' once, 'b x' unknown
    padded = layers.TextVectorization(max_tokens=6, output_mode="multi_hot", pad_to_max_tokens=True)
    padded.adapt(CORPUS)
    assert padded(CORPUS).shape == (3, 6) and padded.get_vocabulary() == ["[UNK]", "cat", "the", "a", "sat", "ran"]


def test_tf_idf():
    layer = layers.TextVectorization(output_mode="tf_idf")
    layer.adapt(CORPUS)
    vocab = layer.get_vocabulary()
    assert vocab == ["[UNK]", "cat", "the", "a", "sat", "ran", "dog"]
    df = np.array([3, 2, 1, 1, 1, 1])  # documents holding cat, the, a, sat, ran, dog
    idf = np.log(1 + 3 / (1 + df))
    expected = np.concatenate([[idf.mean()], idf]) * np.array([1, 1, 0, 2, 0, 0, 1])  # "a dog; a cat? zebra"
    np.testing.assert_allclose(layer(["a dog; a cat? zebra"]).numpy()[0], expected, rtol=1e-6)


def test_errors_and_config():
    with pytest.raises(ValueError, match="Allowed values"):
        layers.TextVectorization(output_mode="one_hot")
    with pytest.raises(ValueError, match="`ngrams` must be None, an integer, or a tuple"):
        layers.TextVectorization(ngrams=[1, 2])
    with pytest.raises(ValueError, match="must not be set if `output_mode` is not 'int'"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="input rank must be 1 or the last shape dimension must be 1"):
        layers.TextVectorization()(np.array([["a", "b"]]))
    with pytest.raises(RuntimeError, match="you must set the layer's vocabulary before calling it"):
        layers.TextVectorization(output_mode="multi_hot")(["a b"])
    assert layers.TextVectorization(output_mode="multi_hot")(gk.Input((1,))).shape == (None, None)
    with pytest.raises(ValueError, match="expects strings"):
        layers.TextVectorization()(np.array([1.0, 2.0]))
    layer = layers.TextVectorization(max_tokens=10, ngrams=2, output_mode="multi_hot", vocabulary=["x", "y"])
    config = layer.get_config()
    assert {k: config[k] for k in ("max_tokens", "standardize", "split", "ngrams", "output_mode",
                                   "output_sequence_length", "pad_to_max_tokens", "vocabulary",
                                   "vocabulary_size")} == {
        "max_tokens": 10, "standardize": "lower_and_strip_punctuation", "split": "whitespace", "ngrams": 2,
        "output_mode": "multi_hot", "output_sequence_length": None, "pad_to_max_tokens": False,
        "vocabulary": ["x", "y"], "vocabulary_size": 3}
    rebuilt = layers.deserialize(layers.serialize(layer))
    assert rebuilt.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(rebuilt(["x y z"]).numpy(), layer(["x y z"]).numpy())


def test_vectorized_text_trains_a_model():
    """The book's pattern: vectorize outside the model, train Dense on the multi_hot vectors."""
    texts = np.array(["good fun film", "great good", "bad dull film", "awful bad"] * 8)
    labels = np.array([1, 1, 0, 0] * 8, dtype="float32")
    vectorize = layers.TextVectorization(output_mode="multi_hot")
    vectorize.adapt(texts)
    x = vectorize(texts).numpy()
    model = gk.Sequential([gk.Input((vectorize.vocabulary_size(),)), layers.Dense(1, activation="sigmoid")])
    model.compile(gk.optimizers.Adam(learning_rate=0.1), "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, labels, epochs=40, verbose=0)
    assert model.evaluate(x, labels, verbose=0)[1] == 1.0


def test_vectorizing_many_reviews_is_fast():
    """2,500 review-sized texts (230 words each) with bigrams, multi_hot over 20,000 tokens: adapt and vectorize
    together in well under a few seconds (25,000 IMDB reviews take about ten times as long)."""
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(5000)])
    texts = [" ".join(words[rng.zipf(1.3, size=230) % 5000]) for _ in range(2500)]
    start = time.process_time()
    layer = layers.TextVectorization(ngrams=2, output_mode="multi_hot", max_tokens=20000)
    layer.adapt(texts)
    out = layer(texts)
    assert out.shape == (2500, 20000)
    assert time.process_time() - start < 6.0


@pytest.mark.parametrize("mode", ["int", "multi_hot", "count", "tf_idf"])
def test_adapted_layer_rebuilds_from_its_config(mode):
    layer = layers.TextVectorization(output_mode=mode, ngrams=2)
    layer.adapt(CORPUS)
    rebuilt = layers.deserialize(layers.serialize(layer))
    assert rebuilt.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_allclose(rebuilt(["the cat ran far"]).numpy(), layer(["the cat ran far"]).numpy())

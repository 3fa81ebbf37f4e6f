"""A model whose input is texts (Chollet ch. 11's ``Input(shape=(1,), dtype="string")`` → TextVectorization →
Dense): it trains exactly as the same Dense layers trained on the texts vectorized beforehand. (Keras 3 cannot run
this here: its TextVectorization needs TensorFlow.)"""

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers

TEXTS = np.array(["the movie was great", "awful film, really bad", "great great fun", "bad acting and bad plot",
                  "a fun and great plot", "really awful acting"] * 8)
LABELS = np.array([1, 0, 1, 0, 1, 0] * 8, dtype="float32")


def vectorizer():
    tv = layers.TextVectorization(max_tokens=40, output_mode="multi_hot", ngrams=2)
    tv.adapt(TEXTS)
    return tv


def test_a_text_model_trains_as_its_dense_layers_on_vectorized_texts():
    layers.reset_uids()
    tv = vectorizer()
    inputs = gk.Input(shape=(1,), dtype="string")
    hidden = layers.Dense(8, activation="relu", name="hidden")(tv(inputs))
    text_model = gk.Model(inputs, layers.Dense(1, activation="sigmoid", name="out")(hidden))
    vectors = tv(TEXTS[:, None]).numpy()
    dense_model = gk.Sequential([gk.Input((vectors.shape[1],)), layers.Dense(8, activation="relu"),
                                 layers.Dense(1, activation="sigmoid")])
    dense_model.set_weights(text_model.get_weights())
    for model, x in ((text_model, TEXTS[:, None]), (dense_model, vectors)):
        model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
        model.fit(x, LABELS, batch_size=8, epochs=3, shuffle=False, verbose=0)
    for a, b in zip(text_model.get_weights(), dense_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(text_model.predict(TEXTS[:4, None], verbose=0),
                               dense_model.predict(vectors[:4], verbose=0), rtol=1e-6)


def test_a_text_sequential_and_its_errors():
    layers.reset_uids()
    model = gk.Sequential([gk.Input(shape=(1,), dtype="string"), vectorizer(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    history = model.fit(TEXTS[:, None], LABELS, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.raises(TypeError, match="declared dtype='string', so argument `x` must hold texts"):
        model.fit(np.ones((4, 1)), LABELS[:4], verbose=0)

"""IMDB review sentiment from bags of bigrams, as Chollet writes it (Deep Learning with Python, 2nd ed., ch. 11).

Only the import changed: ``import glassnet as keras``. ``TextVectorization(ngrams=2, max_tokens=20000,
output_mode="multi_hot")`` learns the 20,000 most frequent words and word pairs from the training reviews and turns
each review into a multi-hot vector; Dense(16, relu) → Dropout(0.5) → Dense(1, sigmoid), rmsprop, binary
crossentropy, batch 32, 10 epochs, keeping the model of the best validation loss (``ModelCheckpoint``) for the
test set. The book reaches 0.90; the full run asserts ``test accuracy >= 0.89``.

The reviews as text: the IMDB loader holds word indices of the raw reviews (lowercased, punctuation removed), so
each review is decoded back to its words with ``imdb.get_word_index()``, as the book's ch. 4 decodes one. The book
splits the aclImdb folders instead: 20,000 training reviews, 5,000 for validation, 25,000 for the test, as here.
``--quick``: 1 epoch on 2,000 training reviews (500 of them for validation), tested on 2,000.

Outputs (the training-curve PNG, the best model, results.json) go to ``runs/imdb_bigrams/`` unless ``--out`` says
otherwise. Run: ``glassnet example imdb_bigrams [--quick] [--epochs N] [--seed N] [--out DIR]``.
"""

from __future__ import annotations

import os
import sys

import numpy as np

import glassnet as keras
from glassnet import layers
from glassnet.examples import _common

BAR_TEST_ACCURACY = 0.89
MAX_TOKENS = 20000
CHUNK = 5000  # reviews vectorized at once: 25,000 multi-hot rows of 20,000 floats would take 2 GB


def decode_reviews(sequences, word_index: dict[str, int], index_from: int = 3) -> np.ndarray:
    """Each sequence of word indices as its text: the start mark dropped, ranks shifted back by ``index_from``."""
    words = {rank + index_from: word for word, rank in word_index.items()}
    return np.array([" ".join(words[i] for i in seq[1:] if i in words) for seq in sequences], dtype=object)


def get_model(max_tokens: int = MAX_TOKENS, hidden_dim: int = 16) -> keras.Model:
    """The book's model on multi-hot vectors, compiled."""
    inputs = keras.Input(shape=(max_tokens,))
    x = layers.Dense(hidden_dim, activation="relu")(inputs)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop",
                  loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def evaluate_in_chunks(model: keras.Model, vectorize: layers.TextVectorization, texts: np.ndarray,
                       labels: np.ndarray) -> tuple[float, float]:
    """Test loss and accuracy over all ``texts``, vectorized ``CHUNK`` reviews at a time (weighted by size)."""
    totals = np.zeros(2)
    for start in range(0, len(texts), CHUNK):
        x = vectorize(texts[start:start + CHUNK])
        totals += len(x) * np.asarray(model.evaluate(x, labels[start:start + CHUNK], verbose=0))
    loss, accuracy = totals / len(texts)
    return float(loss), float(accuracy)


def main(argv: list[str] | None = None) -> dict:
    """Adapt the vectorizer, train with a validation hold-out, test the best model; returns the measured results."""
    args = _common.parse_args(
        argv, "imdb_bigrams", "IMDB: TextVectorization bigrams, multi-hot -> Dense(16) -> Dense(1), as in the book",
        quick=_common.IMDB_QUICK_RUN, epochs=10)

    from glassnet.datasets import imdb
    (train_data, y_train), (val_data, y_val), (test_data, y_test) = _common.imdb_splits(args.quick)
    word_index = imdb.get_word_index()
    train_texts = decode_reviews(train_data, word_index)
    val_texts = decode_reviews(val_data, word_index)
    test_texts = decode_reviews(test_data, word_index)

    text_vectorization = layers.TextVectorization(ngrams=2, max_tokens=MAX_TOKENS, output_mode="multi_hot")
    text_vectorization.adapt(train_texts)  # the training reviews only, as the book's text_only_train_ds
    x_train = text_vectorization(train_texts)
    x_val = text_vectorization(val_texts)

    model = get_model()
    model.summary()
    best_path = os.path.join(args.out, "binary_2gram.keras")
    os.makedirs(args.out, exist_ok=True)
    callbacks = [keras.callbacks.ModelCheckpoint(best_path, save_best_only=True)]
    watch = _common.Stopwatch()
    with watch.timing(args.epochs):
        history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=args.epochs, batch_size=32,
                            callbacks=callbacks)
    del x_train, x_val
    model = keras.models.load_model(best_path)
    test_loss, test_acc = evaluate_in_chunks(model, text_vectorization, test_texts, y_test)
    print(f"Test acc: {test_acc:.3f}")

    best_epoch = int(np.argmin(history.history["val_loss"])) + 1
    return _common.finish_accuracy_run(args, "IMDB bigrams (multi-hot)", BAR_TEST_ACCURACY, history.history,
                                       epochs=args.epochs, best_epoch=best_epoch,
                                       vocabulary_size=text_vectorization.vocabulary_size(),
                                       train_samples=len(train_texts), test_accuracy=test_acc, test_loss=test_loss,
                                       seconds_per_epoch=watch.seconds_per_epoch)


if __name__ == "__main__":
    sys.exit(_common.exit_code(main()))

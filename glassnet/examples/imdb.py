"""IMDB review sentiment with a small dense network, as Chollet writes it (Deep Learning with Python, 2nd ed., ch. 4).

Only the import changed: ``import glassnet as keras``. Reviews become 10,000-word multi-hot vectors (the book's
``vectorize_sequences``, here ``keras.utils.multi_hot``); Dense(16, relu) ×2 → Dense(1, sigmoid), rmsprop, binary
crossentropy. First the book's 20 epochs of batch 512 with the first 10,000 training reviews held out for
validation (the curves: it overfits after about 4 epochs), then a fresh model trained 4 epochs on all 25,000 and
evaluated on the test set. The book reaches 0.883-0.885; the full run asserts ``test accuracy >= 0.88``.
``--quick``: 2 epochs for each of the two runs.

Outputs (the training-curve PNG, results.json) go to ``runs/imdb/`` unless ``--out`` says otherwise.
Run: ``glassnet example imdb [--quick] [--seed N] [--out DIR]`` or ``python -m glassnet.examples.imdb``.
"""

from __future__ import annotations

import sys

import numpy as np

import glassnet as keras
from glassnet import layers
from glassnet.examples import _common

BAR_TEST_ACCURACY = 0.88


def build_model() -> keras.Sequential:
    """The book's model, compiled."""
    model = keras.Sequential([
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="rmsprop",
                  loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv: list[str] | None = None) -> dict:
    """Both runs; returns the measured results (test accuracy and loss, seconds per epoch, hold-out history)."""
    args = _common.parse_args(
        argv, "imdb", "IMDB: multi-hot reviews -> Dense(16) x2 -> Dense(1, sigmoid), as in the book",
        quick="2 epochs for the hold-out run and 2 for the final model")
    holdout_epochs, final_epochs = (2, 2) if args.quick else (20, 4)

    from glassnet.datasets import imdb
    (train_data, train_labels), (test_data, test_labels) = imdb.load_data(num_words=10000)

    x_train = keras.utils.multi_hot(train_data, 10000)
    x_test = keras.utils.multi_hot(test_data, 10000)
    y_train = np.asarray(train_labels).astype("float32")
    y_test = np.asarray(test_labels).astype("float32")

    # Setting aside a validation set
    x_val = x_train[:10000]
    partial_x_train = x_train[10000:]
    y_val = y_train[:10000]
    partial_y_train = y_train[10000:]

    model = build_model()
    model.build((None, 10000))
    model.summary()
    history = model.fit(partial_x_train,
                        partial_y_train,
                        epochs=holdout_epochs,
                        batch_size=512,
                        validation_data=(x_val, y_val))
    history_dict = history.history
    best_epoch = int(np.argmin(history_dict["val_loss"])) + 1
    print(f"Hold-out run: lowest validation loss {min(history_dict['val_loss']):.4f} at epoch {best_epoch}, "
          f"validation accuracy there {history_dict['val_accuracy'][best_epoch - 1]:.4f}")

    # Retraining a model from scratch
    model = build_model()
    watch = _common.Stopwatch()
    with watch.timing(final_epochs):
        model.fit(x_train, y_train, epochs=final_epochs, batch_size=512)
    results = model.evaluate(x_test, y_test)
    print(f"results: {results}")
    test_loss, test_acc = results

    return _common.finish_accuracy_run(args, "IMDB (10,000 held out)", BAR_TEST_ACCURACY, history_dict,
                                       holdout_epochs=holdout_epochs, epochs=final_epochs,
                                       test_accuracy=float(test_acc), test_loss=float(test_loss),
                                       best_holdout_epoch=best_epoch, seconds_per_epoch=watch.seconds_per_epoch)


if __name__ == "__main__":
    sys.exit(_common.exit_code(main()))

"""MNIST digits with a two-layer dense network, as Chollet writes it (Deep Learning with Python, 2nd ed., ch. 2).

Only the import changed: ``import glassnet as keras``. Dense(512, relu) → Dense(10, softmax), rmsprop, sparse
categorical crossentropy, 5 epochs of batch 128 on the 60,000 training images. The book reaches 0.9777 test
accuracy; the full run asserts ``test accuracy >= 0.978``. The book's run holds out no validation set, so the
curves show training loss and accuracy only. ``--quick``: 1 epoch (on the full training set).

Outputs (the training-curve PNG, results.json) go to ``runs/mnist/`` unless ``--out`` says otherwise.
Run: ``glassnet example mnist [--quick] [--seed N] [--out DIR]`` or ``python -m glassnet.examples.mnist``.
"""

from __future__ import annotations

import sys

import glassnet as keras
from glassnet import layers
from glassnet.examples import _common

BAR_TEST_ACCURACY = 0.978


def main(argv: list[str] | None = None) -> dict:
    """Train and evaluate; returns the measured results (test accuracy and loss, seconds per epoch, history)."""
    args = _common.parse_args(
        argv, "mnist", "MNIST: Dense(512, relu) -> Dense(10, softmax), as in the book",
        quick="1 epoch on the full training set")
    epochs = 1 if args.quick else 5

    from glassnet.datasets import mnist
    (train_images, train_labels), (test_images, test_labels) = mnist.load_data()

    model = keras.Sequential([
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])

    train_images = train_images.reshape((60000, 28 * 28))
    train_images = train_images.astype("float32") / 255
    test_images = test_images.reshape((10000, 28 * 28))
    test_images = test_images.astype("float32") / 255

    model.build((None, 28 * 28))
    model.summary()
    watch = _common.Stopwatch()
    with watch.timing(epochs):
        history = model.fit(train_images, train_labels, epochs=epochs, batch_size=128)

    test_loss, test_acc = model.evaluate(test_images, test_labels)
    print(f"test_acc: {test_acc}")

    return _common.finish_accuracy_run(args, "MNIST", BAR_TEST_ACCURACY, history.history, epochs=epochs,
                                       test_accuracy=float(test_acc), test_loss=float(test_loss),
                                       seconds_per_epoch=watch.seconds_per_epoch)


if __name__ == "__main__":
    sys.exit(_common.exit_code(main()))

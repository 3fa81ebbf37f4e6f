"""MNIST digits with a small convnet, as Chollet writes it (Deep Learning with Python, 2nd ed., ch. 8).

Only the import changed: ``import glassnet as keras``. Conv2D(32) → MaxPooling2D → Conv2D(64) → MaxPooling2D →
Conv2D(128), all 3×3 relu, then Flatten → Dense(10, softmax); rmsprop, sparse categorical crossentropy, 5 epochs of
batch 64 on the 60,000 training images. The book reaches 0.991 test accuracy; the full run asserts
``test accuracy >= 0.99``. ``--epochs N`` shortens the full run on a slow machine (the bar still applies);
``--quick``: 1 epoch on the first 2,000 training images, evaluated on the first 2,000 test images.

Outputs (the training-curve PNG, results.json) go to ``runs/convnet_mnist/`` unless ``--out`` says otherwise.
Run: ``glassnet example convnet_mnist [--quick] [--epochs N] [--seed N] [--out DIR]``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import glassnet as keras
from glassnet import layers
from glassnet.examples import _common

BAR_TEST_ACCURACY = 0.99
QUICK_SAMPLES = 2000  # training and test images of a --quick run


def build_model(dropout: float = 0.0) -> keras.Model:
    """The book's convnet (functional API), compiled: 104,202 parameters; with ``dropout``, a Dropout layer of that
    rate before the classifier (as the book's later convnets have)."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(filters=32, kernel_size=3, activation="relu")(inputs)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=64, kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters=128, kernel_size=3, activation="relu")(x)
    x = layers.Flatten()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="rmsprop",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def run(argv: list[str] | None, name: str, title: str, load_data: Callable[[], tuple], bar: float,
        dropout: float = 0.0, epochs: int = 5) -> dict:
    """Train the book's convnet (``dropout`` before its classifier, ``epochs`` epochs) on ``load_data()``'s 28×28
    images and evaluate it; returns the measured results (test accuracy and loss, seconds per epoch, history).
    Shared by the MNIST and Fashion-MNIST examples."""
    head = f"Dropout({dropout}) -> " if dropout else ""
    args = _common.parse_args(
        argv, name, f"{title}: Conv2D 32/64/128 + MaxPooling2D -> Flatten -> {head}Dense(10, softmax), as in the book",
        quick=f"1 epoch on the first {QUICK_SAMPLES} training images, tested on {QUICK_SAMPLES} test images",
        epochs=epochs)

    (train_images, train_labels), (test_images, test_labels) = load_data()
    if args.quick:
        train_images, train_labels = train_images[:QUICK_SAMPLES], train_labels[:QUICK_SAMPLES]
        test_images, test_labels = test_images[:QUICK_SAMPLES], test_labels[:QUICK_SAMPLES]
    train_images = train_images.reshape((len(train_images), 28, 28, 1))
    train_images = train_images.astype("float32") / 255
    test_images = test_images.reshape((len(test_images), 28, 28, 1))
    test_images = test_images.astype("float32") / 255

    model = build_model(dropout)
    model.summary()
    watch = _common.Stopwatch()
    with watch.timing(args.epochs):
        history = model.fit(train_images, train_labels, epochs=args.epochs, batch_size=64)

    test_loss, test_acc = model.evaluate(test_images, test_labels)
    print(f"Test accuracy: {test_acc:.3f}")

    return _common.finish_accuracy_run(args, title, bar, history.history, epochs=args.epochs,
                                       train_samples=len(train_images), test_accuracy=float(test_acc),
                                       test_loss=float(test_loss), seconds_per_epoch=watch.seconds_per_epoch)


def load_mnist() -> tuple:
    from glassnet.datasets import mnist

    return mnist.load_data()


def main(argv: list[str] | None = None) -> dict:
    """Train and evaluate on MNIST; returns the measured results."""
    return run(argv, "convnet_mnist", "MNIST convnet", load_mnist, BAR_TEST_ACCURACY)


if __name__ == "__main__":
    sys.exit(_common.exit_code(main()))

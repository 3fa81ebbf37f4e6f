"""Fighting overfitting on IMDB, as Chollet writes it (Deep Learning with Python, 2nd ed., ch. 5).

Only the import changed: ``import glassnet as keras``. The ch. 4 model (10,000-word multi-hot reviews →
Dense(16, relu) ×2 → Dense(1, sigmoid), rmsprop, binary crossentropy, 20 epochs of batch 512, 40% of the training
reviews held out by ``validation_split=0.4``) is trained three times: as it is, with L2 weight regularization
(``kernel_regularizer=regularizers.l2(0.002)`` on both hidden layers) and with ``Dropout(0.5)`` after each hidden
layer. Their validation losses are plotted together: the original's climbs after a few epochs while the
regularized models' stay lower. The full run asserts that both regularized models end with a lower validation loss
than the original. ``--quick``: 4 epochs each.

Outputs (the validation-curve PNG, results.json) go to ``runs/overfitting/`` unless ``--out`` says otherwise.
Run: ``glassnet example overfitting [--quick] [--epochs N] [--seed N] [--out DIR]``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

import glassnet as keras
from glassnet import layers, regularizers
from glassnet.examples import _common

NUM_WORDS = 10000


def original_model() -> keras.Sequential:
    return keras.Sequential([
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])


def l2_model() -> keras.Sequential:
    return keras.Sequential([
        layers.Dense(16, kernel_regularizer=regularizers.l2(0.002), activation="relu"),
        layers.Dense(16, kernel_regularizer=regularizers.l2(0.002), activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])


def dropout_model() -> keras.Sequential:
    return keras.Sequential([
        layers.Dense(16, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(16, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(1, activation="sigmoid"),
    ])


MODELS = {"original": original_model, "l2": l2_model, "dropout": dropout_model}


def plot_validation_losses(histories: dict[str, dict], ax) -> None:
    """Every model's validation loss per epoch on the matplotlib Axes ``ax``: the example's PNG, the notebook's
    plot."""
    for name, history in histories.items():
        epochs = range(1, len(history["val_loss"]) + 1)
        ax.plot(epochs, history["val_loss"], marker="o", markersize=3, label=f"{name}: validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation loss")
    ax.set_title("IMDB: the original model against L2 and dropout")
    ax.legend()


def save_validation_curves(histories: dict[str, dict], out: str | os.PathLike) -> str | None:
    """``plot_validation_losses`` saved as ``out/overfitting_validation.png``; without matplotlib a note and None
    (as the other examples' curves)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("Note: no validation-curve PNG saved: plotting needs matplotlib (pip install 'glassnet[plot]').")
        return None
    fig = Figure(figsize=(7, 4.5), layout="tight")
    plot_validation_losses(histories, fig.subplots())
    path = Path(out) / "overfitting_validation.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    print(f"Validation curves saved to {path}")
    return str(path)


def main(argv: list[str] | None = None) -> dict:
    """Train the three models; returns their histories and final validation losses."""
    args = _common.parse_args(argv, "overfitting", "IMDB: the ch. 4 model with and without L2 and dropout, as in "
                              "the book", quick="4 epochs each", epochs=20, quick_epochs=4)

    from glassnet.datasets import imdb
    (train_data, train_labels), _ = imdb.load_data(num_words=NUM_WORDS)
    train_data = keras.utils.multi_hot(train_data, NUM_WORDS)
    train_labels = np.asarray(train_labels).astype("float32")

    histories, watch = {}, _common.Stopwatch()
    for name, build in MODELS.items():
        print(f"--- {name} model ---")
        model = build()
        model.compile(optimizer="rmsprop",
                      loss="binary_crossentropy",
                      metrics=["accuracy"])
        with watch.timing(args.epochs):
            history = model.fit(train_data, train_labels, epochs=args.epochs, batch_size=512, validation_split=0.4,
                                verbose=2)
        histories[name] = history.history

    final = {name: float(h["val_loss"][-1]) for name, h in histories.items()}
    lowest = {name: float(min(h["val_loss"])) for name, h in histories.items()}
    for name in MODELS:
        print(f"{name}: final validation loss {final[name]:.4f}, lowest {lowest[name]:.4f}")
    results = {"example": "overfitting", "quick": args.quick, "seed": args.seed, "epochs": args.epochs,
               "final_val_loss": final, "lowest_val_loss": lowest, "seconds_per_epoch": watch.seconds_per_epoch,
               "history": histories}
    results["plot"] = save_validation_curves(histories, args.out)
    if args.quick:
        results["passed"] = None
    else:  # the demo's point: regularization keeps the validation loss down where the original overfits
        results["passed"] = all([
            _common.check_bar("L2 final validation loss", final["l2"], final["original"], higher_is_better=False),
            _common.check_bar("dropout final validation loss", final["dropout"], final["original"],
                              higher_is_better=False)])
    _common.save_results(results, args.out)
    return results


if __name__ == "__main__":
    sys.exit(_common.exit_code(main()))

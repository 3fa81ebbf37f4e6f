"""Boston Housing prices with K-fold validation, as Chollet writes it (Deep Learning with Python, 2nd ed., ch. 4).

Only the import changed: ``import glassnet as keras``. Features are normalized feature-wise with the training
mean and standard deviation (``keras.utils.standardize``); Dense(64, relu) ×2 → Dense(1), rmsprop, mse loss, mae
metric, batch 16. As in the book: 4-fold validation of 100 epochs (the score: mean validation MAE over the folds),
4-fold runs of 500 epochs for the curves (averaged over the folds), then a final model trained 130 epochs on all
404 training samples and evaluated on the 102 test samples. The book's training runs are silent (``verbose=0``);
each fold prints its score. The full run asserts ``mean fold validation MAE <= 2.5`` and ``test MAE <= 2.6``.
``--quick``: 2 folds of 20 epochs, 2-fold curves of 30 epochs, a final model of 30 epochs.

Outputs (the training-curve PNG, results.json) go to ``runs/boston_housing/`` unless ``--out`` says otherwise.
Run: ``glassnet example boston_housing [--quick] [--seed N] [--out DIR]`` or
``python -m glassnet.examples.boston_housing``.
"""

from __future__ import annotations

import sys

import numpy as np

import glassnet as keras
from glassnet import layers
from glassnet.examples import _common

BAR_MEAN_FOLD_MAE = 2.5
BAR_TEST_MAE = 2.6


def build_model() -> keras.Sequential:
    """The book's model, compiled; built anew for every fold because the folds must not share weights."""
    model = keras.Sequential([
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(1),
    ])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def main(argv: list[str] | None = None) -> dict:
    """K-fold scores, K-fold curves, final model; returns the measured results (MAEs, seconds per epoch, curves)."""
    args = _common.parse_args(
        argv, "boston_housing", "Boston Housing: Dense(64) x2 -> Dense(1), 4-fold validation, as in the book",
        quick="2 folds of 20 epochs, 2-fold curves of 30 epochs, final model 30 epochs")
    k, num_epochs, curve_epochs, final_epochs = (2, 20, 30, 30) if args.quick else (4, 100, 500, 130)

    from glassnet.datasets import boston_housing
    (train_data, train_targets), (test_data, test_targets) = boston_housing.load_data()

    # Normalizing the data, with the training statistics only
    train_data, mean, std = keras.utils.standardize(train_data)
    test_data, _, _ = keras.utils.standardize(test_data, mean, std)

    model = build_model()
    model.build((None, train_data.shape[1]))
    model.summary()

    # K-fold validation
    watch = _common.Stopwatch()
    all_scores = []
    for i, (train_idx, val_idx) in enumerate(keras.utils.k_fold(train_data, k)):
        print(f"Processing fold #{i}")
        model = build_model()
        with watch.timing(num_epochs):
            model.fit(train_data[train_idx], train_targets[train_idx],
                      epochs=num_epochs, batch_size=16, verbose=0)
        val_mse, val_mae = model.evaluate(train_data[val_idx], train_targets[val_idx], verbose=0)
        print(f"  validation MAE after {num_epochs} epochs: {val_mae:.4f}")
        all_scores.append(float(val_mae))
    mean_fold_mae = float(np.mean(all_scores))
    print(f"all_scores: {all_scores}\nmean validation MAE: {mean_fold_mae:.4f}")

    # Saving the validation logs at each fold, for the curves
    all_histories = []
    for i, (train_idx, val_idx) in enumerate(keras.utils.k_fold(train_data, k)):
        print(f"Processing fold #{i} ({curve_epochs} epochs, with validation)")
        model = build_model()
        with watch.timing(curve_epochs):
            history = model.fit(train_data[train_idx], train_targets[train_idx],
                                validation_data=(train_data[val_idx], train_targets[val_idx]),
                                epochs=curve_epochs, batch_size=16, verbose=0)
        all_histories.append(history.history)
    average_history = {key: np.mean([h[key] for h in all_histories], axis=0).tolist() for key in all_histories[0]}
    best_epoch = int(np.argmin(average_history["val_mae"])) + 1
    print(f"Average validation MAE is lowest at epoch {best_epoch}: {average_history['val_mae'][best_epoch - 1]:.4f}")

    # Training the final model
    model = build_model()
    with watch.timing(final_epochs):
        model.fit(train_data, train_targets, epochs=final_epochs, batch_size=16, verbose=0)
    test_mse_score, test_mae_score = model.evaluate(test_data, test_targets)
    print(f"test_mae_score: {test_mae_score}")

    results = {"example": "boston_housing", "quick": args.quick, "seed": args.seed, "k": k,
               "epochs": num_epochs, "curve_epochs": curve_epochs, "final_epochs": final_epochs,
               "fold_val_mae": all_scores, "mean_fold_val_mae": mean_fold_mae, "best_curve_epoch": best_epoch,
               "test_mae": float(test_mae_score), "test_mse": float(test_mse_score),
               "seconds_per_epoch": watch.seconds_per_epoch, "history": average_history}
    results["plot"] = _common.save_training_curves(average_history, "mae", args.out, "boston_housing_training.png",
                                                   f"Boston Housing ({k}-fold average)")
    if args.quick:
        results["passed"] = None
    else:
        fold_ok = _common.check_bar("mean fold validation MAE", mean_fold_mae, BAR_MEAN_FOLD_MAE,
                                    higher_is_better=False)
        test_ok = _common.check_bar("test MAE", test_mae_score, BAR_TEST_MAE, higher_is_better=False)
        results["passed"] = fold_ok and test_ok
    _common.save_results(results, args.out)
    return results


if __name__ == "__main__":
    sys.exit(_common.exit_code(main()))

"""The book's three end-to-end examples on the real data.

CI runs each example's ``--quick`` version in-process and asserts a real bar (measured over seeds, with margin);
the full runs assert the book's bars and are marked slow (GLASSNET_SLOW=1).
"""

import json
import os
import sys

import numpy as np
import pytest

from glassnet import examples
from glassnet.examples import _common, boston_housing, imdb, mnist

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_plot(results: dict, out) -> None:
    """results.json holds the run's figures; with matplotlib the curves are a PNG in ``out``, without it no PNG and
    ``plot`` is None."""
    saved = json.loads((out / "results.json").read_text())
    assert saved["test_mae" if "test_mae" in saved else "test_accuracy"] == pytest.approx(
        results["test_mae" if "test_mae" in results else "test_accuracy"])
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert results["plot"] is None
        assert [p.name for p in out.iterdir()] == ["results.json"]
        return
    with open(results["plot"], "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    assert str(out) in results["plot"]


def test_mnist_one_epoch_on_the_full_training_set(tmp_path, capsys):
    results = mnist.main(["--quick", "--seed", "0", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "Total params: 407,050" in printed  # 784·512 + 512 + 512·10 + 10
    assert "469/469" in printed  # ceil(60000 / 128) steps: the whole training set, one epoch
    assert results["epochs"] == 1 and len(results["history"]["loss"]) == 1
    assert results["test_accuracy"] >= 0.95  # seeds 0-2 measured 0.9589-0.9610
    assert results["passed"] is None  # quick runs assert no book bar
    check_plot(results, tmp_path)


def test_imdb_two_epochs_on_all_training_data(tmp_path, capsys):
    results = imdb.main(["--quick", "--seed", "0", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "Total params: 160,305" in printed  # 10000·16 + 16 + 16·16 + 16 + 16 + 1
    assert "30/30" in printed and "49/49" in printed  # 15,000 then 25,000 samples in batches of 512
    history = results["history"]
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"} and len(history["loss"]) == 2
    assert history["val_loss"][1] < history["val_loss"][0]
    assert results["test_accuracy"] >= 0.865  # seeds 0-4 measured 0.878-0.886
    check_plot(results, tmp_path)


def test_boston_two_folds_few_epochs_and_the_same_seed_repeats_it(tmp_path, capsys):
    results = boston_housing.main(["--quick", "--seed", "0", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "Total params: 5,121" in printed  # 13·64 + 64 + 64·64 + 64 + 64 + 1
    assert len(results["fold_val_mae"]) == 2
    assert results["mean_fold_val_mae"] == pytest.approx(np.mean(results["fold_val_mae"]))
    assert results["mean_fold_val_mae"] <= 3.5  # seeds 0-11 measured 2.90-3.19
    assert results["test_mae"] <= 3.5  # seeds 0-11 measured 2.87-3.19
    assert len(results["history"]["val_mae"]) == 30
    check_plot(results, tmp_path)
    again = boston_housing.main(["--quick", "--seed", "0", "--out", str(tmp_path)])
    assert again["fold_val_mae"] == results["fold_val_mae"] and again["test_mae"] == results["test_mae"]


def test_outputs_go_under_runs_by_default_and_their_place_is_printed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = _common.parse_args([], "mnist", "d", quick="q")
    assert args.out == os.path.join("runs", "mnist")
    path = _common.save_results({"test_accuracy": np.float32(0.5), "plot": None, "history": {"loss": [1.0]}},
                                args.out)
    assert path == os.path.join("runs", "mnist", "results.json")
    assert json.loads((tmp_path / path).read_text()) == {"test_accuracy": 0.5, "plot": None,
                                                         "history": {"loss": [1.0]}}
    assert capsys.readouterr().out == f"Outputs in {os.path.join('runs', 'mnist')}: results.json\n"
    assert [p.name for p in (tmp_path / "runs" / "mnist").iterdir()] == ["results.json"]  # no temporary file left


def test_registry_names_every_example_and_refuses_unknown_names():
    assert sorted(examples.EXAMPLES) == ["boston_housing", "convnet_fashion_mnist", "convnet_mnist", "imdb",
                                         "imdb_bigrams", "imdb_lstm", "mnist", "overfitting"]
    with pytest.raises(ValueError, match="Unknown example 'cifar10'. Expected one of: mnist, imdb, boston_housing, "
                                         "convnet_mnist"):
        examples.run("cifar10", [])


def test_a_missed_bar_prints_fail_and_exits_with_1(capsys):
    assert _common.check_bar("test MAE", 2.7, 2.6, higher_is_better=False) is False
    assert _common.check_bar("test accuracy", 0.979, 0.978, higher_is_better=True) is True
    assert capsys.readouterr().out.splitlines() == ["FAIL: test MAE = 2.7000 (bar: <= 2.6)",
                                                    "PASS: test accuracy = 0.9790 (bar: >= 0.978)"]
    assert _common.exit_code({"passed": False}) == 1
    assert _common.exit_code({"passed": True}) == 0 and _common.exit_code({"passed": None}) == 0


def test_without_matplotlib_no_png_and_a_note_naming_the_extra(tmp_path, monkeypatch, capsys):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, name, None)  # makes importing them raise ImportError, even if loaded
    history = {"loss": [2.0, 1.0], "mae": [1.5, 1.0]}
    assert _common.save_training_curves(history, "mae", tmp_path, "curves.png", "t") is None
    assert "glassnet[plot]" in capsys.readouterr().out
    assert not list(tmp_path.iterdir())


SEEDS = ("0", "1", "2")  # a single run's figure moves by about ±0.2 MAE (Boston) or ±0.005 accuracy (IMDB)


def full_runs(module, tmp_path) -> list[dict]:
    """The full example once per seed (as benchmarks/examples.py records them)."""
    return [module.main(["--seed", seed, "--out", str(tmp_path)]) for seed in SEEDS]


def mean(runs: list[dict], key: str) -> float:
    return sum(r[key] for r in runs) / len(runs)


@pytest.mark.slow
def test_mnist_full_reaches_the_book(tmp_path):
    runs = full_runs(mnist, tmp_path)
    assert mean(runs, "test_accuracy") >= mnist.BAR_TEST_ACCURACY


@pytest.mark.slow
def test_imdb_full_reaches_the_book(tmp_path):
    runs = full_runs(imdb, tmp_path)
    assert all(len(r["history"]["val_loss"]) == 20 for r in runs)
    assert mean(runs, "test_accuracy") >= imdb.BAR_TEST_ACCURACY


@pytest.mark.slow
def test_boston_full_reaches_the_book(tmp_path):
    runs = full_runs(boston_housing, tmp_path)
    assert mean(runs, "mean_fold_val_mae") <= boston_housing.BAR_MEAN_FOLD_MAE
    assert mean(runs, "test_mae") <= boston_housing.BAR_TEST_MAE

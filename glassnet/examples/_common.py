"""What the book examples share: their command line, the quick runs' subsets, the training-curve PNG, the PASS/FAIL
bar check and results.json.

The examples themselves stay as the book writes them; only this plumbing around them lives here.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from glassnet import utils

RUNS_FOLDER = "runs"  # where the examples write, under the current folder (git ignores it in the repository)


def parse_args(argv: list[str] | None, name: str, description: str, quick: str,
               epochs: int | None = None, quick_epochs: int = 1) -> argparse.Namespace:
    """``--quick`` (a small version, described by ``quick``), ``--seed`` (default 0) and ``--out DIR`` (the PNG and
    results.json; default ``runs/NAME``); with ``epochs``, also ``--epochs N`` (default ``epochs``), for
    a shorter full run on a slow machine, and ``args.epochs`` is ``quick_epochs`` in a quick run. The namespace
    also carries ``example``: ``name``."""
    default_out = os.path.join(RUNS_FOLDER, name)
    parser = argparse.ArgumentParser(description=description)
    parser.set_defaults(example=name)
    parser.add_argument("--quick", action="store_true", help=f"run a small version: {quick}; no bar is asserted")
    parser.add_argument("--seed", type=int, default=0, help="random seed for weights and shuffling (default 0)")
    parser.add_argument("--out", default=default_out,
                        help=f"folder for the training-curve PNG and results.json (default: {default_out})")
    if epochs is not None:
        parser.add_argument("--epochs", type=int, default=epochs,
                            help=f"epochs of the full run (default {epochs}); fewer still assert the bar")
    args = parser.parse_args(argv)
    if epochs is not None and args.epochs < 1:
        parser.error(f"--epochs expects a positive number of epochs, received {args.epochs}")
    if epochs is not None and args.quick:
        args.epochs = quick_epochs
    utils.set_random_seed(args.seed)
    return args


IMDB_VALIDATION_REVIEWS = 5000  # the book's split of aclImdb/train: 20,000 for training, 5,000 for validation
IMDB_QUICK_REVIEWS = 2000  # training (a quarter of them for validation) and test reviews of a quick run
IMDB_QUICK_RUN = f"1 epoch on {IMDB_QUICK_REVIEWS} training reviews, tested on {IMDB_QUICK_REVIEWS}"


def imdb_splits(quick: bool, num_words: int | None = None) -> tuple:
    """IMDB's reviews (word-index sequences, ``num_words`` most frequent words) and float32 labels as the ch. 11
    examples split them: ``(train, val, test)`` pairs, the first 5,000 training reviews held out; a quick run keeps
    the first 2,000 training and test reviews and holds out a quarter of its training ones."""
    from glassnet.datasets import imdb

    (train_data, train_labels), (test_data, test_labels) = imdb.load_data(num_words=num_words)
    validation = IMDB_VALIDATION_REVIEWS
    if quick:
        train_data, train_labels = train_data[:IMDB_QUICK_REVIEWS], train_labels[:IMDB_QUICK_REVIEWS]
        test_data, test_labels = test_data[:IMDB_QUICK_REVIEWS], test_labels[:IMDB_QUICK_REVIEWS]
        validation = IMDB_QUICK_REVIEWS // 4
    train_labels = np.asarray(train_labels).astype("float32")
    test_labels = np.asarray(test_labels).astype("float32")
    return ((train_data[validation:], train_labels[validation:]), (train_data[:validation], train_labels[:validation]),
            (test_data, test_labels))


class Stopwatch:
    """Wall-clock seconds spent inside ``with watch.timing(epochs):`` blocks, and the epochs they ran."""

    def __init__(self):
        self.seconds = 0.0
        self.epochs = 0

    @contextmanager
    def timing(self, epochs: int):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start
            self.epochs += epochs

    @property
    def seconds_per_epoch(self) -> float:
        return self.seconds / max(self.epochs, 1)


def save_training_curves(history: dict[str, list], metric: str, out: str | os.PathLike, filename: str,
                         title: str) -> str | None:
    """Plot loss and ``metric`` per epoch (training, and validation where ``val_*`` is present) side by side with
    ``glassnet.inspect.plot_history``, save them as ``out/filename`` and return the path; without matplotlib print
    a note and return None. A standalone Figure: no window opens and pyplot's state is left alone."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("Note: no training-curve PNG saved: plotting needs matplotlib (pip install 'glassnet[plot]').")
        return None
    from glassnet.inspect import plot_history

    fig = Figure(figsize=(11, 4), layout="tight")
    for ax, name in zip(fig.subplots(1, 2), ("loss", metric)):
        plot_history({key: values for key, values in history.items() if key in (name, f"val_{name}")}, ax=ax)
        ax.set_ylabel(name)
        ax.set_title(f"{title}: {name}")
    path = Path(out) / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    print(f"Training curves saved to {path}")
    return str(path)


def save_results(results: dict, out: str | os.PathLike) -> str:
    """Write ``results`` (the measured figures, the history, the PNG's path) as ``out/results.json``, atomically,
    print where every output went, and return the JSON's path."""
    path = Path(out) / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps(results, indent=2, default=float) + "\n")
    os.replace(tmp, path)
    outputs = [str(path)] + ([results["plot"]] if results.get("plot") else [])
    print(f"Outputs in {Path(out)}: " + ", ".join(Path(p).name for p in outputs))
    return str(path)


def check_bar(name: str, value: float, bar: float, higher_is_better: bool) -> bool:
    """Print ``PASS``/``FAIL`` for one full-run bar (``value >= bar`` or ``value <= bar``) and return the verdict."""
    passed = value >= bar if higher_is_better else value <= bar
    sign = ">=" if higher_is_better else "<="
    print(f"{'PASS' if passed else 'FAIL'}: {name} = {value:.4f} (bar: {sign} {bar})")
    return passed


def finish_accuracy_run(args: argparse.Namespace, title: str, bar: float, history: dict, **measured) -> dict:
    """The end of a run whose bar is a test accuracy: its results (what ``args`` says of the run, ``measured``, which
    holds ``test_accuracy``, and ``history``), the training curves as ``NAME_training.png`` titled ``title``, the
    verdict against ``bar`` (None for a quick run), all saved as results.json; returns the results."""
    results = {"example": args.example, "quick": args.quick, "seed": args.seed, **measured, "history": history}
    results["plot"] = save_training_curves(history, "accuracy", args.out, f"{args.example}_training.png", title)
    results["passed"] = None if args.quick else check_bar("test accuracy", results["test_accuracy"], bar,
                                                          higher_is_better=True)
    save_results(results, args.out)
    return results


def exit_code(results: dict) -> int:
    """1 when a full run missed a bar, else 0 (quick runs assert none)."""
    return 1 if results.get("passed") is False else 0

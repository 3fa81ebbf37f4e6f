"""What the three book examples share: their command line, the training-curve PNG, and the PASS/FAIL bar check.

The examples themselves stay as the book writes them; only this plumbing around them lives here.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

from glassnet import utils

RUNS_FOLDER = "runs"  # where the examples write, under the current folder (git ignores it in the repository)


def parse_args(argv: list[str] | None, name: str, description: str, quick: str,
               epochs: int | None = None) -> argparse.Namespace:
    """``--quick`` (a small version, described by ``quick``), ``--seed`` (default 0) and ``--out DIR`` (the PNG and
    results.json; default ``runs/NAME``); with ``epochs``, also ``--epochs N`` (default ``epochs``), for
    a shorter full run on a slow machine."""
    default_out = os.path.join(RUNS_FOLDER, name)
    parser = argparse.ArgumentParser(description=description)
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
    utils.set_random_seed(args.seed)
    return args


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


def exit_code(results: dict) -> int:
    """1 when a full run missed a bar, else 0 (quick runs assert none)."""
    return 1 if results.get("passed") is False else 0

"""The book's three examples in full, over several seeds: the figures of issue 4, appended to ``benchmarks/RESULTS.md``.

``python -m benchmarks.examples [--seeds 0 1 2]`` or ``run_examples(seeds=(0, 1, 2))``. Each run calls the
example's ``main`` in this process, its printed output and PNG going to a temporary folder; one line per run is
printed. The table gives each figure's mean ± sample standard deviation, every seed's value, how many runs met
the bar, and the wall time per epoch.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import glassnet
from glassnet.examples import boston_housing, imdb, mnist

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

# (example module, result key, figure, bar, higher is better, what one epoch is)
FIGURES = (
    (mnist, "test_accuracy", "test accuracy", mnist.BAR_TEST_ACCURACY, True, "60,000 samples"),
    (imdb, "test_accuracy", "test accuracy", imdb.BAR_TEST_ACCURACY, True, "25,000 samples (final model)"),
    (boston_housing, "mean_fold_val_mae", "mean 4-fold validation MAE", boston_housing.BAR_MEAN_FOLD_MAE, False,
     "303 or 404 samples, all runs"),
    (boston_housing, "test_mae", "test MAE", boston_housing.BAR_TEST_MAE, False, "303 or 404 samples, all runs"),
)


def run_one(module, seed: int, out: Path) -> dict:
    """One full run of an example with ``seed``, its printed output kept in ``out``; returns its results."""
    buffer = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(buffer):
        results = module.main(["--seed", str(seed), "--out", str(out)])
    (out / f"{module.__name__.rsplit('.', 1)[-1]}-seed{seed}.log").write_text(buffer.getvalue())
    results["wall_seconds"] = time.perf_counter() - start
    return results


def mean_std(values: list[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.4f} ± {std:.4f}"


def report(runs: dict[str, list[dict]], seeds, load_before, load_after) -> str:
    """The RESULTS.md section: versions, machine load, one row per figure."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Examples (issue 4), {now}",
        "",
        f"glassnet {glassnet.__version__}, NumPy {np.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()} with {os.cpu_count()} CPUs; full runs of `glassnet.examples` with seeds "
        f"{', '.join(map(str, seeds))}; load average {load_before:.1f} before, {load_after:.1f} after "
        "(other processes share the CPUs, so times are upper bounds).",
        "",
        "| Example | Figure | Bar | Mean ± std | Per seed | Runs meeting the bar | Seconds per epoch | One epoch |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for module, key, figure, bar, higher, epoch in FIGURES:
        name = module.__name__.rsplit(".", 1)[-1]
        values = [r[key] for r in runs[name]]
        met = sum((v >= bar) if higher else (v <= bar) for v in values)
        per_epoch = [r["seconds_per_epoch"] for r in runs[name]]
        lines.append(f"| {name} | {figure} | {'≥' if higher else '≤'} {bar} | {mean_std(values)} | "
                     f"{', '.join(f'{v:.4f}' for v in values)} | {met}/{len(values)} | "
                     f"{statistics.fmean(per_epoch):.3f} | {epoch} |")
    return "\n".join(lines) + "\n"


def run_examples(seeds=(0, 1, 2), results_path: str | os.PathLike = RESULTS) -> dict[str, list[dict]]:
    """Run every example in full once per seed, append the table to ``results_path`` and return all results."""
    load_before = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="glassnet-examples-") as out:
        for module in (mnist, imdb, boston_housing):
            name = module.__name__.rsplit(".", 1)[-1]
            for seed in seeds:
                results = run_one(module, seed, Path(out))
                runs.setdefault(name, []).append(results)
                figures = {k: round(v, 4) for k, v in results.items()
                           if k in ("test_accuracy", "mean_fold_val_mae", "test_mae", "seconds_per_epoch")}
                print(f"{name} seed {seed}: {figures} passed={results['passed']} "
                      f"({results['wall_seconds']:.0f} s)", flush=True)
    section = report(runs, seeds, load_before, os.getloadavg()[0])
    with open(results_path, "a", encoding="utf-8") as f:
        f.write("\n" + section)
    print(section)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the book's examples in full over seeds; append to RESULTS.md")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    run_examples(seeds=tuple(args.seeds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

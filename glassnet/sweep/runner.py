"""Run a sweep: scikit-learn's GridSearchCV or RandomizedSearchCV with K-fold validation, on Dask or in-process.

Every fit (candidate × fold) builds its estimator from the same parameters, ``random_state`` included, so a fit's
result does not depend on which worker runs it or in which order: the Dask run equals the serial run.
"""

from __future__ import annotations

import csv
import importlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glassnet.sweep import cluster
from glassnet.sweep import data as sweep_data
from glassnet.sweep.config import ESTIMATORS, SweepConfig

RESULTS_FILE = "results.csv"
SUMMARY_FILE = "summary.json"
MODEL_FILE = "best_model.glassnet"


@dataclass
class SweepResult:
    """What a sweep found: the table rows (best first), the best candidate and its score on the held-out test set."""

    rows: list[dict]
    best_params: dict
    best_score: float
    test_score: float
    best_estimator: object
    scoring: str

    def table(self) -> str:
        """The results as an aligned text table: rank, the swept parameters, mean ± std of the fold scores."""
        headers = list(self.rows[0])
        shown = [h for h in headers if not h.startswith("split") and not h.startswith("std_fit")]
        cells = [[_cell(row[h]) for h in shown] for row in self.rows]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(shown)]
        lines = ["  ".join(h.rjust(w) for h, w in zip(shown, widths))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
        return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def estimator_class(name: str) -> type:
    """The estimator class named in ``[estimator] class``."""
    try:
        module = importlib.import_module(ESTIMATORS[name])
    except ImportError as e:
        raise ImportError(f"{name} needs scikit-learn: pip install 'glassnet[sklearn]'") from e
    return getattr(module, name)


def _distribution(spec):
    """A ``{distribution, low, high}`` table as a scipy.stats distribution; a list stays a list."""
    if isinstance(spec, list):
        return spec
    from scipy import stats

    low, high = spec["low"], spec["high"]
    if spec["distribution"] == "uniform":
        return stats.uniform(loc=low, scale=high - low)
    if spec["distribution"] == "loguniform":
        return stats.loguniform(low, high)
    return stats.randint(low, high + 1)


def build_search(config: SweepConfig):
    """The unfitted search object and the number of fits it will run on Dask (candidates × folds)."""
    from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid, ParameterSampler, RandomizedSearchCV

    estimator = estimator_class(config.estimator)(**config.fixed)
    if "random_state" in estimator.get_params() and "random_state" not in {**config.fixed, **config.params}:
        estimator.set_params(random_state=config.seed)
    folds = KFold(n_splits=config.cv, shuffle=config.shuffle, random_state=config.seed if config.shuffle else None)
    if config.method == "grid":
        search = GridSearchCV(estimator, config.params, scoring=config.scoring, cv=folds, refit=True,
                              error_score="raise")
        candidates = len(ParameterGrid(config.params))
    else:
        space = {name: _distribution(spec) for name, spec in config.params.items()}
        search = RandomizedSearchCV(estimator, space, n_iter=config.n_iter, scoring=config.scoring, cv=folds,
                                    refit=True, random_state=config.seed, error_score="raise")
        candidates = len(ParameterSampler(space, n_iter=config.n_iter, random_state=config.seed))
    return search, candidates * config.cv


def _rows(cv_results: dict, n_splits: int) -> list[dict]:
    """One row per candidate, best first: rank, parameters, mean/std and per-fold test scores, fit time."""
    param_keys = sorted(k for k in cv_results if k.startswith("param_"))
    rows = []
    for i in np.argsort(cv_results["rank_test_score"], kind="stable"):
        row = {"rank": int(cv_results["rank_test_score"][i])}
        for key in param_keys:
            value = cv_results[key][i]
            row[key[len("param_"):]] = value.item() if isinstance(value, np.generic) else value
        row["mean_test_score"] = float(cv_results["mean_test_score"][i])
        row["std_test_score"] = float(cv_results["std_test_score"][i])
        for split in range(n_splits):
            row[f"split{split}_test_score"] = float(cv_results[f"split{split}_test_score"][i])
        row["mean_fit_time"] = float(cv_results["mean_fit_time"][i])
        row["std_fit_time"] = float(cv_results["std_fit_time"][i])
        rows.append(row)
    return rows


def _fit(search, x, y, *, serial: bool, scheduler: str | None, workers: int | None, total: int, stream) -> None:
    """Fit the search in this process (``serial``) or with joblib's Dask backend on a cluster."""
    if serial:
        search.set_params(n_jobs=1).fit(x, y)
        return
    import joblib

    from glassnet.sweep.dask_backend import Progress, SweepDaskBackend

    with cluster.connect(scheduler, workers) as client:
        where = scheduler or "a local cluster"
        stream.write(f"Running {total} fits on {where} ({len(client.scheduler_info()['workers'])} workers)\n")
        # The folds become a fixed list, so their index arrays are the very objects the search passes to each fit
        # and the backend can hold them (with the data) on the cluster once, in a form a dead worker cannot lose.
        splits = list(search.cv.split(x, y))
        search.set_params(cv=splits)
        shared = [x, y, *(indices for split in splits for indices in split)]
        backend = SweepDaskBackend(Progress(total, stream), shared=shared, client=client)
        with joblib.parallel_config(backend=backend):
            search.set_params(n_jobs=-1).fit(x, y)


def _write_outputs(result: SweepResult, out: Path, config: SweepConfig) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / RESULTS_FILE, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(result.rows[0]))
        writer.writeheader()
        writer.writerows(result.rows)
    result.best_estimator.model_.save(out / MODEL_FILE)
    summary = {"config": config.source, "dataset": config.dataset, "estimator": config.estimator,
               "scoring": result.scoring, "best_params": result.best_params, "best_score": result.best_score,
               "test_score": result.test_score}
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")


def run(config: SweepConfig, scheduler: str | None = None, workers: int | None = None,
        out: str | os.PathLike | None = None, serial: bool = False, stream=None) -> SweepResult:
    """Run the sweep described by ``config`` and return its results.

    By default on a new local Dask cluster of ``workers`` processes; on the cluster at ``scheduler``
    (``tcp://HOST:PORT``) if given; in this process with joblib's ``n_jobs=1`` if ``serial``. With ``out``, the
    results table (CSV), a summary (JSON) and the best model (refit on all training data) are written there.
    """
    stream = stream if stream is not None else sys.stdout
    if serial and (scheduler is not None or workers is not None):
        raise ValueError("serial=True runs in this process; it takes no scheduler or workers")
    (x_train, y_train), (x_test, y_test) = sweep_data.load(config.data, config.seed)
    search, total = build_search(config)
    _fit(search, x_train, y_train, serial=serial, scheduler=scheduler, workers=workers, total=total, stream=stream)
    result = SweepResult(
        rows=_rows(search.cv_results_, config.cv), best_params=dict(search.best_params_),
        best_score=float(search.best_score_), test_score=float(search.score(x_test, y_test)),
        best_estimator=search.best_estimator_, scoring=config.scoring or "the estimator's score",
    )
    if out is not None:
        _write_outputs(result, Path(out), config)
    return result

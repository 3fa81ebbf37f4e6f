"""Sweeps on Dask: the config format, and real `dask scheduler` / `dask worker` processes on 127.0.0.1 running a
K-fold grid search whose results must equal the serial run (same seeds), also when a worker dies mid-sweep."""

from __future__ import annotations

import csv
import io
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("sklearn")

from glassnet import models  # noqa: E402
from glassnet.sweep import load_config, parse_config, run  # noqa: E402
from glassnet.sweep import main as sweep_main  # noqa: E402
from glassnet.sweep.runner import MODEL_FILE, RESULTS_FILE, SweepResult, build_search  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
START_TIMEOUT = 30

# Two candidates × three folds on Boston Housing; ~1 s per fit, so a worker can be killed while it trains.
SLOW_SWEEP = """
seed = 3
[data]
name = "boston_housing"
[estimator]
class = "GlassnetRegressor"
epochs = 300
batch_size = 16
optimizer = "rmsprop"
[search]
cv = 3
scoring = "neg_mean_absolute_error"
[search.params]
hidden_layer_sizes = [[8], [24]]
"""


def _split_scores(rows: list[dict]) -> dict:
    """Per-candidate fold scores, keyed by the candidate's parameters (the comparison ignores fit times)."""
    return {str(row["hidden_layer_sizes"]): [row[k] for k in row if k.startswith("split")] for row in rows}


# ----- the config format -----------------------------------------------------------------------------------------
def test_example_file_is_the_books_four_fold_grid():
    config = load_config(REPO / "examples" / "sweeps" / "boston.toml")
    search, fits = build_search(config)
    assert config.dataset == "boston_housing" and config.cv == 4 and config.method == "grid"
    assert fits == 4 * 2 * 2 * 2  # folds × the product of the value counts
    assert search.cv.get_n_splits() == 4 and not search.cv.shuffle
    assert search.estimator.get_params()["random_state"] == config.seed  # every fit seeded the same way


def test_random_search_draws_from_distributions():
    config = parse_config({
        "seed": 7, "data": {"name": "toy2d.circle"}, "estimator": {"class": "GlassnetClassifier"},
        "search": {"method": "random", "n_iter": 5, "cv": 2, "params": {
            "learning_rate": {"distribution": "loguniform", "low": 1e-4, "high": 1e-1},
            "epochs": {"distribution": "randint", "low": 3, "high": 6},
            "activation": ["relu", "tanh"]}},
    })
    search, fits = build_search(config)
    assert fits == 10
    from sklearn.model_selection import ParameterSampler

    draws = list(ParameterSampler(search.param_distributions, n_iter=5, random_state=7))
    assert all(1e-4 <= d["learning_rate"] <= 1e-1 and 3 <= d["epochs"] <= 6 for d in draws)
    assert draws == list(ParameterSampler(search.param_distributions, n_iter=5, random_state=7))  # seeded


@pytest.mark.parametrize("change, message", [
    ({"search": {"method": "bayes", "params": {"epochs": [1]}}}, "method must be one of"),
    ({"search": {"params": {"epochs": {"distribution": "uniform", "low": 1, "high": 2}}}}, "must be a list"),
    ({"search": {"method": "random", "params": {"epochs": {"distribution": "randint", "low": 1.5, "high": 3}}}},
     "integer bounds"),
    ({"search": {"params": {"epochs": []}}}, "empty list"),
    ({"search": {"folds": 3, "params": {"epochs": [1]}}}, "Unknown key(s) ['folds'] in [search]"),
    ({"estimator": {"class": "GlassnetRegressor", "epochs": 5}}, "both as fixed"),
    ({"estimator": {"class": "MLPRegressor"}}, "class must be one of"),
    ({"search": {"cv": 1, "params": {"epochs": [1]}}}, "cv must be an integer >= 2"),
])
def test_config_errors_name_the_key(change, message):
    raw = {"data": {"name": "boston_housing"}, "estimator": {"class": "GlassnetRegressor"},
           "search": {"params": {"epochs": [1, 2]}}}
    raw.update(change)
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        parse_config(raw)


# ----- a real cluster: scheduler and two workers as processes ---------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster():
    """``dask scheduler`` and two ``dask worker --nthreads 1`` processes (no nanny: a killed worker stays dead)."""
    if DASK is None:
        pytest.skip("the `dask` command is not installed")
    from distributed import Client

    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    processes = {"scheduler": subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)}
    try:
        for name in ("w0", "w1"):
            processes[name] = subprocess.Popen(
                [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--name", name, "--host", "127.0.0.1",
                 "--no-dashboard", "--death-timeout", str(START_TIMEOUT)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with Client(address, timeout=START_TIMEOUT, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT)
            yield address, processes, client
    finally:
        for process in reversed(processes.values()):
            _stop(process)


@pytest.fixture(scope="module")
def slow_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "slow.toml"
    path.write_text(SLOW_SWEEP)
    return load_config(path)


@pytest.fixture(scope="module")
def serial(slow_config) -> SweepResult:
    """The reference: the same sweep in this process, joblib n_jobs=1, no Dask."""
    return run(slow_config, serial=True)


def test_sweep_on_the_cluster_equals_the_serial_run(cluster, slow_config, serial, tmp_path, capsys):
    address, _, _ = cluster
    assert sweep_main([slow_config.source, "--scheduler", address, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "[6/6] fits done" in printed and "Best: {'hidden_layer_sizes'" in printed

    with open(tmp_path / RESULTS_FILE, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    on_dask = {row["hidden_layer_sizes"]: [float(row[f"split{i}_test_score"]) for i in range(3)] for row in rows}
    assert on_dask == _split_scores(serial.rows)  # bit-identical fold scores (CSV floats round-trip exactly)

    best = models.load_model(tmp_path / MODEL_FILE)
    x = np.random.default_rng(0).normal(size=(5, 13)).astype(np.float32)
    assert np.array_equal(best.predict(x, verbose=0), serial.best_estimator.model_.predict(x, verbose=0))


def test_a_worker_killed_mid_sweep_loses_no_result(cluster, slow_config, serial):
    address, processes, client = cluster
    alive = [name for name in ("w0", "w1") if processes[name].poll() is None]
    if len(alive) < 2:
        pytest.skip("needs both workers")
    out, outcome = io.StringIO(), {}

    def sweep():
        try:
            outcome["result"] = run(slow_config, scheduler=address, stream=out)
        except BaseException as e:  # reported by the assertion below
            outcome["error"] = e

    thread = threading.Thread(target=sweep)
    thread.start()
    victim, deadline = None, time.monotonic() + START_TIMEOUT
    while victim is None and time.monotonic() < deadline:  # wait until a worker is busy with a fit, then kill it
        fits = {addr: [k for k in keys if "_fit_and_score" in k] for addr, keys in client.processing().items()}
        names = {addr: info["name"] for addr, info in client.scheduler_info()["workers"].items()}
        victim, lost = next(((names[addr], keys) for addr, keys in fits.items() if keys and addr in names),
                            (None, None))
        if victim is None:
            time.sleep(0.02)
    assert victim is not None, "no fit started on the cluster"
    processes[victim].kill()  # at once: a fit takes well under a second, so any wait may let it finish
    processes[victim].wait(timeout=10)
    thread.join(timeout=120)

    assert not thread.is_alive(), "the sweep did not finish after the worker died"
    assert "error" not in outcome, outcome.get("error")
    assert "[6/6] fits done" in out.getvalue()
    assert _split_scores(outcome["result"].rows) == _split_scores(serial.rows)
    assert len(client.scheduler_info()["workers"]) == 1

    def times_started(key, dask_scheduler=None):
        return sum(1 for entry in dask_scheduler.story(key) if entry[2] == "processing")

    # the fit the dead worker was running was sent to a worker a second time: it ran again on the survivor
    assert any(client.run_on_scheduler(times_started, key) >= 2 for key in lost)


def test_default_local_cluster_classifier_on_a_playground_set_equals_serial():
    config = parse_config({
        "seed": 1, "data": {"name": "toy2d.xor", "samples": 120, "noise": 0.1},
        "estimator": {"class": "GlassnetClassifier", "epochs": 5, "batch_size": 16},
        "search": {"cv": 2, "params": {"hidden_layer_sizes": [[4], [8]]}},
    })
    out = io.StringIO()
    on_dask = run(config, workers=1, stream=out)  # a LocalCluster of one worker process on 127.0.0.1
    assert "Running 4 fits on a local cluster (1 workers)" in out.getvalue() and "[4/4] fits done" in out.getvalue()
    serial = run(config, serial=True)
    assert _split_scores(on_dask.rows) == _split_scores(serial.rows)
    # the test score is the best estimator's accuracy on the held-out 20% (24 of the 120 points), split as the
    # sweep splits: the toy set of seed 1, then train_test_split with seed 1
    from glassnet import utils
    from glassnet.datasets import toy2d

    x, y = toy2d.load("xor", n_samples=120, noise=0.1, seed=1)
    _, x_test, _, y_test = utils.train_test_split(x, y.astype(np.int64), test_size=0.2, seed=1)
    assert len(y_test) == 24
    accuracy = np.mean(on_dask.best_estimator.predict(x_test) == y_test)
    assert on_dask.test_score == pytest.approx(accuracy) and serial.test_score == on_dask.test_score

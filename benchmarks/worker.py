"""One measurement in its own process: ``python -m benchmarks.worker SPEC_JSON OUT_JSON``.

Tasks: ``data`` (build a workload's data and save it for the timed workers), ``time`` (one peer on one workload,
its data read from the saved file: rounds, disturbance, memory), ``losses`` (glassnet's loss curve next
to the NumPy reference's for the same initial weights and batch order) and ``roofline`` (matmul throughput).
The parent sets the thread variables (OMP/OpenBLAS/MKL_NUM_THREADS) before this process imports NumPy.
"""

from __future__ import annotations

import json
import sys
import traceback

from benchmarks import measure, peers
from benchmarks.workloads import WORKLOADS, batch_order, initial_weights


def time_peer(spec: dict) -> dict:
    peer = peers.load(spec["peer"])
    peer.prepare()
    rss_baseline = measure.rss_bytes()
    workload = WORKLOADS[spec["workload"]]
    from benchmarks.data import read

    data = read(spec["data_file"])
    rss_data = measure.rss_bytes()
    trainer = peer.Trainer(workload, data, initial_weights(workload, spec["seed"]), spec["seed"])
    trainer.warmup()
    peak_is_training_only = measure.reset_peak_rss()
    rounds = measure.time_rounds(trainer.run_round, spec["rounds"], spec["max_attempts"], spec["max_share"])
    return {
        "rounds": rounds,
        "version": peer.version(),
        "data_source": data.source,
        "data_bytes": data.nbytes,
        "rss_baseline": rss_baseline,
        "rss_with_data": rss_data,
        "peak_rss": measure.peak_rss_bytes(),
        "peak_rss_training_only": peak_is_training_only,
        "lifetime_peak_rss": measure.lifetime_peak_rss_bytes(),
        "storage": getattr(trainer, "describe", lambda: None)(),
    }


def save_data(spec: dict) -> dict:
    """Build the first ``samples`` samples of a workload's data and save them to ``path``."""
    from benchmarks.data import load, save

    data = load(WORKLOADS[spec["workload"]], spec["samples"])
    save(data, spec["path"])
    return {"data_source": data.source, "data_bytes": data.nbytes}


def loss_curves(spec: dict) -> dict:
    """Per-step running-mean losses (what fit reports after each batch) of glassnet (or Keras, to validate the
    reference) and of the NumPy reference, from the same initial weights over the same batches."""
    from benchmarks.data import load
    from benchmarks.peers.numpy_peer import Trainer as NumpyTrainer

    peer = peers.load(spec["peer"])
    peer.prepare()
    workload = WORKLOADS[spec["workload"]]
    samples = min(workload.samples, spec["steps"] * workload.batch_size)
    data = load(workload, samples)
    order = batch_order(samples, spec["seed"])
    weights = initial_weights(workload, spec["seed"])
    reference = NumpyTrainer(workload, data, weights, spec["seed"]).train(order)
    running, total = [], 0.0
    for i, loss in enumerate(reference, start=1):
        total += loss
        running.append(total / i)
    measured = peer.Trainer(workload, data, weights, spec["seed"]).running_mean_losses(order)
    return {"reference": running, "measured": measured, "data_source": data.source}


def roofline(spec: dict) -> dict:
    from benchmarks.roofline import lower_bound

    return {key: lower_bound(WORKLOADS[key], spec["samples"][key], spec["min_seconds"], spec["repeats"],
                             spec["max_share"]) for key in spec["workloads"]}


TASKS = {"data": save_data, "time": time_peer, "losses": loss_curves, "roofline": roofline}


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    try:
        result = TASKS[spec["task"]](spec)
    except Exception as error:  # noqa: BLE001 - report any failure to the parent instead of a traceback only
        traceback.print_exc()
        result = {"error": f"{type(error).__name__}: {error}"}
    with open(argv[1], "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

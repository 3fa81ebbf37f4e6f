"""Run the benchmark suite: ``python -m benchmarks`` or ``python benchmarks/run.py`` (``--help`` for options).

Default: workloads A, B, C, D for glassnet and every installed peer, then the matmul roofline, the loss-curve check
and the issue's targets (issue 16's convnet and LSTM, minutes per round, run with ``--only CONV,LSTM``); the report
is printed and appended to RESULTS.md. Every round runs in a fresh process, and the peers take turns round by round
(roofline, glassnet, PyTorch, …, roofline, glassnet, PyTorch, …): this virtual machine's speed drifts by up to 1.5×
over minutes, unseen by the CPU-share check, and turns make the peers' medians and the median matmul bound share the
same periods.
``--examples`` runs the full MNIST/IMDB/Boston examples instead (benchmarks/examples.py, when it exists).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
if str(REPO) not in sys.path:  # run as a script: make the package importable
    sys.path.insert(0, str(REPO))

from benchmarks import peers  # noqa: E402
from benchmarks.report import PeerResult, WorkloadResult, render  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402

RESULTS = BENCHMARKS / "RESULTS.md"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (epochs) per peer; default 5, quick 2")
    parser.add_argument("--only", default="A,B,C,D", help="workloads to run, e.g. A,B or CONV,LSTM")
    parser.add_argument("--peers", default=",".join(peers.PEERS),
                        help=f"peers to run (glassnet always runs); default {','.join(peers.PEERS)}")
    parser.add_argument("--quick", action="store_true", help="a few steps per round: a smoke test, not a benchmark")
    parser.add_argument("--examples", action="store_true", help="run the full examples (benchmarks/examples.py)")
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and torch (default 2)")
    parser.add_argument("--max-share", type=float, default=0.10,
                        help="a round is disturbed when other processes used more than this many cores (0.10)")
    parser.add_argument("--max-attempts", type=int, default=None,
                        help="rounds run at most per peer while replacing disturbed ones (default 2 × rounds; "
                             "quick: no replacement)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=None, help="seconds per worker (default 600, quick 180)")
    parser.add_argument("--json", type=Path, help="also write every measurement to this JSON file")
    parser.add_argument("--record", action=argparse.BooleanOptionalAction, default=None,
                        help="append the report to benchmarks/RESULTS.md (default: yes, except with --quick)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results file to append to")
    parser.add_argument("extra", nargs="*", help="after --: arguments passed to benchmarks/examples.py")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.max_attempts = args.max_attempts or (1 if args.quick else 2) * args.rounds
    args.timeout = args.timeout or (180 if args.quick else 600)
    args.record = (not args.quick) if args.record is None else args.record
    args.only = [k.strip().upper() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in args.only if k not in WORKLOADS]
    if unknown:
        parser.error(f"--only expects workloads among {','.join(WORKLOADS)}, received {','.join(unknown)}")
    names = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in names if p not in peers.PEERS]
    if unknown:
        parser.error(f"--peers expects names among {','.join(peers.PEERS)}, received {','.join(unknown)}")
    args.peers = ["glassnet"] + [p for p in names if p != "glassnet"]
    return args


def worker_env(threads: int) -> dict[str, str]:
    """The workers' environment: the thread count for every BLAS and torch, Keras on torch, the repo importable."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BENCH_THREADS"):
        env[name] = str(threads)
    env["KERAS_BACKEND"] = "torch"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    shared = REPO.parent / "shared" / "datasets"
    if "GLASSNET_DATA_DIR" not in env and shared.is_dir():
        env["GLASSNET_DATA_DIR"] = str(shared)
    return env


def run_worker(spec: dict, args: argparse.Namespace) -> dict:
    """Run one task in a fresh process; its JSON result, or {'error': ...} when it failed or timed out."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        try:
            done = subprocess.run([sys.executable, "-m", "benchmarks.worker", json.dumps(spec), str(out)],
                                  env=worker_env(args.threads), cwd=REPO, capture_output=True, text=True,
                                  timeout=args.timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {args.timeout:.0f} s"}
        if not out.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return {"error": f"worker exited with code {done.returncode}: {' / '.join(tail)}"}
        return json.loads(out.read_text())


def samples_for(key: str, quick: bool) -> int:
    return WORKLOADS[key].quick_samples if quick else WORKLOADS[key].samples


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def merge_turns(turns: list[dict]) -> dict:
    """One peer's turns as one result: every timed round (with its turn's number), and the memory figures of the
    turn that used the most."""
    merged = dict(max(turns, key=lambda t: t["peak_rss"] - t["rss_baseline"]))
    merged["rounds"] = [dict(r, turn=i) for i, t in enumerate(turns) for r in t["rounds"]]
    return merged


def merge_rooflines(turns: list[dict]) -> dict:
    """The roofline of the turn whose lower bound is the median (an error when none was measured), with every
    turn's bound listed: the bound is measured in each turn because the VM's matmul throughput drifts too."""
    measured = sorted((t for t in turns if "lower_bound_s" in t), key=lambda t: t["lower_bound_s"])
    if not measured:
        return turns[0] if turns else {"error": "not measured"}
    return {**measured[(len(measured) - 1) // 2], "turn_bounds_s": [t["lower_bound_s"] for t in turns
                                                                     if "lower_bound_s" in t],
            "bound_by_turn_s": [t.get("lower_bound_s") for t in turns]}


def run_suite(args: argparse.Namespace) -> list[WorkloadResult]:
    with tempfile.TemporaryDirectory() as folder:
        return [run_workload(key, Path(folder) / f"{key}.npz", args) for key in args.only]


def run_workload(key: str, data_file: Path, args: argparse.Namespace) -> WorkloadResult:
    """Every peer's turns on one workload, its roofline and its loss check; the data are built once into
    ``data_file`` and every timed worker reads them from there (benchmarks/data.py says why)."""
    workload, samples = WORKLOADS[key], samples_for(key, args.quick)
    built = run_worker({"task": "data", "workload": key, "samples": samples, "path": str(data_file)}, args)
    if "error" in built:
        raise RuntimeError(f"{key}: building the data failed: {built['error']}")
    result = WorkloadResult(workload, samples, args.quick, [], {}, None)
    rooflines = []
    statuses, raws = {}, {}
    for name in args.peers:
        module = peers.load(name)
        statuses[name], raws[name] = "ok", []
        if key not in module.WORKLOADS:
            statuses[name] = f"skipped: {module.LABEL} does not run workload {key}"
        elif (why := peers.missing(name)) is not None:
            statuses[name] = f"skipped: {why}"
    attempts = -(-args.max_attempts // args.rounds)
    for turn in range(args.rounds):
        roofline = run_worker({"task": "roofline", "workloads": [key], "samples": {key: samples},
                               "min_seconds": 0.01 if args.quick else 0.05, "repeats": 2 if args.quick else 5,
                               "max_share": args.max_share}, args)
        rooflines.append(roofline.get(key, roofline))
        progress(f"{key} roofline round {turn + 1}/{args.rounds}: {roofline.get('error', 'ok')}")
        for name in [n for n in args.peers if statuses[n] == "ok"]:
            start = time.perf_counter()
            raw = run_worker({"task": "time", "peer": name, "workload": key, "data_file": str(data_file),
                              "rounds": 1, "max_attempts": attempts, "max_share": args.max_share,
                              "seed": args.seed}, args)
            if "error" in raw:
                statuses[name] = f"failed: {raw['error']}"
            raws[name].append(raw)
            progress(f"{key} {name} round {turn + 1}/{args.rounds}: {statuses[name]} "
                     f"({time.perf_counter() - start:.0f} s)")
    result.roofline = merge_rooflines(rooflines)
    for name in args.peers:
        raw = merge_turns(raws[name]) if statuses[name] == "ok" else {}
        result.peers.append(PeerResult(name, peers.load(name).LABEL, statuses[name], raw, result.scale))
    if workload.loss_check_steps:  # CONV and LSTM have no NumPy reference
        steps = max(2, workload.loss_check_steps // 10) if args.quick else workload.loss_check_steps
        progress(f"{key}: loss curve of glassnet against the NumPy reference ({steps} steps) ...")
        result.losses = run_worker({"task": "losses", "peer": "glassnet", "workload": key, "steps": steps,
                                    "seed": args.seed}, args)
    return result


def run_examples(args: argparse.Namespace) -> int:
    script = BENCHMARKS / "examples.py"
    if not script.exists():
        print("examples: skipped, benchmarks/examples.py does not exist yet")
        return 0
    return subprocess.run([sys.executable, "-m", "benchmarks.examples", *args.extra], env=worker_env(args.threads),
                          cwd=REPO).returncode


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.examples:
        return run_examples(args)
    results = run_suite(args)
    mode = "quick" if args.quick else "default"
    text = render(results, mode, args.rounds, args.threads, args.max_share)
    print(text)
    if args.record:
        with open(args.results, "a") as f:
            f.write("\n" + text)
        progress(f"appended to {args.results}")
    if args.json:
        args.json.write_text(json.dumps([{
            "workload": r.workload.key, "samples": r.samples, "unit": r.unit, "scale": r.scale,
            "roofline": r.roofline, "losses": r.losses,
            "peers": [{"peer": p.peer, "label": p.label, "status": p.status, **p.raw} for p in r.peers],
        } for r in results], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

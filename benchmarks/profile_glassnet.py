"""Where glassnet's time goes on each workload: one round of ``fit`` under pyinstrument (``pip install
pyinstrument``), printed as a call tree. ``python -m benchmarks.profile_glassnet [--only A,B] [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="profile_glassnet", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="A,B,C,D", help="workloads to profile")
    parser.add_argument("--quick", action="store_true", help="profile a short round instead of a full one")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)  # before NumPy loads its BLAS
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("profile_glassnet needs pyinstrument: pip install pyinstrument", file=sys.stderr)
        return 1
    from benchmarks.data import load
    from benchmarks.peers.glassnet_peer import Trainer
    from benchmarks.workloads import WORKLOADS, initial_weights

    for key in [k.strip().upper() for k in args.only.split(",")]:
        workload = WORKLOADS[key]
        data = load(workload, workload.quick_samples if args.quick else workload.samples)
        trainer = Trainer(workload, data, initial_weights(workload), seed=0)
        trainer.warmup()
        profiler = Profiler(interval=0.0005)
        with profiler:
            trainer.run_round(0)
        print(f"=== {key}: {workload.title}, one round of {len(data.x)} samples ===")
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m benchmarks``: the benchmark suite's entry point (see benchmarks/run.py)."""

from benchmarks.run import main

raise SystemExit(main())

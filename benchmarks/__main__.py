"""``python -m benchmarks``: the benchmark suite's entry point (see benchmarks/run.py);
``python -m benchmarks playground`` measures the playground's frames per second (benchmarks/playground_speed.py)."""

import sys

if sys.argv[1:2] == ["playground"]:
    from benchmarks.playground_speed import main as playground

    raise SystemExit(playground(sys.argv[2:]))

from benchmarks.run import main  # noqa: E402 - the suite is imported only when it runs

raise SystemExit(main())

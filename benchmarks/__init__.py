"""glassnet's benchmark suite: workloads A, B, C timed for glassnet and its peers in one run (issue 7).

``python -m benchmarks`` (or ``python benchmarks/run.py``) runs it; ``benchmarks/engine_overhead.py`` times the
engine itself. Each peer trains in its own process; results are appended to ``benchmarks/RESULTS.md``.
"""

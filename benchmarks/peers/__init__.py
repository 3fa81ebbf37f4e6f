"""The peers glassnet is timed against, one module each; a peer whose package is missing is skipped.

Each module defines LABEL, REQUIRES (import names), WORKLOADS (the keys it runs), version(), prepare() (imports,
thread count) and Trainer(workload, data, weights, seed) with warmup() and run_round(i).
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

PEERS = ("glassnet", "torch", "keras", "sklearn", "numpy")


def load(name: str) -> ModuleType:
    """The module of peer ``name``."""
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; expected one of {', '.join(PEERS)}")
    return importlib.import_module(f"benchmarks.peers.{name}_peer")


def missing(name: str) -> str | None:
    """Why peer ``name`` cannot run here (a package that is not installed), or None when it can."""
    absent = [package for package in load(name).REQUIRES if importlib.util.find_spec(package) is None]
    return f"not installed: {', '.join(absent)}" if absent else None

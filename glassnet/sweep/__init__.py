"""Hyperparameter sweeps with K-fold validation, through scikit-learn's search objects on a Dask cluster.

``glassnet.sweep.run(load_config("boston.toml"))`` or ``glassnet sweep boston.toml``: a grid or random search over a
GlassnetRegressor/GlassnetClassifier's parameters, on a local Dask cluster or an existing one (``--scheduler``).
Needs the ``dask`` extra: ``pip install 'glassnet[dask]'``. The file format: ``docs/sweeps.md``.
"""

from glassnet.sweep.cli import command, configure_parser, main
from glassnet.sweep.config import SweepConfig, load_config, parse_config
from glassnet.sweep.runner import SweepResult, run

__all__ = ["SweepConfig", "SweepResult", "command", "configure_parser", "load_config", "main", "parse_config", "run"]

"""A sweep's settings, read from a TOML file: the data, the estimator, the search space and the validation.

The format is documented in ``docs/sweeps.md``; ``examples/sweeps/boston.toml`` is a complete file. Everything is
checked here, before any cluster starts, and an error names the table and key that is wrong.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ESTIMATORS = {"GlassnetRegressor": "glassnet.wrappers", "GlassnetClassifier": "glassnet.wrappers"}  # name: module
METHODS = ("grid", "random")
DISTRIBUTIONS = ("uniform", "loguniform", "randint")
TABLES = ("seed", "data", "estimator", "search")
DATA_KEYS = ("name", "samples", "noise", "test_split")
SEARCH_KEYS = ("method", "params", "cv", "shuffle", "scoring", "n_iter")


@dataclass
class SweepConfig:
    """One sweep: ``data`` names the dataset, ``estimator``/``fixed`` build the model, ``params`` is the space."""

    data: dict[str, Any]
    estimator: str
    fixed: dict[str, Any]
    params: dict[str, Any]
    method: str = "grid"
    cv: int = 4
    shuffle: bool = False
    scoring: str | None = None
    n_iter: int = 10
    seed: int = 0
    source: str | None = field(default=None, compare=False)

    @property
    def dataset(self) -> str:
        return self.data["name"]


def load_config(path: str | os.PathLike) -> SweepConfig:
    """Read and check a sweep file (TOML)."""
    with open(path, "rb") as f:
        try:
            raw = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"{path}: not valid TOML: {e}") from e
    config = parse_config(raw)
    config.source = str(path)
    return config


def _unknown(found, allowed, where: str) -> None:
    extra = sorted(set(found) - set(allowed))
    if extra:
        raise ValueError(f"Unknown key(s) {extra} in {where}; expected some of {list(allowed)}")


def _int(value, where: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{where} must be an integer >= {low}, received {value!r}")
    return value


def _check_space(params: dict, method: str) -> None:
    """Grid: every value is a non-empty list. Random: a list (sampled uniformly) or a distribution table."""
    if not params:
        raise ValueError("[search.params] is empty: give at least one hyperparameter with its values")
    for name, values in params.items():
        where = f"[search.params] {name}"
        if isinstance(values, list):
            if not values:
                raise ValueError(f"{where} is an empty list; expected the values to try")
            continue
        if method == "grid" or not isinstance(values, dict):
            expected = "a list of values" + ("" if method == "grid" else " or a distribution table")
            raise ValueError(f"{where} must be {expected}, received {values!r}")
        _unknown(values, ("distribution", "low", "high"), where)
        if values.get("distribution") not in DISTRIBUTIONS:
            raise ValueError(f"{where}: distribution must be one of {DISTRIBUTIONS}, "
                             f"received {values.get('distribution')!r}")
        low, high = values.get("low"), values.get("high")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)) or not low < high:
            raise ValueError(f"{where}: expected numbers low < high, received low={low!r}, high={high!r}")
        if values["distribution"] == "randint" and not all(isinstance(v, int) for v in (low, high)):
            raise ValueError(f"{where}: a randint distribution needs integer bounds, received low={low!r}, "
                             f"high={high!r}")
        if values["distribution"] == "loguniform" and low <= 0:
            raise ValueError(f"{where}: a loguniform distribution needs low > 0, received low={low!r}")


def parse_config(raw: dict) -> SweepConfig:
    """Check the tables of a parsed sweep file and return the settings."""
    _unknown(raw, TABLES, "the sweep file")
    for table in ("data", "estimator", "search"):
        if not isinstance(raw.get(table), dict):
            raise ValueError(f"The sweep file needs a [{table}] table")
    data, estimator, search = dict(raw["data"]), dict(raw["estimator"]), dict(raw["search"])
    _unknown(data, DATA_KEYS, "[data]")
    if not isinstance(data.get("name"), str):
        raise ValueError(f"[data] name must be a dataset name, received {data.get('name')!r}")
    _unknown(search, SEARCH_KEYS, "[search]")
    method = search.get("method", "grid")
    if method not in METHODS:
        raise ValueError(f"[search] method must be one of {METHODS}, received {method!r}")
    params = search.get("params")
    if not isinstance(params, dict):
        raise ValueError("The sweep file needs a [search.params] table: the hyperparameters and their values")
    _check_space(params, method)
    estimator_class = estimator.pop("class", None)
    if estimator_class not in ESTIMATORS:
        raise ValueError(f"[estimator] class must be one of {list(ESTIMATORS)}, received {estimator_class!r}")
    both = sorted(set(estimator) & set(params))
    if both:
        raise ValueError(f"{both} appear both as fixed [estimator] parameters and in [search.params]; keep one")
    scoring = search.get("scoring")
    if scoring is not None and not isinstance(scoring, str):
        raise ValueError(f"[search] scoring must be a scikit-learn scorer name, received {scoring!r}")
    shuffle = search.get("shuffle", False)
    if not isinstance(shuffle, bool):
        raise ValueError(f"[search] shuffle must be true or false, received {shuffle!r}")
    return SweepConfig(
        data=data, estimator=estimator_class, fixed=estimator, params=params, method=method,
        cv=_int(search.get("cv", 4), "[search] cv", 2), shuffle=shuffle, scoring=scoring,
        n_iter=_int(search.get("n_iter", 10), "[search] n_iter", 1), seed=_int(raw.get("seed", 0), "seed", 0),
    )

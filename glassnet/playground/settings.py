"""The experiment's settings: one schema (kind, choices or range, default) shared by the server, the page and export.

The page receives the schema in its first frame, so the choices, ranges and defaults live only here; every
``set`` message is checked against it, and an out-of-range value is refused with a message naming the setting,
what was received and what was expected.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
DATASETS = {
    "classification": ("circle", "xor", "gauss", "spiral", "multi_gaussian", "custom"),
    "regression": ("plane", "multi_gaussian", "custom"),
}
FEATURES = ("x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2")
MAX_HIDDEN_LAYERS = 8
MAX_NEURONS = 16
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class Setting:
    """One control: ``kind`` is int, float, choice, bool, int_list or choice_list; ``low``/``high`` bound numbers
    (and list lengths for lists, ``item_low``/``item_high`` their items); ``choices`` lists allowed values."""

    kind: str
    default: object
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    item_low: int | None = None
    item_high: int | None = None
    resets: bool = True  # changing it builds a new network (epoch 0), like playground.tensorflow.org

    def to_json(self) -> dict:
        out = {"kind": self.kind, "default": self.default, "resets": self.resets}
        for key in ("choices", "low", "high", "item_low", "item_high"):
            value = getattr(self, key)
            if value not in (None, ()):
                out[key] = list(value) if isinstance(value, tuple) else value
        return out


SCHEMA: dict[str, Setting] = {
    "problem": Setting("choice", "classification", choices=tuple(DATASETS)),
    "dataset": Setting("choice", "circle", choices=("circle", "xor", "gauss", "spiral", "plane", "multi_gaussian",
                                                    "custom")),
    "noise": Setting("int", 0, low=0, high=50),
    "train_percent": Setting("int", 50, low=10, high=90),
    "batch_size": Setting("int", 10, low=1, high=30, resets=False),
    "seed": Setting("int", 1, low=0, high=MAX_SEED),
    "features": Setting("choice_list", ["x1", "x2"], choices=FEATURES, low=1, high=len(FEATURES)),
    "layers": Setting("int_list", [4, 2], low=0, high=MAX_HIDDEN_LAYERS, item_low=1, item_high=MAX_NEURONS),
    "activation": Setting("choice", "tanh", choices=ACTIVATIONS),
    "layer_activations": Setting("choice_list", [], choices=ACTIVATIONS, low=0, high=MAX_HIDDEN_LAYERS),
    "learning_rate": Setting("float", 0.03, choices=LEARNING_RATES, low=LEARNING_RATES[0], high=LEARNING_RATES[-1],
                             resets=False),
    "regularization": Setting("choice", "none", choices=("none", "l1", "l2")),
    "regularization_rate": Setting("float", 0.0, choices=REGULARIZATION_RATES, low=0.0, high=10.0),
    "loss": Setting("choice", "crossentropy", choices=("crossentropy", "squared_error")),
    "optimizer": Setting("choice", "sgd", choices=("sgd", "momentum", "adam"), resets=False),
    "initializer": Setting("choice", "glorot_uniform",
                           choices=("glorot_uniform", "he_normal", "random_normal", "random_uniform", "zeros")),
    "dropout": Setting("float", 0.0, choices=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5), low=0.0, high=0.9),
    "init_seed": Setting("int", 1, low=0, high=MAX_SEED),
    "keep_initial_weights": Setting("bool", False, resets=False),
}


class SettingsError(ValueError):
    """A control message asked for a setting that does not exist or a value outside its range."""


def defaults() -> dict:
    """A fresh copy of every setting's default."""
    return {name: (list(s.default) if isinstance(s.default, list) else s.default) for name, s in SCHEMA.items()}


def schema_json() -> dict:
    """The schema as the page reads it."""
    return {name: s.to_json() for name, s in SCHEMA.items()}


def _number(name: str, value, integer: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        expected = "an integer" if integer else "a finite number"
        raise SettingsError(f"Setting '{name}' expects {expected}, received {value!r}")
    if integer and value != int(value):
        raise SettingsError(f"Setting '{name}' expects an integer, received {value!r}")
    return int(value) if integer else float(value)


def _in_range(name: str, value, low, high, what: str = "a value") -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        raise SettingsError(f"Setting '{name}' expects {what} in [{low}, {high}], received {value!r}")


def check(name: str, value):
    """Return ``value`` normalized for setting ``name``, or raise SettingsError saying what was expected."""
    setting = SCHEMA.get(name)
    if setting is None:
        raise SettingsError(f"Unknown setting {name!r}; expected one of {sorted(SCHEMA)}")
    kind = setting.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise SettingsError(f"Setting '{name}' expects true or false, received {value!r}")
        return value
    if kind in ("int", "float"):
        value = _number(name, value, integer=kind == "int")
        _in_range(name, value, setting.low, setting.high)
        return value
    if kind == "choice":
        if value not in setting.choices:
            raise SettingsError(f"Setting '{name}' expects one of {list(setting.choices)}, received {value!r}")
        return value
    if not isinstance(value, list):
        raise SettingsError(f"Setting '{name}' expects a list, received {value!r}")
    _in_range(name, len(value), setting.low, setting.high, what="a list length")
    if kind == "int_list":
        items = [_number(name, v, integer=True) for v in value]
        for v in items:
            _in_range(name, v, setting.item_low, setting.item_high, what="items")
        return items
    bad = [v for v in value if v not in setting.choices]
    if bad:
        raise SettingsError(f"Setting '{name}' expects items from {list(setting.choices)}, received {bad!r}")
    if name == "features":  # a set of toggles, kept in the canonical order
        return [f for f in setting.choices if f in value]
    return list(value)


def check_consistent(settings: dict) -> None:
    """Cross-setting rules: the dataset belongs to the problem type; regression trains on squared error."""
    if settings["dataset"] not in DATASETS[settings["problem"]]:
        raise SettingsError(
            f"Dataset {settings['dataset']!r} is not a {settings['problem']} dataset; "
            f"expected one of {list(DATASETS[settings['problem']])}"
        )
    if settings["problem"] == "regression" and settings["loss"] != "squared_error":
        raise SettingsError("Regression trains on the squared error; received loss 'crossentropy'")


def hidden_activations(settings: dict) -> list[str]:
    """The activation of each hidden layer: the per-layer choice where given, else the global one."""
    own = settings["layer_activations"]
    return [own[i] if i < len(own) else settings["activation"] for i in range(len(settings["layers"]))]

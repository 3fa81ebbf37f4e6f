"""The experiment's settings: one schema (kind, choices or range, default) shared by the server, the page and export.

The page receives the schema in its first frame, so the choices, ranges and defaults live only here; every
``set`` message is checked against it, and an out-of-range value is refused with a message in the learner's words:
the control's label as the page shows it, what it takes and what it was given.
"""

from __future__ import annotations

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
    label: str  # the control's name as the page shows it, for messages
    default: object
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    item_low: int | None = None
    item_high: int | None = None
    resets: bool = True  # changing it builds a new network (epoch 0), like playground.tensorflow.org

    def to_json(self) -> dict:
        out = {"kind": self.kind, "label": self.label, "default": self.default, "resets": self.resets}
        for key in ("choices", "low", "high", "item_low", "item_high"):
            value = getattr(self, key)
            if value not in (None, ()):
                out[key] = list(value) if isinstance(value, tuple) else value
        return out


SCHEMA: dict[str, Setting] = {
    "problem": Setting("choice", "Problem type", "classification", choices=tuple(DATASETS)),
    "dataset": Setting("choice", "Dataset", "circle", choices=("circle", "xor", "gauss", "spiral", "plane",
                                                               "multi_gaussian", "custom")),
    "noise": Setting("int", "Noise", 0, low=0, high=50),
    "train_percent": Setting("int", "Ratio of training to test data", 50, low=10, high=90),
    "batch_size": Setting("int", "Batch size", 10, low=1, high=30, resets=False),
    "seed": Setting("int", "Data seed", 1, low=0, high=MAX_SEED),
    "features": Setting("choice_list", "Features", ["x1", "x2"], choices=FEATURES, low=1, high=len(FEATURES)),
    "layers": Setting("int_list", "Hidden layers", [4, 2], low=0, high=MAX_HIDDEN_LAYERS, item_low=1,
                      item_high=MAX_NEURONS),
    "activation": Setting("choice", "Activation", "tanh", choices=ACTIVATIONS),
    "layer_activations": Setting("choice_list", "Layer activations", [], choices=ACTIVATIONS, low=0,
                                 high=MAX_HIDDEN_LAYERS),
    "learning_rate": Setting("float", "Learning rate", 0.03, choices=LEARNING_RATES, low=LEARNING_RATES[0],
                             high=LEARNING_RATES[-1], resets=False),
    "regularization": Setting("choice", "Regularization", "none", choices=("none", "l1", "l2")),
    "regularization_rate": Setting("float", "Regularization rate", 0.0, choices=REGULARIZATION_RATES, low=0.0,
                                   high=10.0),
    "loss": Setting("choice", "Loss", "crossentropy", choices=("crossentropy", "squared_error")),
    "optimizer": Setting("choice", "Optimizer", "sgd", choices=("sgd", "momentum", "adam"), resets=False),
    "initializer": Setting("choice", "Initialization", "glorot_uniform",
                           choices=("glorot_uniform", "he_normal", "random_normal", "random_uniform", "zeros")),
    "dropout": Setting("float", "Dropout", 0.0, choices=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5), low=0.0, high=0.9),
    "init_seed": Setting("int", "Weight seed", 1, low=0, high=MAX_SEED),
    "keep_initial_weights": Setting("bool", "Reset keeps the same initial weights", False, resets=False),
}


class SettingsError(ValueError):
    """A control message asked for a setting that does not exist or a value outside its range."""


def defaults() -> dict:
    """A fresh copy of every setting's default."""
    return {name: (list(s.default) if isinstance(s.default, list) else s.default) for name, s in SCHEMA.items()}


def schema_json() -> dict:
    """The schema as the page reads it."""
    return {name: s.to_json() for name, s in SCHEMA.items()}


def shown(value) -> str:
    """A received value as a learner reads it: nothing, a quoted word, a number or a short list."""
    if value is None:
        return "an empty value"
    if isinstance(value, str):
        return f"“{value[:40]}”"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Real) and not abs(value) < 1e15:
        return "a number too large to use"
    if isinstance(value, (list, tuple)):
        text = ", ".join(shown(v) for v in value[:8])
        return f"[{text}{', …' if len(value) > 8 else ''}]"
    if isinstance(value, dict):
        return "a group of values"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _words(values) -> str:
    """Choices as a sentence: 'circle, xor or spiral'."""
    words = [str(v).replace("_", " ") for v in values]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _number(label: str, value, integer: bool, low, high) -> float:
    what = "a whole number" if integer else "a number"
    span = f" from {low:g} to {high:g}" if low is not None and high is not None else ""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not abs(value) < 1e15
            or (integer and value != int(value)) or (low is not None and value < low)
            or (high is not None and value > high)):
        raise SettingsError(f"{label} takes {what}{span}, not {shown(value)}.")
    return int(value) if integer else float(value)


def check(name: str, value):
    """Return ``value`` normalized for setting ``name``, or raise SettingsError saying what was expected."""
    setting = SCHEMA.get(name)
    if setting is None:
        raise SettingsError(f"There is no setting called {shown(name)}; it was left out.")
    kind, label = setting.kind, setting.label
    if kind == "bool":
        if not isinstance(value, bool):
            raise SettingsError(f"{label} is on or off, not {shown(value)}.")
        return value
    if kind in ("int", "float"):
        return _number(label, value, kind == "int", setting.low, setting.high)
    if kind == "choice":
        if value not in setting.choices:
            raise SettingsError(f"{label} can be {_words(setting.choices)}, not {shown(value)}.")
        return value
    if not isinstance(value, list):
        raise SettingsError(f"{label} takes a list, not {shown(value)}.")
    if name == "features" and not value:
        raise SettingsError("Keep at least one input feature: the network needs something to look at.")
    if not setting.low <= len(value) <= setting.high:
        raise SettingsError(f"{label} takes from {setting.low:g} to {setting.high:g} entries, not {len(value)}.")
    if kind == "int_list":
        noun = "Each hidden layer" if name == "layers" else label
        return [_number(noun, v, True, setting.item_low, setting.item_high) for v in value]
    bad = [v for v in value if not isinstance(v, str) or v not in setting.choices]
    if bad:
        raise SettingsError(f"{label} can be {_words(setting.choices)}, not {shown(bad[0])}.")
    if name == "features":  # a set of toggles, kept in the canonical order
        return [f for f in setting.choices if f in value]
    return list(value)


def check_consistent(settings: dict) -> None:
    """Cross-setting rules: the dataset belongs to the problem type; regression trains on squared error."""
    if settings["dataset"] not in DATASETS[settings["problem"]]:
        raise SettingsError(
            f"The {settings['dataset'].replace('_', ' ')} dataset is not a {settings['problem']} dataset; "
            f"choose {_words(DATASETS[settings['problem']])}."
        )
    if settings["problem"] == "regression" and settings["loss"] != "squared_error":
        raise SettingsError("Regression predicts a number, so it trains on the squared error, not cross-entropy.")


def hidden_activations(settings: dict) -> list[str]:
    """The activation of each hidden layer: the per-layer choice where given, else the global one."""
    own = settings["layer_activations"]
    return [own[i] if i < len(own) else settings["activation"] for i in range(len(settings["layers"]))]

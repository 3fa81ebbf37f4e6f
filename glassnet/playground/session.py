"""One playground experiment: its settings, data, glassnet model and training state, driven by control messages.

A Session is plain synchronous code (the server runs it in a worker thread, one session per WebSocket). Every
message is validated; a bad one gets an error frame in the learner's words and changes nothing. Training is a real
glassnet Sequential of Dense layers, stepped like a Keras custom training loop: ``model(x, training=True)``, loss plus
``model.losses``, ``backward()``, ``optimizer.apply`` — traced once and replayed, as ``fit`` does.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np

from glassnet import ops
from glassnet.autodiff import Tensor, no_grad
from glassnet.datasets import toy2d
from glassnet.layers import Dense
from glassnet.models import TrainStep, forward_loss
from glassnet.playground import export, features, recipe
from glassnet.playground import settings as schema
from glassnet.playground.upload import UploadError, parse_csv

MAX_MESSAGE_CHARS = 10_000  # every control message but an upload
MAX_UPLOAD_CHARS = 1_000_000
GRID = 100  # the output heatmap is GRID × GRID over [−6, 6]², as on playground.tensorflow.org
THUMB_BLOCK = 10  # a neuron's thumbnail averages each 10 × 10 block of the grid: 10 × 10 pixels, as there
PREVIEW_POINTS = 120
MAX_WEIGHT = 1e3
MAX_HISTORY_ROWS = 2000  # a restored loss curve is thinned to at most this many epochs by the page

MESSAGE_FIELDS = {  # type → allowed fields (besides "type")
    "set": {"settings"}, "play": set(), "pause": set(), "step": set(), "reset": set(), "regenerate": set(),
    "set_weight": {"layer", "source", "target", "value"}, "set_bias": {"layer", "neuron", "value"},
    "inspect": {"column", "neuron", "sample"}, "upload": {"csv"}, "export": set(), "ready": set(),
    "restore": {"settings", "weights", "epoch", "history"},
}
LARGE_MESSAGES = ("upload", "restore")  # may be up to MAX_UPLOAD_CHARS long
TARGETS = {"set_weight": "weight", "set_bias": "bias", "inspect": "neuron or point"}


class ProtocolError(ValueError):
    """A control message that is not valid JSON, too large, of an unknown type, or with bad fields."""


def _finite_number(text: str) -> float:
    """JSON's numbers as floats, refusing those too large for a float (1e400 would read as infinity)."""
    value = float(text)
    if not math.isfinite(value):
        raise ProtocolError(f"The server ignored a message holding a number too large to use ({text[:20]}).")
    return value


def _no_constants(name: str):
    raise ProtocolError(f"The server ignored a message holding {name}, which is not a number it can use.")


def _codes(values: np.ndarray) -> np.ndarray:
    """Values clipped to [−1, 1] as uint8 codes round((v + 1) · 127.5): one byte a pixel on the wire."""
    v = np.asarray(values, dtype=np.float32)
    v = np.where(np.isnan(v), np.float32(0), v)  # (a diverged network's NaN shows as 0, grey)
    return np.rint((np.clip(v, -1, 1) + 1) * 127.5).astype(np.uint8)


def _finite_list(values: np.ndarray) -> list:
    """An array as JSON's nested lists, NaN and ±inf replaced (JSON has no such numbers)."""
    return (values if np.isfinite(values).all() else np.nan_to_num(values)).tolist()


def _thumbnails(values: np.ndarray) -> np.ndarray:
    """Every unit's thumbnail at once: ``values`` (GRID², units) over the grid → uint8 codes (units, THUMB²), each
    pixel the mean of a THUMB_BLOCK × THUMB_BLOCK block (the playground's reduceMatrix)."""
    side = GRID // THUMB_BLOCK
    rows = values.reshape(GRID * side, THUMB_BLOCK, -1).sum(axis=1)  # each block's part of each grid row
    blocks = rows.reshape(side, THUMB_BLOCK, side, -1).sum(axis=1) / THUMB_BLOCK**2  # (two contiguous sums: fast)
    return _codes(blocks.reshape(side * side, -1).T)


def _finite(x: float) -> float | None:
    """A float for JSON (None where it is NaN or infinite, which JSON cannot carry)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _int_field(message: dict, name: str, low: int, high: int) -> int:
    value = message.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProtocolError(f"That {TARGETS[message['type']]} is not in the network any more (its {name} must be "
                            f"from {low} to {high}, not {schema.shown(value)}); nothing changed.")
    return value


def _float_field(message: dict, name: str) -> float:
    value = message.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not abs(value) <= MAX_WEIGHT:
        raise ProtocolError(f"A {TARGETS[message['type']]} takes a number from {-MAX_WEIGHT:g} to {MAX_WEIGHT:g}, "
                            f"not {schema.shown(value)}; nothing changed.")
    return float(value)


class Session:
    """``Session(settings=None)``: build the data and the model from the settings (defaults: the playground's)."""

    def __init__(self, settings: dict | None = None):
        self.settings = schema.defaults()
        self.custom_data: tuple[np.ndarray, np.ndarray] | None = None
        self.playing = False
        self.inspected: tuple[int, int] | None = None
        self.sample = 0
        self._grid = features.grid(GRID)
        self._feature_thumbs = _thumbnails(features.compute(self._grid, list(schema.FEATURES)))
        if settings:
            self._apply_settings(settings)
        self._load_data()
        self._build_model()

    # ----- data ------------------------------------------------------------------------------------------------
    def _load_data(self) -> None:
        s = self.settings
        if s["dataset"] == "custom":
            x, y = self.custom_data
        else:
            x, y = toy2d.load(s["dataset"], n_samples=recipe.NUM_SAMPLES[s["problem"]], noise=s["noise"] / 100,
                              seed=s["seed"])
        n_train = len(x) * s["train_percent"] // 100
        self.x_train, self.x_test = x[:n_train], x[n_train:]
        self.y_train, self.y_test = y[:n_train, None], y[n_train:, None]
        self.sample = self.sample if self.sample < n_train else 0

    def _compute_features(self) -> None:
        names = self.settings["features"]
        self.f_train = features.compute(self.x_train, names)
        self.f_test = features.compute(self.x_test, names)
        self.f_grid = features.compute(self._grid, names)
        self.f_all = np.concatenate([self.f_train, self.f_test])

    # ----- the model -------------------------------------------------------------------------------------------
    def _build_model(self) -> None:
        """A new model from the settings; epoch 0 and an empty history."""
        self._compute_features()
        self.model = recipe.model(self.settings).build()
        self.dense_layers = [layer for layer in self.model.layers if isinstance(layer, Dense)]
        self.loss_fn = recipe.loss(self.settings).build()
        self.optimizer = recipe.optimizer(self.settings).build()
        self._step = None
        self.epoch = 0
        self.history: list[tuple[int, float | None, float | None]] = []
        self.history_sent = 0
        self.divergence: dict | None = None  # epoch, learning rate and the learner's message, once diverged
        self._evaluate()

    def _reset_model(self) -> None:
        """Reset: new initial weights (a new init_seed) unless 'keep_initial_weights', the same data."""
        if not self.settings["keep_initial_weights"]:
            self.settings["init_seed"] = int(np.random.default_rng().integers(schema.MAX_SEED))
        self._build_model()

    # ----- training --------------------------------------------------------------------------------------------
    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One mini-batch step: forward, loss (+ regularization penalties), backward, optimizer update.

        The step is traced once and replayed (models/step.py); any settings change starts a new trace."""
        if self._step is None:
            self._step = TrainStep(lambda xb, yb, swb: forward_loss(self.model, self.loss_fn, xb, yb, swb),
                                   self.model.trainable_weights)
        loss, _ = self._step(x, y, None)
        variables = self._step.variables
        self.optimizer.apply([v.grad for v in variables], variables)
        return loss

    def train_epoch(self) -> None:
        """One pass over the training data in shuffled mini-batches, then the losses on train and test data.

        Each epoch's order follows from (init_seed, epoch) alone: a restored experiment trains on as it would have."""
        order = np.random.default_rng((self.settings["init_seed"], self.epoch)).permutation(len(self.f_train))
        size = self.settings["batch_size"]
        with np.errstate(all="ignore"):
            for start in range(0, len(order), size):
                batch = order[start:start + size]
                self.train_step(self.f_train[batch], self.y_train[batch])
        self.epoch += 1
        self._evaluate()

    def _evaluate(self) -> None:
        """Predictions on all data; the data loss (without penalties) on train and test; divergence check."""
        predictions = self._dense_outputs(self.f_all)[-1]
        with no_grad(), np.errstate(all="ignore"):
            n = len(self.f_train)
            self.p_train, self.p_test = predictions[:n], predictions[n:]
            train_loss = float(self.loss_fn(self.y_train, Tensor(self.p_train)).item())
            test_loss = float(self.loss_fn(self.y_test, Tensor(self.p_test)).item())
        self.train_loss, self.test_loss = train_loss, test_loss
        self.history.append((self.epoch, _finite(train_loss), _finite(test_loss)))
        if not math.isfinite(train_loss) and self.divergence is None:
            self.playing = False
            self.divergence = {
                "epoch": self.epoch,
                "learning_rate": self.settings["learning_rate"],
                "message": f"Training diverged at epoch {self.epoch} — the learning rate "
                           f"{self.settings['learning_rate']:g} is probably too high. The updates grew instead of "
                           "shrinking until the loss was no longer a number: press Reset and try a smaller one.",
            }

    def train_for(self, seconds: float) -> list[dict]:
        """Train whole epochs for about ``seconds`` (at least one); returns frames to send (a divergence notice)."""
        deadline = time.perf_counter() + seconds
        while self.playing:
            self.train_epoch()
            if self.divergence:
                return self._divergence_notice()
            if time.perf_counter() >= deadline:
                break
        return []

    # ----- control messages ------------------------------------------------------------------------------------
    def handle_text(self, text) -> list[dict]:
        """Parse and handle one message from the page; returns the frames to send back (an error frame if bad)."""
        try:
            message = self._parse(text)
            return self.handle(message)
        except (ProtocolError, schema.SettingsError, UploadError) as error:
            return [{"type": "error", "message": str(error)}]

    def _parse(self, text) -> dict:
        if not isinstance(text, str):
            raise ProtocolError("The server reads text messages only; a binary message was ignored.")
        if len(text) > MAX_UPLOAD_CHARS:
            raise ProtocolError(f"A message of {len(text)} characters is too large (a CSV file may have up to "
                                f"{MAX_UPLOAD_CHARS}); it was ignored.")
        try:
            message = json.loads(text, parse_float=_finite_number, parse_constant=_no_constants)
        except RecursionError:
            raise ProtocolError("The server ignored a message nested too deeply to read.") from None
        except ProtocolError:
            raise
        except ValueError:
            raise ProtocolError("The server could not read a message (it was not well-formed) and ignored it.") \
                from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise ProtocolError("The server ignored a message that did not say what it asks for (its type).")
        allowed = MESSAGE_FIELDS.get(message["type"])
        if allowed is None:
            raise ProtocolError(f"The server does not know the request {schema.shown(message['type'])}; "
                                "it was ignored.")
        extra = set(message) - allowed - {"type"}
        if extra:
            raise ProtocolError(f"The {message['type'].replace('_', ' ')} request does not take "
                                f"{', '.join(sorted(extra))}; it was ignored.")
        if message["type"] not in LARGE_MESSAGES and len(text) > MAX_MESSAGE_CHARS:
            raise ProtocolError(f"A message of {len(text)} characters is too large (at most {MAX_MESSAGE_CHARS}); "
                                "it was ignored.")
        return message

    def handle(self, message: dict) -> list[dict]:
        """Apply a parsed message; raises ProtocolError or SettingsError (before changing anything) if invalid."""
        kind = message["type"]
        if kind == "set":
            return self._set(message.get("settings"))
        if kind in ("play", "pause"):
            self.playing = kind == "play" and self.divergence is None
            return (self._divergence_notice() if kind == "play" else []) + [self.frame()]
        if kind == "step":
            self.playing = False
            if self.divergence is None:
                self.train_epoch()
            return self._divergence_notice() + [self.frame()]
        if kind == "reset":
            self.playing = False
            self._reset_model()
            return [self.state(), self.frame()]
        if kind == "regenerate":
            if self.settings["dataset"] == "custom":
                raise ProtocolError("Regenerate draws a new sample of a built-in dataset; your uploaded data stays "
                                    "as it is.")
            self.settings["seed"] = int(np.random.default_rng().integers(schema.MAX_SEED))
            return self._rebuild()
        if kind == "set_weight":
            return self._set_weight(message)
        if kind == "set_bias":
            return self._set_bias(message)
        if kind == "inspect":
            return self._inspect(message)
        if kind == "upload":
            return self._upload(message.get("csv"))
        if kind == "restore":
            return self._restore(message)
        if kind == "export":
            return [{"type": "export", "code": export.python_code(self.settings, self.epoch, self.custom_data)}]
        return [{"type": "ack"}]  # ready: every message before it has been handled

    def _divergence_notice(self) -> list[dict]:
        return [{"type": "diverged", **self.divergence}] if self.divergence else []

    def _apply_settings(self, update) -> set[str]:
        """Validate ``update`` as a whole and apply it; returns the names that changed."""
        if not isinstance(update, dict) or not update:
            raise ProtocolError(f"A change of settings names at least one setting and its value, not "
                                f"{schema.shown(update)}; nothing changed.")
        new = dict(self.settings)
        for name, value in update.items():
            new[name] = schema.check(name, value)
        if "problem" in update and "dataset" not in update and new["dataset"] not in schema.DATASETS[new["problem"]]:
            new["dataset"] = schema.DATASETS[new["problem"]][0]
        if "problem" in update and "loss" not in update:
            new["loss"] = "crossentropy" if new["problem"] == "classification" else "squared_error"
        if "layers" in update and "layer_activations" not in update:
            new["layer_activations"] = new["layer_activations"][:len(new["layers"])]
        if len(new["layer_activations"]) > len(new["layers"]):
            raise schema.SettingsError(f"There are {len(new['layer_activations'])} layer activations for "
                                       f"{len(new['layers'])} hidden layers; each layer takes at most one.")
        if "activation" in update and "layer_activations" not in update:
            new["layer_activations"] = []  # the global activation applies to every layer, as on the playground
        schema.check_consistent(new)
        if new["dataset"] == "custom" and self.custom_data is None:
            raise schema.SettingsError("Your own dataset needs a CSV file: upload one first.")
        changed = {name for name in new if new[name] != self.settings[name]}
        self.settings = new
        return changed

    def _apply_each(self, update) -> list[str]:
        """Apply the settings of ``update`` one by one in the schema's order, keeping every valid one; returns what
        was refused, in the learner's words (a link with one bad value keeps the rest)."""
        order = list(schema.SCHEMA)
        refused = []
        for name in sorted(update, key=lambda n: order.index(n) if n in order else -1):
            try:
                self._apply_settings({name: update[name]})
            except (ProtocolError, schema.SettingsError) as error:
                refused.append(str(error))
        return refused

    def _restore(self, message: dict) -> list[dict]:
        """Bring back an experiment the page still shows (after a server restart, or a link's settings): every valid
        setting is kept and each refused one named in a notice; then, where they fit the rebuilt network, the
        weights, the epoch and the loss history (the optimizer's moments start afresh)."""
        expected = {"settings": dict, "weights": list, "epoch": int, "history": list}
        wrong = [name for name, kind in expected.items()
                 if name in message and (not isinstance(message[name], kind) or isinstance(message[name], bool))]
        if "epoch" not in wrong and not 0 <= message.get("epoch", 0) < 10**9:
            wrong.append("epoch")
        if wrong:
            raise ProtocolError(f"The saved experiment could not be read ({', '.join(wrong)}); nothing changed.")
        refused = self._apply_each(message.get("settings", {}))
        self.playing = False
        self._load_data()
        self._build_model()
        if "weights" in message:
            refused += self._restore_weights(message["weights"], message.get("epoch"), message.get("history"))
        notice = [{"type": "notice", "message": " ".join(refused)}] if refused else []
        return [self.state(), self.frame(), *notice]

    def _restore_weights(self, weights, epoch, history) -> list[str]:
        """Set the saved weights if they fit the network; the epoch and loss history come with them."""
        try:
            pairs = [(np.asarray(w["kernel"], dtype=np.float64), np.asarray(w["bias"], dtype=np.float64))
                     for w in weights]
        except (TypeError, ValueError, KeyError, IndexError):
            return ["The saved weights could not be read, so the network starts from new weights."]
        expected = [tuple(w.shape for w in layer.get_weights()) for layer in self.dense_layers]
        if ([(k.shape, b.shape) for k, b in pairs] != expected
                or not all(np.all(np.abs(a) <= MAX_WEIGHT) for pair in pairs for a in pair)):
            return ["The saved weights do not fit this network, so it starts from new weights."]
        for layer, (kernel, bias) in zip(self.dense_layers, pairs):
            layer.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
        self.epoch = epoch or 0
        self.history = [row for row in self._history_rows(history) if row[0] < self.epoch]
        self._evaluate()
        self.history_sent = 0
        return []

    @staticmethod
    def _history_rows(history) -> list[tuple[int, float | None, float | None]]:
        """A saved loss curve's rows (epoch, train loss, test loss), or none if it is not one."""
        def number(v):
            return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v))

        if (not isinstance(history, list) or len(history) > MAX_HISTORY_ROWS
                or not all(isinstance(r, list) and len(r) == 3 and isinstance(r[0], int) and number(r[1])
                           and number(r[2]) for r in history)):
            return []
        return [(e, a if a is None else float(a), b if b is None else float(b)) for e, a, b in history]

    def _set(self, update) -> list[dict]:
        changed = self._apply_settings(update)
        if not changed:
            return [self.state(), self.frame()]
        self._step = None  # the next step traces the new settings
        if "learning_rate" in changed:
            self.optimizer.learning_rate = self.settings["learning_rate"]
        if "optimizer" in changed:
            self.optimizer = recipe.optimizer(self.settings).build()  # fresh moments, the same weights
        if any(schema.SCHEMA[name].resets for name in changed):
            return self._rebuild(data={"dataset", "noise", "train_percent", "seed", "problem"} & changed)
        return [self.state(), self.frame()]

    def _rebuild(self, data: bool = True) -> list[dict]:
        """New data (if asked) and a new network, paused at epoch 0, as the playground does on such changes."""
        self.playing = False
        if data:
            self._load_data()
        self._build_model()
        return [self.state(), self.frame()]

    def _set_weight(self, message: dict) -> list[dict]:
        layer = _int_field(message, "layer", 0, len(self.dense_layers) - 1)
        kernel, bias = self.dense_layers[layer].get_weights()
        source = _int_field(message, "source", 0, kernel.shape[0] - 1)
        target = _int_field(message, "target", 0, kernel.shape[1] - 1)
        kernel[source, target] = _float_field(message, "value")
        self.dense_layers[layer].set_weights([kernel, bias])
        self._evaluate_in_place()
        return [self.frame()]

    def _set_bias(self, message: dict) -> list[dict]:
        layer = _int_field(message, "layer", 0, len(self.dense_layers) - 1)
        kernel, bias = self.dense_layers[layer].get_weights()
        neuron = _int_field(message, "neuron", 0, bias.shape[0] - 1)
        bias[neuron] = _float_field(message, "value")
        self.dense_layers[layer].set_weights([kernel, bias])
        self._evaluate_in_place()
        return [self.frame()]

    def _evaluate_in_place(self) -> None:
        """Recompute the losses after a hand edit, replacing the current epoch's history entry."""
        self.history.pop()
        self.history_sent = min(self.history_sent, len(self.history))
        self._evaluate()

    def _inspect(self, message: dict) -> list[dict]:
        if "sample" in message:
            self.sample = _int_field(message, "sample", 0, len(self.f_train) - 1)
        if "column" in message or "neuron" in message:
            column = _int_field(message, "column", 1, len(self.dense_layers))
            neuron = _int_field(message, "neuron", 0, self.dense_layers[column - 1].units - 1)
            self.inspected = (column, neuron)
        return [self.frame()]

    def _upload(self, text) -> list[dict]:
        if not isinstance(text, str):
            raise ProtocolError(f"An upload carries the CSV file's text, not {schema.shown(text)}.")
        x, y, problem = parse_csv(text)
        previous = self.custom_data
        self.custom_data = (x, y)
        try:
            self._apply_settings({"dataset": "custom", "problem": problem})
        except schema.SettingsError:
            self.custom_data = previous
            raise
        return self._rebuild()

    # ----- what the page receives ------------------------------------------------------------------------------
    def state(self) -> dict:
        """The experiment's structure and data: sent after every change that rebuilds the network."""
        s = self.settings
        names = s["features"]
        note = None
        if s["initializer"] == "zeros":
            note = ("Zero initialization: every unit of a layer starts with the same weights, so each one computes "
                    "the same output and receives the same gradient; they stay identical forever.")
        return {
            "type": "state",
            "settings": s,
            "playing": self.playing,
            "network": {
                "all_features": list(schema.FEATURES),
                "feature_labels": [features.LABELS[f] for f in schema.FEATURES],
                "features": names,
                "layers": s["layers"],
                "activations": schema.hidden_activations(s),
                "activation_choices": list(schema.ACTIVATIONS),
                "max_neurons": schema.MAX_NEURONS,
            },
            "data": {"train": self._points(self.x_train, self.y_train), "test": self._points(self.x_test, self.y_test)},
            "previews": self._previews(),
            "note": note,
        }

    def _color_value(self, y: np.ndarray) -> np.ndarray:
        """Labels and outputs on the page's colour scale [−1, 1]: classes 0/1 become −1/+1."""
        return 2 * y - 1 if self.settings["problem"] == "classification" else y

    def _points(self, x: np.ndarray, y: np.ndarray) -> list:
        values = self._color_value(y[:, 0])
        return np.column_stack([x, values]).round(3).tolist()

    def _previews(self) -> dict:
        problem = self.settings["problem"]
        previews = {}
        for name in schema.DATASETS[problem]:
            if name == "custom":
                if self.custom_data is not None:
                    x, y = self.custom_data
                    previews[name] = self._points(x[:PREVIEW_POINTS], y[:PREVIEW_POINTS, None])
                continue
            x, y = toy2d.load(name, n_samples=PREVIEW_POINTS, noise=0.0, seed=0)
            previews[name] = self._points(x, y[:, None])
        return previews

    def frame(self) -> dict:
        """The live picture: epoch, losses, new history rows, weights, heatmaps, metrics and equations."""
        activations = self._grid_activations()
        hidden = activations[:-1]
        ends = np.cumsum([a.shape[1] for a in hidden]).tolist()
        thumbnails = _thumbnails(np.concatenate(hidden, axis=1)) if hidden else None  # every hidden unit at once
        output = self._color_value(activations[-1][:, 0])
        weights = [layer.get_weights() for layer in self.dense_layers]
        frame = {
            "type": "frame",
            "epoch": self.epoch,
            "playing": self.playing,
            "diverged": self.divergence,
            "train_loss": _finite(self.train_loss),
            "test_loss": _finite(self.test_loss),
            "history_from": self.history_sent,
            "history": self.history[self.history_sent:],
            "weights": [{"kernel": _finite_list(k), "bias": _finite_list(b)} for k, b in weights],
            "heatmaps": {  # uint8 arrays (units, pixels): the binary part of the frame on the wire
                "size": GRID // THUMB_BLOCK,
                "features": self._feature_thumbs,
                "layers": [thumbnails[start:end] for start, end in zip([0, *ends], ends)],
            },
            "output": {"size": GRID, "grid": _codes(output)},
            "metrics": self._metrics(),
            "equations": self._equations(),
            "identical_layers": [self._units_identical(k, b) for k, b in weights[:-1]],
        }
        self.history_sent = len(self.history)
        return frame

    def _grid_activations(self) -> list[np.ndarray]:
        """The output of every Dense layer over the grid."""
        return self._dense_outputs(self.f_grid)

    def _dense_outputs(self, points: np.ndarray) -> list[np.ndarray]:
        """The output of every Dense layer for ``points`` (features), the last one the model's predictions: one
        forward pass, no graph, through each layer's own computation (``layer.call``: the model is built and the
        points are its own features, so Layer.__call__'s checks would only cost a frame 0.2 ms)."""
        outputs = []
        with no_grad(), np.errstate(all="ignore"):
            a = Tensor(points)
            for layer in self.model.layers:
                a = layer.call(a)
                if isinstance(layer, Dense):
                    outputs.append(a.numpy())
        return outputs

    @staticmethod
    def _units_identical(kernel: np.ndarray, bias: np.ndarray) -> bool:
        """Whether every unit of a layer has the same incoming weights and bias (the zero-init symmetry)."""
        return kernel.shape[1] > 1 and bool(np.all(kernel == kernel[:, :1]) and np.all(bias == bias[0]))

    def _metrics(self) -> dict:
        pairs = ((self.p_train, self.y_train), (self.p_test, self.y_test))
        if self.settings["problem"] == "regression":
            rmse = [_finite(np.sqrt(np.mean((p - y) ** 2))) for p, y in pairs]
            return {"train_rmse": rmse[0], "test_rmse": rmse[1]}
        accuracy = [_finite(np.mean((p >= 0.5) == (y == 1))) for p, y in pairs]
        predicted, actual = (self.p_test[:, 0] >= 0.5).astype(int), self.y_test[:, 0].astype(int)
        confusion = [[int(np.sum((actual == t) & (predicted == p))) for p in (0, 1)] for t in (0, 1)]
        return {"train_accuracy": accuracy[0], "test_accuracy": accuracy[1], "confusion": confusion}

    def _equations(self) -> dict | None:
        """For the inspected neuron, on one training point: z = w·a + b, a = g(z), and the backward values
        ∂L/∂a, ∂L/∂z, ∂L/∂w = ∂L/∂z · a, ∂L/∂b = ∂L/∂z, from a fresh graph on copies of the weights."""
        if self.inspected is None or not len(self.f_train):
            return None
        column, neuron = self.inspected
        if column > len(self.dense_layers):
            return None
        a = Tensor(self.f_train[self.sample:self.sample + 1])
        with np.errstate(all="ignore"):
            for index, layer in enumerate(self.dense_layers):
                kernel, bias = (Tensor(w, requires_grad=True) for w in layer.get_weights())
                a_in = a
                z = ops.add(ops.matmul(a, kernel), bias)
                a = layer.activation(z)
                if index == column - 1:
                    seen = (a_in, kernel, bias, z, a)
            self.loss_fn(self.y_train[self.sample:self.sample + 1], a).backward()
        a_in, kernel, bias, z, a = seen
        grad = lambda t: t.grad if t.grad is not None else np.zeros(t.shape)  # noqa: E731
        # A sigmoid output under cross-entropy takes the fused gradient ∂L/∂z = a − y: ∂L/∂a is never formed.
        fused = a.grad is None and z.grad is not None
        layer = self.dense_layers[column - 1]
        is_output = column == len(self.dense_layers)
        return {
            "title": "Output neuron" if is_output else f"Layer {column}, neuron {neuron + 1}",
            "activation": getattr(layer.activation, "__name__", "activation"),
            "point": self.x_train[self.sample].tolist(),
            "label": float(self.y_train[self.sample, 0]),
            "a_in": [_finite(v) for v in a_in.numpy()[0]],
            "w": [_finite(v) for v in kernel.numpy()[:, neuron]],
            "b": _finite(bias.numpy()[neuron]),
            "z": _finite(z.numpy()[0, neuron]),
            "a": _finite(a.numpy()[0, neuron]),
            "da": None if fused else _finite(grad(a)[0, neuron]),
            "dz": _finite(grad(z)[0, neuron]),
            "dw": [_finite(v) for v in grad(kernel)[:, neuron]],
            "db": _finite(grad(bias)[neuron]),
        }

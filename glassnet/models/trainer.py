"""Trainer: compile, fit, evaluate, predict and the ``*_on_batch`` methods, mixed into Sequential (as in Keras 3).

``fit`` is Keras's loop: a data adapter (models/data_adapters.py: arrays, a PyDataset or a generator) hands out
the batches of each epoch, and every batch is one training step with the callbacks' hooks around it. One training
step, the same for ``fit`` and ``train_on_batch``, visits each module once: the batch from the adapter; model, loss
(+ the layers' penalties, which Keras shows in ``loss``) and backward in the replayed TrainStep (models/step.py);
``optimizer.apply``; the metrics (_Tracker); the callbacks (_BatchHooks). Data are checked and converted before
the first step (a loader's batches as they are read); a batch of a kind already accepted (the same shapes and
dtypes) is checked by its values alone, so that ``train_on_batch`` in a custom loop costs little more than the
step.

Ctrl-C during fit is deferred to the end of the current step, so weights are never left half-updated; fit then
re-raises KeyboardInterrupt (as Keras does) with ``model.history`` holding the epochs that completed and
the model ready to use. A second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
from collections.abc import Callable, Iterator

import numpy as np

from glassnet import backend, losses, optimizers
from glassnet import metrics as metrics_module
from glassnet.autodiff.step_source import StepSource
from glassnet.autodiff.tensor import WeightChanges, no_grad
from glassnet.callbacks import CallbackList, History
from glassnet.layers.symbolic import flatten, map_shapes, map_structure, pack_like
from glassnet.models import compile_utils, data, data_adapters, slicing
from glassnet.models.data_adapters import DataAdapter
from glassnet.models.step import TrainStep, forward_loss


class _Interrupt:
    """SIGINT deferred to a step boundary (main thread only; elsewhere Ctrl-C behaves as usual)."""

    def __init__(self):
        self.requested = False

    @contextlib.contextmanager
    def deferred(self) -> Iterator[_Interrupt]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            if self.requested:  # second Ctrl-C: stop now
                raise KeyboardInterrupt
            self.requested = True

        try:
            signal.signal(signal.SIGINT, handler)
        except (ValueError, OSError):
            yield self
            return
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt


class _Compiled:
    """What compile resolved: the optimizer, the Loss, the loss weight and the metrics (built on first data), with
    the trackers of their values and the kinds of batches whose shapes were already accepted."""

    def __init__(self, optimizer, loss, loss_weight, metric_pairs, output_names: list[str],
                 run_eagerly: bool = False, weighted_pairs=()):
        self.optimizer = optimizer
        self.run_eagerly = run_eagerly
        self.loss_fn = loss  # one Loss, or OutputLosses for a model of several outputs
        self.loss_weight = loss_weight
        self.several_outputs = isinstance(loss, compile_utils.OutputLosses)
        # (output index, metric identifier): the metrics, then the weighted metrics (given the sample weights)
        self.metric_pairs = [*metric_pairs, *weighted_pairs]
        self.weighted = [False] * len(metric_pairs) + [True] * len(weighted_pairs)
        self.plain_metrics = not self.several_outputs and not weighted_pairs

        def log_name(i: int, m, prefix: str = "") -> str:
            named = self.several_outputs and output_names[i] is not None  # unnamed: a subclassed model's output
            return f"{output_names[i]}_{prefix}{_metric_name(m)}" if named else f"{prefix}{_metric_name(m)}"

        plain = [log_name(i, m) for i, m in metric_pairs]  # a weighted metric of the same name is weighted_<name>
        self.metric_names = plain + [log_name(i, m, "weighted_" if log_name(i, m) in plain else "")
                                     for i, m in weighted_pairs]
        self.loss_names = loss.log_names if self.several_outputs else []
        self.metrics = None  # the metric objects, resolved against the data's shapes
        self.loss_tracker = self.compile_metrics = None  # what model.metrics shows a custom train_step
        self.train_tracker = self.test_tracker = self.batch_tracker = None  # made with the metrics
        self.accepted_kinds: dict[tuple, bool] = {}  # batch kind -> whether its labels need checking every time

    def build_metrics(self, output_shapes: list[tuple], y_shapes: list[tuple]) -> None:
        """Resolve the metrics against the data's shapes (once; one shape per output), and make the trackers:
        fit's, evaluate's (also fit's validation) and the ``*_on_batch`` methods'."""
        if self.metrics is not None:
            return
        loss_of = (lambda i: self.loss_fn.losses[i]) if self.several_outputs else (lambda i: self.loss_fn)
        self.metrics = [metrics_module.get(m, loss=loss_of(i), output_shape=output_shapes[i],
                                           y_true_shape=y_shapes[i]) for i, m in self.metric_pairs]
        self.loss_tracker = metrics_module.Mean(name="loss")
        self.compile_metrics = compile_utils.CompileMetrics(self.metric_names, self.metric_pairs, self.metrics,
                                                            self.loss_fn if self.several_outputs else None,
                                                            self.weighted)
        self.train_tracker, self.test_tracker, self.batch_tracker = _Tracker(self), _Tracker(self), _Tracker(self)


def _metric_value(result):
    """A metric's result for the logs: a float, or an array for a metric with one value per class."""
    value = np.asarray(result.data if hasattr(result, "data") else result)
    return float(value) if value.ndim == 0 else value


def _only_entry(spec, output_names: list[str], what: str):
    """The loss (or loss weight) of a model of one output, given alone, in a one-entry list or by output name."""
    if isinstance(spec, dict):
        if set(spec) != set(output_names):
            raise ValueError(f"Expected keys {output_names} in {what} dict, but found {what}.keys()={list(spec)}")
        return _one(list(spec.values()), spec, output_names, what)
    if isinstance(spec, (list, tuple)):
        return _one(list(spec), spec, output_names, what)
    return spec


def _one(entries: list, spec, output_names: list[str], what: str):
    if len(entries) != 1:
        raise ValueError(f"compile: the model has one output ({output_names[0]!r}), so `{what}` must be one value "
                         f"(or a list or dict of one); received {spec!r}")
    return entries[0]


def _metric_name(identifier) -> str:
    """The log key of a metric: exactly the string the user passed, else the metric's own name."""
    if isinstance(identifier, str):
        return identifier
    return getattr(identifier, "name", None) or getattr(identifier, "__name__", type(identifier).__name__)


class _Tracker:
    """Loss to date (mean weighted by batch size, as Keras's loss tracker) and the metrics' results, from reset()."""

    def __init__(self, compiled: _Compiled):
        self.compiled = compiled
        self.reset()

    def reset(self) -> None:
        self.custom_logs: dict | None = None  # the last logs of an overridden test_step, which replace ours
        self.loss_sum = 0.0
        self.term_sums = [0.0] * len(self.compiled.loss_names)
        self.count = 0
        for m in self.compiled.metrics:
            m.reset_state()

    def update(self, loss_value: float, n: int, y_true, y_pred, sample_weight=None) -> None:
        compiled = self.compiled
        self.loss_sum += loss_value * n
        self.count += n
        if compiled.plain_metrics:  # one output, no weighted metrics: the per-step path fit's speed rests on
            for m in compiled.metrics:
                m.update_state(y_true, y_pred)
            return
        if self.term_sums:
            with no_grad():
                terms = compiled.loss_fn.terms(y_true, y_pred, sample_weight)
            for k, term in enumerate(terms):
                self.term_sums[k] += float(term.data) * n
        compiled.compile_metrics.update_state(y_true, y_pred, sample_weight)

    def logs(self) -> dict:
        """Keras 3 order: the keys sorted by name."""
        if self.custom_logs is not None:
            return dict(self.custom_logs)
        return dict(sorted(zip(["loss", *self.compiled.loss_names, *self.compiled.metric_names], self.values())))

    def values(self) -> list[float]:
        """The loss, each output's loss (several outputs) and the metrics' results, in Keras 3's order."""
        count = max(self.count, 1)
        return [self.loss_sum / count, *(t / count for t in self.term_sums),
                *(_metric_value(m.result()) for m in self.compiled.metrics)]

    def result(self, return_dict: bool = False):
        """What evaluate and the batch methods return, as in Keras: the logs, or the values in ``metrics_names``
        order (the loss alone when there are no metrics)."""
        if return_dict or self.custom_logs is not None:
            return self.logs()
        values = self.values()
        return values[0] if len(values) == 1 else values


class _BatchHooks:
    """The batch hooks of the callbacks that use them in one mode ('train', 'test', 'predict'): a batch no callback
    watches costs nothing, and its logs are made only when a callback reads them."""

    def __init__(self, callbacks: CallbackList, mode: str):
        self.begin_hooks, self.end_hooks = callbacks.batch_hooks(mode)

    def begin(self, step: int) -> None:
        for hook in self.begin_hooks:
            hook(step, None)

    def end(self, step: int, logs: dict | Callable[[], dict]) -> None:
        """``logs``: the batch's logs, or the function that makes them (a tracker's ``logs``)."""
        if self.end_hooks:
            values = logs() if callable(logs) else logs
            for hook in self.end_hooks:
                hook(step, values)


def _joined(outputs: list[np.ndarray], total: int | None) -> np.ndarray:
    """The batches' outputs as one array (of ``total`` rows, when known, filled batch by batch)."""
    if total is None:
        return np.concatenate(outputs)
    out = np.empty((total, *outputs[0].shape[1:]), dtype=outputs[0].dtype)
    start = 0
    for batch_out in outputs:
        out[start:start + len(batch_out)] = batch_out
        start += len(batch_out)
    return out


class Trainer:
    """The training API of a model: ``compile``, ``fit``, ``evaluate``, ``predict`` and the batch-level methods."""

    def __init__(self):
        self._compiled: _Compiled | None = None
        self._compile_config: dict | None = None
        self.stop_training = False
        self.history: History | None = None
        self._initial_epoch: int | None = None  # set by a callback in on_train_begin to resume training there

    # ----- compile ---------------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly: bool = False, steps_per_execution: int = 1, jit_compile="auto",
                auto_scale_loss: bool = True) -> None:
        """Set the optimizer, the loss and the metrics for training. By default a training step is traced once and
        replayed (models/step.py); ``run_eagerly=True`` rebuilds the graph on every step instead. ``jit_compile``,
        ``steps_per_execution`` and ``auto_scale_loss`` are accepted for compatibility and have no effect."""
        if loss is None:
            raise ValueError("compile: argument `loss` is required (for example loss='mse' or "
                             "loss='sparse_categorical_crossentropy'); received None")
        if metrics is None:
            metrics = []
        for given in (metrics, weighted_metrics):
            if isinstance(given, str) or not isinstance(given, (list, tuple, dict, type(None))):
                raise ValueError(f"compile: arguments `metrics` and `weighted_metrics` must be lists (e.g. "
                                 f"['accuracy']), or dicts or lists of lists for a model of several outputs; "
                                 f"received {given!r}")
        output_names = self._output_names_for_compile(loss)
        if len(output_names) > 1:
            loss_fn, loss_weight = compile_utils.OutputLosses(loss, loss_weights, output_names), 1.0
        else:
            loss_fn = losses.get(_only_entry(loss, output_names, "loss"))
            weight = _only_entry(loss_weights, output_names, "loss_weights")
            loss_weight = 1.0 if weight is None else float(weight)
        pairs = compile_utils.metrics_per_output(metrics, output_names)
        weighted_pairs = compile_utils.metrics_per_output(weighted_metrics, output_names)
        compiled = _Compiled(optimizers.get(optimizer), loss_fn, loss_weight, pairs, output_names,
                             run_eagerly=bool(run_eagerly), weighted_pairs=weighted_pairs)
        names = compiled.metric_names
        duplicated = sorted({n for n in names if names.count(n) > 1} | ({"loss"} & set(names)))
        if duplicated:
            raise ValueError(f"compile: metric names must be unique and differ from 'loss'; received {duplicated}")
        self._compiled = compiled
        self._compile_config = {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
                                "metrics": metrics, "weighted_metrics": weighted_metrics}
        self.stop_training = False

    def _output_names_for_compile(self, loss) -> list[str]:
        """The names of the model's outputs, for resolving per-output losses and metrics: the model's own; for a
        subclassed model not built yet, one output unless the loss says otherwise."""
        names = self.output_names
        if names is None:
            if isinstance(loss, (list, tuple, dict)) and len(loss) > 1:
                raise ValueError(f"compile: model '{self.name}' is not built yet, so its outputs are not known; build "
                                 "it (call it on a batch, or model.build(input_shape)) before compiling it with a "
                                 "loss per output.")
            names = list(loss) if isinstance(loss, dict) else ["output_1"]
        return names

    @property
    def output_names(self) -> list[str] | None:
        """The names of the outputs (the layers that make them); None when not known yet."""
        return None

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    @property
    def optimizer(self):
        return self._compiled.optimizer if self._compiled else None

    @property
    def loss(self):
        """The loss as passed to compile (a string, a Loss or a function)."""
        return self._compile_config["loss"] if self._compile_config else None

    @property
    def metrics_names(self) -> list[str]:
        """As Keras 3 names them: ``loss``, then ``compile_metrics`` when there are metrics, then each output's
        loss (several outputs) once the model has seen data."""
        compiled = self._compiled
        if compiled is None:
            return []
        built = compiled.metrics is not None
        return ["loss", *(["compile_metrics"] if compiled.metric_pairs else []), *(compiled.loss_names if built
                                                                                   else [])]

    def optimizer_variables(self) -> list[np.ndarray]:
        opt = self.optimizer
        return [v for v in opt.variables if v.ndim] if opt is not None and getattr(opt, "_variables", None) else []

    # ----- compile settings and optimizer state, for saving ---------------------------------------------------------
    def get_compile_config(self) -> dict | None:
        """A JSON-able description of the compile arguments (None if not compiled)."""
        if not self._compiled:
            return None
        cfg = self._compile_config
        metric_configs = []
        for m in cfg["metrics"]:
            if isinstance(m, str):
                metric_configs.append(m)
            elif hasattr(metrics_module, "serialize"):
                metric_configs.append(metrics_module.serialize(m))
            else:
                raise ValueError(f"Cannot save metric {m!r}: pass metrics as strings to save the compile settings")
        return {"optimizer": optimizers.serialize(self._compiled.optimizer),
                "loss": cfg["loss"] if isinstance(cfg["loss"], str) else losses.serialize(self._compiled.loss_fn),
                "loss_weights": cfg["loss_weights"], "metrics": metric_configs}

    def compile_from_config(self, config: dict) -> None:
        self.compile(optimizer=optimizers.deserialize(config["optimizer"]), loss=losses.get(config["loss"]),
                     loss_weights=config.get("loss_weights"),
                     metrics=[m if isinstance(m, str) else metrics_module.deserialize(m)
                              for m in config.get("metrics", [])])
        self._compile_config["loss"] = config["loss"]

    def get_optimizer_state(self) -> list[np.ndarray] | None:
        opt = self.optimizer
        if opt is None or not getattr(opt, "_variables", None):
            return None
        return opt.get_state()

    def set_optimizer_state(self, state: list[np.ndarray]) -> None:
        self.optimizer.build(self.trainable_weights)
        self.optimizer.set_state(state)

    # ----- data ------------------------------------------------------------------------------------------------
    def _require_compiled(self, method: str) -> _Compiled:
        if self._compiled is None:
            raise RuntimeError(f"You must call `compile()` before using the model: `{method}` needs a loss and an "
                               f"optimizer. Call model.compile(optimizer=..., loss=...) first.")
        return self._compiled

    def _prepare_x(self, x, method: str, arg: str = "x"):
        """``x`` checked and converted, and stored as the data adapter decides (SparseRows when it is mostly zeros
        and the model's first layer is a Dense); a structure (list/dict of arrays) leaf by leaf."""
        if data.is_structure(x):
            self._check_structure(x, method, arg)
            x = data.map_structure(lambda leaf, name: self._prepare_leaf(leaf, name, method), x, arg)
            self._check_input_values(x)
            return x
        if self._takes_strings():  # texts for a first TextVectorization or StringLookup, kept as they are
            return data.as_texts(x, arg, method)
        x = data.as_array(x, arg, method)
        data.check_not_empty(x, arg, method)
        data.check_features(x, self.expected_input_shape(), arg, method, self.name)
        self._check_input_values(x)
        stored = data_adapters.store_inputs(x, self.step_layers())
        if stored is x:
            data.check_finite(x, arg, method)
        return stored

    @staticmethod
    def _prepare_leaf(value, arg: str, method: str) -> np.ndarray:
        """One array of x or y (or of a structure of them) converted and checked: not empty, all finite."""
        array = data.as_array(value, arg, method)
        data.check_not_empty(array, arg, method)
        data.check_finite(array, arg, method)
        return array

    def _takes_strings(self) -> bool:
        """Whether the model's one input is declared ``Input(dtype="string")``."""
        return False

    def _takes_structures(self) -> bool:
        """Whether x and y may be lists or dicts of arrays: a model of several inputs or outputs says so; a
        Sequential takes one array each."""
        return False

    def _check_structure(self, value, method: str, arg: str) -> None:
        if not self._takes_structures():
            count = len(data.leaves(value, arg))
            raise ValueError(
                f"{method}: model '{self.name}' takes one array as `{arg}`, received a {type(value).__name__} of "
                f"{count} arrays. Lists and dicts of arrays are for a model of several inputs or outputs; if these "
                f"are samples, stack them into one array (np.stack).")

    def _check_input_values(self, x) -> None:
        """Let each layer that reads an input as given check all of its data before any step (an Embedding its
        indices), so a bad value deep in the data is refused before training rather than at its batch."""
        for array, readers in self.input_readers(x):
            for layer in readers:
                check = getattr(layer, "check_input_values", None)
                if check is not None and isinstance(array, np.ndarray):
                    check(array)

    def _build_for(self, x) -> None:
        """Build the model for inputs like ``x`` (an array or a structure of them), if it is not built yet."""
        if not self.built:
            self.build(data.map_structure(lambda leaf, _name: (None, *leaf.shape[1:]), x, "x"))

    def _prepare_xy(self, x, y, sample_weight, class_weight, method: str, prefix: str = ""):
        """Checked, converted arrays (x, y, per-sample weights or None); builds the model and its metrics.

        A batch of plain arrays like one accepted before (the same shapes and dtypes, for the same model output)
        is checked by its values alone: what train_on_batch pays per call in a custom training loop."""
        compiled = self._require_compiled(method)
        kind = self._batch_kind(x, y, sample_weight, class_weight)
        recheck_labels = compiled.accepted_kinds.get(kind)
        if recheck_labels is not None:
            return self._check_values(compiled, x, y, sample_weight, recheck_labels, method, prefix)
        x_in, y_in = x, y
        x = self._prepare_x(x, method, f"{prefix}x")
        if y is None or not data.is_structure(y):
            y = self._prepare_leaf(y, f"{prefix}y", method)
            sw = data_adapters.sample_weights(y, sample_weight, class_weight, method)
        else:
            self._check_structure(y, method, f"{prefix}y")
            y = data.map_structure(lambda leaf, name: self._prepare_leaf(leaf, name, method), y, f"{prefix}y")
            if class_weight is not None:
                raise ValueError("`class_weight` is only supported for Models with a single output.")
            sw = data_adapters.sample_weights(None, sample_weight, None, method)
        data.check_lengths(method, **data.leaves(x, f"{prefix}x"), **data.leaves(y, f"{prefix}y"),
                           **{f"{prefix}sample_weight": sw})
        self._build_for(x)
        output_shapes = []
        map_shapes(output_shapes.append, self.output_shape)
        if compiled.several_outputs:
            label_arrays = compiled.loss_fn.labels(y, f"{prefix}y")
            for i in compiled.loss_fn.indices:
                self._check_targets(compiled.loss_fn.losses[i], label_arrays[i], output_shapes[i], method,
                                    f"{prefix}y for output '{compiled.loss_fn.output_names[i]}'")
            compiled.build_metrics(output_shapes, [(None, *np.shape(a)[1:]) for a in label_arrays])
        elif type(y) is np.ndarray:
            self._check_targets(compiled.loss_fn, y, self.output_shape, method, f"{prefix}y")
            compiled.build_metrics(output_shapes, [(None, *y.shape[1:])])
        kind = self._batch_kind(x_in, y_in, sample_weight, class_weight)
        if kind is not None and data_adapters.keeps_dense(x):
            compiled.accepted_kinds[kind] = losses.label_kind(compiled.loss_fn) in ("sparse", "binary")
        return x, y, sw

    def _batch_kind(self, x, y, sample_weight, class_weight) -> tuple | None:
        """What the checks of a batch's shapes depend on, for a built model given plain arrays; else None."""
        if not (self.built and type(x) is np.ndarray and x.dtype.kind in "biuf" and type(y) is np.ndarray
                and class_weight is None and (sample_weight is None or type(sample_weight) is np.ndarray)):
            return None
        weights = None if sample_weight is None else (sample_weight.shape, sample_weight.dtype)
        return x.shape, x.dtype, y.shape, y.dtype, weights, self.output_shape

    def _check_values(self, compiled: _Compiled, x, y, sample_weight, recheck_labels: bool, method: str,
                      prefix: str) -> tuple:
        """(x, y, sw) of a batch of an accepted kind: converted, and checked in what its values alone decide (NaN
        and inf, the weights, and the labels of a loss that reads class indices or binary labels)."""
        x = data.as_array(x, f"{prefix}x", method)
        data.check_finite(x, f"{prefix}x", method)
        y = data.as_array(y, f"{prefix}y", method)
        data.check_finite(y, f"{prefix}y", method)
        sw = data_adapters.sample_weights(y, sample_weight, None, method)
        if recheck_labels:
            self._check_targets(compiled.loss_fn, y, self.output_shape, method, f"{prefix}y")
        return x, y, sw

    @staticmethod
    def _check_targets(loss_fn, y, output_shape: tuple, method: str, what: str) -> None:
        y = np.asarray(y)
        try:
            losses.validate_targets(loss_fn, y, output_shape)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{method}: argument `{what}` (shape {y.shape}) does not fit the loss and the model's "
                          f"output shape {output_shape}: {e}") from None

    def _data_adapter(self, method: str, x, y, sample_weight=None, class_weight=None, batch_size: int = 32,
                      steps=None, shuffle: bool = False, training: bool = False, prefix: str = "") -> DataAdapter:
        """The adapter that hands this data to ``method`` in batches, checked and converted before the first one;
        for training, a batch too big for the cache comes in slices (models/slicing.py). A loader (PyDataset,
        generator) gets each of its batches checked the same way as it is read."""
        if data_adapters.is_loader(x):
            def prepare(xb, yb, swb):
                return self._prepare_xy(xb, yb, swb, class_weight, method, prefix)

            return data_adapters.loader_adapter(x, y, sample_weight, class_weight, prepare, steps, shuffle, method)
        x, y, sw = self._prepare_xy(x, y, sample_weight, class_weight, method, prefix)
        slice_rows = None
        if training:
            n = len(next(iter(data.leaves(x, "x").values())))
            batches = math.ceil(n / batch_size)
            if steps is not None and not 1 <= steps <= batches:
                raise ValueError(f"{method}: argument `steps_per_epoch` must be between 1 and {batches} (the batches "
                                 f"in {n} samples of batch_size {batch_size}), received {steps!r}")
            compiled = self._compiled
            if not compiled.run_eagerly and not data.is_structure(x):
                slice_rows = slicing.rows_per_slice(self.step_layers(), compiled.loss_fn, x, batch_size)
        return data_adapters.ArrayDataAdapter(x, y, sw, batch_size, steps, shuffle, slice_rows)

    # ----- one step --------------------------------------------------------------------------------------------
    def _train_batch(self, step: TrainStep | slicing.SlicedStep, x, y, sw, tracker: _Tracker) -> None:
        """One training step, as fit and train_on_batch take it: model, loss and backward (the replayed step),
        the optimizer's update, then the metrics."""
        loss_value, y_pred = step(x, y, sw)
        variables = step.variables
        self._compiled.optimizer.apply([v.grad for v in variables], variables)
        tracker.update(loss_value, len(y) if type(y) is np.ndarray else data.batch_length(y), y, y_pred, sw)

    # ----- a custom step: what a subclass overrides -----------------------------------------------------------
    def train_step(self, data) -> dict:
        """One training step on ``data`` (``(x, y)`` or ``(x, y, sample_weight)``), returning the logs: what fit
        runs for each batch. Override it to train differently, with glassnet's autodiff (docs/custom_training.md)::

            def train_step(self, data):
                x, y = data
                self.zero_grad()
                y_pred = self(x, training=True)
                loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
                loss.backward()
                self.optimizer.apply([v.grad for v in self.trainable_weights], self.trainable_weights)
                for metric in self.metrics:
                    metric.update_state(loss) if metric.name == "loss" else metric.update_state(y, y_pred)
                return {m.name: m.result() for m in self.metrics}

        This default takes the replayed step that fit takes when train_step is not overridden."""
        x, y, sw = compile_utils.unpack_x_y_sample_weight(data)
        compiled = self._compiled
        compiled.batch_tracker.reset()
        self._train_batch(self._step_for(compiled), x, y, sw, compiled.batch_tracker)
        return compiled.batch_tracker.logs()

    def test_step(self, data) -> dict:
        """The loss and metrics of one batch without training, as logs: what evaluate runs for each batch when a
        subclass overrides it (the same pattern as ``train_step``, without backward and update)."""
        x, y, sw = compile_utils.unpack_x_y_sample_weight(data)
        tracker = self._compiled.batch_tracker
        tracker.reset()
        self._test_batch(x, y, sw, tracker)
        return tracker.logs()

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
        """The loss of a batch as a Tensor, for a custom ``train_step``: compile's loss (per output, weighted) of
        ``y`` and ``y_pred``, plus the layers' penalties (weight and activity regularization, ``add_loss``)."""
        compiled = self._require_compiled("compute_loss")
        loss = compiled.loss_fn(y, y_pred, sample_weight=sample_weight)
        if compiled.loss_weight != 1.0:
            loss = loss * compiled.loss_weight
        for penalty in self.losses:
            loss = loss + penalty
        return loss

    def zero_grad(self) -> None:
        """Forget the trainable weights' gradients: ``loss.backward()`` adds to them, as in PyTorch."""
        for variable in self.trainable_weights:
            variable.grad = None

    @property
    def metrics(self) -> list:
        """The loss tracker (named ``loss``) and ``compile_metrics`` once the data's shapes resolved the metrics,
        as Keras 3 lists them; a custom train_step updates them."""
        compiled = self._compiled
        if compiled is None or compiled.metrics is None:
            return []
        return [compiled.loss_tracker, *([compiled.compile_metrics] if compiled.metrics else [])]

    def _custom(self, method: str) -> bool:
        """Whether the model overrides ``train_step`` or ``test_step`` (then fit/evaluate call it per batch)."""
        return getattr(type(self), method) is not getattr(Trainer, method)

    def _custom_batch(self, step_fn, x, y, sw) -> dict:
        """One batch through an overridden train_step/test_step; its logs as floats (a dict result, such as
        compile_metrics', flattened in)."""
        logs = step_fn((x, y) if sw is None else (x, y, sw))
        if not isinstance(logs, dict):
            raise TypeError(f"{type(self).__name__}.{step_fn.__name__} must return a dict of logs (name: value), "
                            f"received {type(logs).__name__}")
        flat = {}
        for key, value in logs.items():
            for name, item in (value.items() if isinstance(value, dict) else [(key, value)]):
                flat[name] = float(np.asarray(item.data if hasattr(item, "data") else item))
        return dict(sorted(flat.items()))

    def _test_batch(self, x, y, sw, tracker: _Tracker) -> None:
        """The loss and metrics of one batch, without training (evaluate, fit's validation, test_on_batch): the
        replayed forward pass."""
        loss, y_pred = self._forward_step("test")(x, y, sw)
        tracker.update(loss, len(y) if type(y) is np.ndarray else data.batch_length(y), y, y_pred, sw)

    def _predict_batch(self, x):
        """The outputs for one batch (an array, or a list/dict of arrays for a model of several outputs): the
        replayed forward pass."""
        return self._forward_step("predict")(x, None, None)[1]

    def _forward_step(self, kind: str) -> TrainStep:
        """The forward pass that evaluate ("test": a labelled batch's loss and predictions) or predict
        ("predict": the outputs alone) replays, as fit replays its training step; made on first use and again
        after the model's structure changed (``WeightChanges.structure``) or it was compiled anew."""
        steps = self.__dict__.setdefault("_forward_steps", {})
        compiled = self._compiled if kind == "test" else None
        eager = self._compiled is not None and self._compiled.run_eagerly
        cached = steps.get(kind)
        if (cached is not None and cached.structure == WeightChanges.structure and cached.compiled is compiled
                and cached.run_eagerly == eager):
            return cached
        if kind == "test":
            def forward(x, y, sw):
                return forward_loss(self, compiled.loss_fn, x, y, sw, training=False, loss_weight=compiled.loss_weight)
        else:
            def forward(x, y, sw):
                return None, self(x, training=False)
        title = f"The {'evaluation' if kind == 'test' else 'prediction'} pass of {type(self).__name__} '{self.name}'"
        step = TrainStep(forward, [], run_eagerly=eager, title=title, gradients=False)
        step.compiled, step.structure = compiled, WeightChanges.structure
        steps[kind] = step
        return step

    def _fit_step(self, adapter: DataAdapter) -> TrainStep | slicing.SlicedStep:
        """fit's training step for the trainable weights, taking each batch in slices when the adapter hands them
        out so; the optimizer's state is made now."""
        step = self._step_for(self._compiled)
        self._compiled.optimizer.build(step.variables)
        return step if adapter.slice_rows is None else slicing.SlicedStep(step, adapter.slice_rows)

    def __getstate__(self) -> dict:
        """Copies (pickle, Dask) leave out the traced step plans: they are rebuilt on the next step."""
        state = self.__dict__.copy()
        state.pop("_cached_step", None)
        state.pop("_forward_steps", None)
        return state

    def _step_for(self, compiled: _Compiled) -> TrainStep:
        """The TrainStep (with its traced plans) for these compile settings and the trainable weights, made on
        first use. The weights are listed again only after a weight or layer changed (``WeightChanges``), so a
        custom loop's ``train_on_batch`` does not walk the layers on every call."""
        cached = getattr(self, "_cached_step", None)
        if cached is not None and cached.compiled is compiled and cached.weight_changes == WeightChanges.count:
            return cached
        variables = self.trainable_weights
        if cached is None or cached.compiled is not compiled or cached.variables != variables:
            title = (f"The training step of {type(self).__name__} '{self.name}' "
                     f"(loss {getattr(compiled.loss_fn, 'name', compiled.loss_fn)})")
            cached = TrainStep(lambda x, y, sw: forward_loss(self, compiled.loss_fn, x, y, sw, training=True,
                                                             loss_weight=compiled.loss_weight),
                               variables, run_eagerly=compiled.run_eagerly, title=title)
            cached.compiled = compiled
            self._cached_step = cached
        cached.weight_changes = WeightChanges.count
        return cached

    def step_source(self, batch_size: int | None = None) -> StepSource:
        """The Python that ``fit`` runs for one training step, as text: ``forward`` then ``backward``, one line
        per op, named after the layers and the course's symbols, each line with its equation.

        Without ``batch_size``: the step fit ran last, or else a step recorded now on a batch of 32 random
        samples. With it: the step for batches of that size (recorded now if fit has not run one; recording
        draws one dropout mask). ``exec(source, dict(source.bindings))`` defines the functions that run."""
        if self._compiled is None:
            raise ValueError(f"step_source: model '{self.name}' has not been compiled, so it has no training step "
                             "yet. Call `model.compile(optimizer=..., loss=...)` first.")
        if not self.built:
            raise ValueError(f"step_source: model '{self.name}' has not been built, so its step has no shapes yet. "
                             "Call `model.build(input_shape)`, call the model on data, or start it with "
                             "`Input(shape)` first.")
        if self._compiled.run_eagerly:
            raise ValueError(f"step_source: model '{self.name}' was compiled with run_eagerly=True, so fit runs "
                             "the eager tape, not a written-out step. Compile without run_eagerly to see it.")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size < 1):
            raise ValueError(f"step_source: argument `batch_size` must be a positive integer, received "
                             f"{batch_size!r}")
        step = self._step_for(self._compiled)
        if step.latest is not None and batch_size in (None, step.latest.traced_inputs[0].shape[0]):
            return step.latest.source
        x, y = self._example_batch(batch_size or 32)
        x, y, sw = self._prepare_xy(x, y, None, None, "step_source")
        kept = [(w, w.numpy().copy()) for w in self.non_trainable_weights]
        step(x, y, sw)
        for weight, value in kept:  # recording ran the forward: put back what it moved (batch norm's statistics)
            weight.assign(value)
        return step.latest.source

    def _example_batch(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Random inputs of the model's input shape and zero labels its loss accepts (class indices for a
        sparse loss), for recording a step without data."""
        dtype = self.trainable_weights[0].dtype if self.trainable_weights else backend.floatx()
        # uniform in [0, 1): valid for any layer, an Embedding's indices too (they truncate to row 0)
        x = np.random.default_rng(0).random((batch_size, *self.input_shape[1:])).astype(dtype)
        output_shape = (batch_size, *self.output_shape[1:])
        y = np.zeros(output_shape, dtype=dtype)
        try:
            losses.validate_targets(self._compiled.loss_fn, y, self.output_shape)
        except (ValueError, TypeError):
            y = np.zeros(output_shape[:-1], dtype=np.int64)
        return x, y

    # ----- fit -------------------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True, class_weight=None,
            sample_weight=None, initial_epoch: int = 0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq: int = 1) -> History:
        """Train for ``epochs`` epochs on (x, y); returns the History (also kept as ``model.history``). x and y are
        arrays (or lists/dicts of arrays for a model of several inputs or outputs), or x is a loader of batches
        (a PyDataset, a generator or another iterable: ``steps_per_epoch`` and ``validation_steps`` apply);
        docs/data.md says how each is read."""
        batch_size = self._check_fit_arguments(batch_size, epochs, initial_epoch)
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = data_adapters.train_validation_split(
                (x, y, sample_weight), validation_split, "fit")
        adapter = self._data_adapter("fit", x, y, sample_weight, class_weight, batch_size, steps_per_epoch, shuffle,
                                     training=True)
        val_adapter = None if validation_data is None else self._data_adapter(
            "fit", *data_adapters.unpack_validation_data(validation_data, "fit"),
            batch_size=validation_batch_size or batch_size, steps=validation_steps, prefix="val_")
        step, tracker = self._fit_step(adapter), self._compiled.train_tracker
        self.history = history = History()
        cbs = self._callback_list(callbacks, verbose, epochs, adapter.num_batches, history)
        hooks = _BatchHooks(cbs, "train")
        epoch_logs, self.stop_training = {}, False
        with _Interrupt().deferred() as interrupt:
            cbs.on_train_begin()
            # Keras's hook: a callback that restored a backup (BackupAndRestore) says where training resumes
            initial_epoch, self._initial_epoch = self._initial_epoch or initial_epoch, None
            custom = self._custom("train_step")
            for epoch in range(initial_epoch, epochs):
                tracker.reset()
                for metric in self.metrics if custom else []:
                    metric.reset_state()
                cbs.on_epoch_begin(epoch)
                batch_logs: dict = {}
                for batch, (xb, yb, swb) in adapter.epoch():
                    hooks.begin(batch)
                    if custom:
                        batch_logs = self._custom_batch(self.train_step, xb, yb, swb)
                        hooks.end(batch, batch_logs)
                    else:
                        self._train_batch(step, xb, yb, swb, tracker)
                        hooks.end(batch, tracker.logs)
                    interrupt.check()
                    if self.stop_training:
                        break
                step.drop_saved()  # the last batch's activations: not held through validation or after fit
                if adapter.ran_out:  # a used-up generator: no epoch left to run
                    break
                epoch_logs = dict(batch_logs) if custom else tracker.logs()
                if val_adapter is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._evaluate(val_adapter, cbs).logs()
                    if not val_adapter.ran_out:  # a used-up validation generator has nothing to report
                        epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, epoch_logs)
                interrupt.check()
                if self.stop_training:
                    break
            cbs.on_train_end(epoch_logs)
        return history

    def _callback_list(self, callbacks, verbose, epochs: int, steps: int, history: History | None = None
                       ) -> CallbackList:
        """What fit, evaluate and predict call back: the user's callbacks, then fit's History, then a progress bar
        unless ``verbose=0`` ("auto" is 1)."""
        verbose = 1 if verbose == "auto" else verbose
        added = [] if history is None else [history]
        return CallbackList([*(callbacks or []), *added], add_progbar=verbose != 0, model=self, verbose=verbose,
                            epochs=epochs, steps=steps)

    def _check_fit_arguments(self, batch_size, epochs, initial_epoch) -> int:
        """The batch size fit uses (32 when None), after checking it, ``epochs`` and ``initial_epoch``."""
        self._require_compiled("fit")
        if not isinstance(epochs, (int, np.integer)) or epochs < 0 or initial_epoch < 0:
            raise ValueError(f"fit: `epochs` and `initial_epoch` must be non-negative integers, received "
                             f"epochs={epochs!r}, initial_epoch={initial_epoch!r}")
        return data.check_batch_size(batch_size, "fit")

    # ----- evaluate --------------------------------------------------------------------------------------------
    def _evaluate(self, adapter: DataAdapter, cbs: CallbackList) -> _Tracker:
        """The loss and metrics over the adapter's batches, without training (in the tracker returned); calls the
        test hooks."""
        tracker, hooks = self._compiled.test_tracker, _BatchHooks(cbs, "test")
        tracker.reset()
        custom = self._custom("test_step")
        for metric in self.metrics if custom else []:
            metric.reset_state()
        cbs.on_test_begin()
        logs: dict = {}
        for step, (x, y, sw) in adapter.epoch():
            hooks.begin(step)
            if custom:
                logs = self._custom_batch(self.test_step, x, y, sw)
                tracker.custom_logs = logs
                hooks.end(step, logs)
            else:
                self._test_batch(x, y, sw, tracker)
                hooks.end(step, tracker.logs)
        cbs.on_test_end(tracker.logs())
        return tracker

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict: bool = False):
        """The loss (and metrics) on (x, y): a scalar if there are no metrics, else ``[loss, *metrics]`` in
        ``metrics_names`` order; ``return_dict=True`` gives ``{name: value}``."""
        self._require_compiled("evaluate")
        batch_size = data.check_batch_size(batch_size, "evaluate")
        adapter = self._data_adapter("evaluate", x, y, sample_weight, batch_size=batch_size, steps=steps)
        cbs = self._callback_list(callbacks, verbose, 1, adapter.num_batches)
        return self._evaluate(adapter, cbs).result(return_dict)

    # ----- predict ---------------------------------------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None) -> np.ndarray:
        """The model's outputs for ``x``, batch by batch, without training, as one NumPy array. ``x`` may be
        arrays or a loader (a PyDataset or generator, whose batches' targets, if any, are ignored)."""
        batch_size = data.check_batch_size(batch_size, "predict")
        if data_adapters.is_loader(x):
            def prepare(xb, _yb, _swb):
                xb = self._prepare_x(xb, "predict")
                self._build_for(xb)
                return xb, None, None

            adapter = data_adapters.loader_adapter(x, None, None, None, prepare, steps, False, "predict")
            total = None
        else:
            x = self._prepare_x(x, "predict")
            self._build_for(x)
            adapter = data_adapters.ArrayDataAdapter(x, batch_size=batch_size, steps=steps)
            total = min(data.batch_length(x), adapter.num_batches * batch_size)
        cbs = self._callback_list(callbacks, verbose, 1, adapter.num_batches)
        hooks, outputs = _BatchHooks(cbs, "predict"), []
        cbs.on_predict_begin()
        for step, (xb, _, _) in adapter.epoch():
            hooks.begin(step)
            outputs.append(self._predict_batch(xb))
            hooks.end(step, {"outputs": outputs[-1]})
        cbs.on_predict_end()
        if not isinstance(outputs[0], (list, tuple, dict)):
            return _joined(outputs, total)
        columns = zip(*(flatten(batch_out) for batch_out in outputs))
        return pack_like(outputs[0], [_joined(list(column), total) for column in columns])

    # ----- one batch: what custom training loops call ----------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One training step on exactly this batch, the one fit takes (the same replayed TrainStep, optimizer
        update and metrics); returns the loss (and metrics) of the batch. A batch of the same shapes and dtypes as
        an earlier one is checked by its values only, so a custom loop pays little more than the step."""
        x, y, sw = self._prepare_xy(x, y, sample_weight, class_weight, "train_on_batch")
        compiled = self._compiled
        compiled.batch_tracker.reset()
        self._train_batch(self._step_for(compiled), x, y, sw, compiled.batch_tracker)
        return compiled.batch_tracker.result(return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """The loss (and metrics) on exactly this batch, without training, as evaluate computes them."""
        x, y, sw = self._prepare_xy(x, y, sample_weight, None, "test_on_batch")
        tracker = self._compiled.batch_tracker
        tracker.reset()
        self._test_batch(x, y, sw, tracker)
        return tracker.result(return_dict)

    def predict_on_batch(self, x) -> np.ndarray:
        """The model's outputs for one batch, as a NumPy array of its own."""
        return map_structure(np.array, self._predict_batch(self._prepare_x(x, "predict_on_batch")))

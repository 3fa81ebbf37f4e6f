"""Trainer: compile, fit, evaluate, predict and the ``*_on_batch`` methods, mixed into Sequential (as in Keras 3).

One training step: clear the gradients, ``model(x, training=True)``, loss + the layers' penalties (Keras shows the
sum as ``loss``), one backward pass, ``optimizer.apply``, then the metrics update on NumPy arrays. Data are checked
and converted once before the first step (a large, mostly-zero input into SparseRows when the first layer is a
Dense); batches are views (no shuffle) or gathered with ``np.take`` into one reused buffer (shuffle), so no step
copies the dataset. The shuffle order comes from a generator drawn from glassnet's global one:
``glassnet.utils.set_random_seed(s)`` makes training bit-identical.

Ctrl-C during fit is deferred to the end of the current step, so weights are never left half-updated; fit then
re-raises KeyboardInterrupt (as Keras does) with ``model.history`` holding the epochs that completed and
the model ready to use. A second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
from collections.abc import Iterator

import numpy as np

from glassnet import backend, losses, optimizers
from glassnet import metrics as metrics_module
from glassnet.autodiff.step_source import StepSource
from glassnet.autodiff.tensor import name_scope, no_grad
from glassnet.callbacks import CallbackList, History
from glassnet.kernels import updates
from glassnet.kernels.sparse import SparseRows
from glassnet.layers import Dense, InputLayer
from glassnet.models import data, slicing
from glassnet.models.step import TrainStep


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
    """What compile resolved: the optimizer, the Loss, the loss weight and the metrics (built on first data)."""

    def __init__(self, optimizer, loss, loss_weight, metric_ids, run_eagerly: bool = False):
        self.optimizer = optimizer
        self.run_eagerly = run_eagerly
        self.loss_fn = loss
        self.loss_weight = loss_weight
        self.metric_ids = metric_ids
        self.metric_names = [_metric_name(m) for m in metric_ids]
        self.metrics = None  # the metric objects, resolved against the data's shapes

    def build_metrics(self, output_shape: tuple, y_shape: tuple) -> None:
        if self.metrics is not None:
            return
        self.metrics = [metrics_module.get(m, loss=self.loss_fn, output_shape=output_shape, y_true_shape=y_shape)
                        for m in self.metric_ids]


def _batch_bounds(n: int, batch_size: int, steps: int | None = None) -> list[tuple[int, int]]:
    """(start, stop) of each batch of ``batch_size`` samples out of ``n`` (the last one may be shorter), only the
    first ``steps`` of them when given."""
    total = math.ceil(n / batch_size) if steps is None else min(int(steps), math.ceil(n / batch_size))
    return [(start, min(start + batch_size, n)) for start in range(0, total * batch_size, batch_size)]


def _metric_name(identifier) -> str:
    """The log key of a metric: exactly the string the user passed, else the metric's own name."""
    if isinstance(identifier, str):
        return identifier
    return getattr(identifier, "name", None) or getattr(identifier, "__name__", type(identifier).__name__)


class _Tracker:
    """Epoch-to-date loss (mean weighted by batch size, as Keras's loss tracker) and the metrics' results."""

    def __init__(self, compiled: _Compiled):
        self.compiled = compiled
        self.loss_sum = 0.0
        self.count = 0
        for m in compiled.metrics:
            m.reset_state()

    def update(self, loss_value: float, n: int, y_true, y_pred) -> None:
        self.loss_sum += loss_value * n
        self.count += n
        for m in self.compiled.metrics:
            m.update_state(y_true, y_pred)

    def logs(self) -> dict:
        """Keras 3 order: the keys sorted by name."""
        logs = {"loss": self.loss_sum / max(self.count, 1)}
        for name, m in zip(self.compiled.metric_names, self.compiled.metrics):
            logs[name] = float(np.asarray(m.result()))
        return dict(sorted(logs.items()))


class _BatchRows:
    """``rows(a, b)``: rows a..b of one batch of x, a view when the batch is a contiguous range (no shuffle), else
    gathered from the shuffled order into ``buffer`` (SparseRows gather their nonzeros into arrays of their own)."""

    def __init__(self, x: np.ndarray, order: np.ndarray | None, start: int, stop: int, buffer: np.ndarray | None):
        self.x, self.order, self.start, self.stop, self.buffer = x, order, start, stop, buffer

    def __call__(self, a: int, b: int) -> np.ndarray:
        if self.order is None:
            return self.x[self.start + a:self.start + b]
        if self.buffer is None:
            return self.x.take(self.order[self.start + a:self.start + b])
        # mode="clip": the indices are a permutation, always valid; with mode="raise" NumPy buffers `out` and
        # copies every batch twice (3x slower on IMDB's 20 MB batches)
        return np.take(self.x, self.order[self.start + a:self.start + b], axis=0, out=self.buffer[:b - a],
                       mode="clip")


class Trainer:
    """The training API of a model: ``compile``, ``fit``, ``evaluate``, ``predict`` and the batch-level methods."""

    def __init__(self):
        self._compiled: _Compiled | None = None
        self._compile_config: dict | None = None
        self.stop_training = False
        self.history: History | None = None

    # ----- compile ---------------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly: bool = False, steps_per_execution: int = 1, jit_compile="auto",
                auto_scale_loss: bool = True) -> None:
        """Set the optimizer, the loss and the metrics for training. By default a training step is traced once and
        replayed (models/step.py); ``run_eagerly=True`` rebuilds the graph on every step instead. ``jit_compile``,
        ``steps_per_execution`` and ``auto_scale_loss`` are accepted for compatibility and have no effect."""
        if weighted_metrics:
            raise NotImplementedError("compile: `weighted_metrics` is not supported by glassnet yet; pass them in "
                                      "`metrics` (computed without sample weights)")
        if loss is None:
            raise ValueError("compile: argument `loss` is required (for example loss='mse' or "
                             "loss='sparse_categorical_crossentropy'); received None")
        if isinstance(loss, (list, tuple, dict)):
            raise ValueError(f"compile: a Sequential model has one output, so `loss` must be a single loss; "
                             f"received a {type(loss).__name__}")
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, dict)) or not isinstance(metrics, (list, tuple)):
            raise ValueError(f"compile: argument `metrics` must be a list (e.g. ['accuracy']), received {metrics!r}")
        loss_weight = 1.0
        if loss_weights is not None:
            weights = loss_weights if isinstance(loss_weights, (list, tuple)) else [loss_weights]
            if len(weights) != 1:
                raise ValueError(f"compile: a Sequential model has one output, so `loss_weights` must be one number; "
                                 f"received {loss_weights!r}")
            loss_weight = float(weights[0])
        names = [_metric_name(m) for m in metrics]
        duplicated = sorted({n for n in names if names.count(n) > 1} | ({"loss"} & set(names)))
        if duplicated:
            raise ValueError(f"compile: metric names must be unique and differ from 'loss'; received {duplicated}")
        self._compiled = _Compiled(optimizers.get(optimizer), losses.get(loss), loss_weight, list(metrics),
                                   run_eagerly=bool(run_eagerly))
        self._compile_config = {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
                                "metrics": list(metrics)}
        self.stop_training = False

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
        return ["loss", *self._compiled.metric_names] if self._compiled else []

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

    def _prepare_x(self, x, method: str, arg: str = "x") -> np.ndarray | SparseRows:
        """``x`` checked and converted; SparseRows when it is mostly zeros and the model's first layer is a Dense."""
        x = data.as_array(x, arg, method)
        data.check_not_empty(x, arg, method)
        data.check_features(x, self.expected_input_shape(), arg, method, self.name)
        rows = data.sparse_rows(x) if self._takes_sparse_rows(x.dtype) else None
        if rows is not None:
            return rows
        data.check_finite(x, arg, method)
        return x

    def _takes_sparse_rows(self, dtype: np.dtype) -> bool:
        """Whether the model's inputs may be SparseRows: its first layer is glassnet's own Dense (whose only use of
        them is X·W, and Xᵀ·dZ in backward), and no layer casts them to another dtype on the way."""
        first = next((layer for layer in self._layers if not isinstance(layer, InputLayer)), None)
        return type(first) is Dense and all(np.dtype(layer.dtype) == dtype for layer in (self._layers[0], first))

    def _prepare_xy(self, x, y, sample_weight, class_weight, method: str, prefix: str = ""):
        """Checked, converted arrays (x, y, per-sample weights or None); builds the model and its metrics."""
        compiled = self._require_compiled(method)
        x = self._prepare_x(x, method, f"{prefix}x")
        y = data.as_array(y, f"{prefix}y", method)
        data.check_not_empty(y, f"{prefix}y", method)
        data.check_finite(y, f"{prefix}y", method)
        sw = data.sample_weights(y, sample_weight, class_weight, method)
        data.check_lengths(method, **{f"{prefix}x": x, f"{prefix}y": y, f"{prefix}sample_weight": sw})
        if not self.built:
            self.build((None, *x.shape[1:]))
        output_shape = self.output_shape
        try:
            losses.validate_targets(compiled.loss_fn, y, output_shape)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{method}: argument `{prefix}y` (shape {y.shape}) does not fit the loss and the model's "
                          f"output shape {output_shape}: {e}") from None
        compiled.build_metrics(output_shape, (None, *y.shape[1:]))
        return x, y, sw

    # ----- one step --------------------------------------------------------------------------------------------
    def _forward_loss(self, compiled: _Compiled, xb, yb, swb, training: bool):
        """(total loss Tensor, predictions Tensor): the compiled loss, weighted, plus the layers' penalties."""
        y_pred = self(xb, training=training)
        with name_scope("loss"):
            loss = compiled.loss_fn(yb, y_pred, sample_weight=swb)
            if compiled.loss_weight != 1.0:
                loss = loss * compiled.loss_weight
            for penalty in self.losses:
                loss = loss + penalty
        return loss, y_pred

    def _train_step(self, compiled: _Compiled, variables: list, xb, yb, swb):
        loss_value, y_pred = self._step_for(compiled, variables)(xb, yb, swb)
        compiled.optimizer.apply([v.grad for v in variables], variables)
        return loss_value, y_pred

    def _train_step_sliced(self, compiled: _Compiled, variables: list, rows: _BatchRows, yb, swb, slice_rows: int,
                           grad_sums: list[np.ndarray]):
        """One optimizer step on a batch taken ``slice_rows`` rows at a time (models/slicing.py): ``rows(a, b)``
        gives the input's rows a..b; each slice's gradient and loss count with weight (its rows / the batch's)."""
        step = self._step_for(compiled, variables)
        m = len(yb)
        loss_value, predictions = 0.0, []
        for a in range(0, m, slice_rows):
            b = min(a + slice_rows, m)
            slice_loss, slice_pred = step(rows(a, b), yb[a:b], None if swb is None else swb[a:b])
            share = (b - a) / m
            for total, v in zip(grad_sums, variables):
                if a == 0:
                    np.multiply(v.grad, share, out=total)
                else:
                    updates.update(updates.accumulate, total, v.grad, [], [share])
            loss_value += slice_loss * share
            predictions.append(slice_pred.copy())  # a replay may hand back a view of its input buffer
        compiled.optimizer.apply(grad_sums, variables)
        return loss_value, np.concatenate(predictions)

    def __getstate__(self) -> dict:
        """Copies (pickle, Dask) leave out the traced step plans: they are rebuilt on the next step."""
        state = self.__dict__.copy()
        state.pop("_cached_step", None)
        return state

    def _step_for(self, compiled: _Compiled, variables: list) -> TrainStep:
        """The TrainStep (with its traced plans) for these compile settings and weights, made on first use."""
        cached = getattr(self, "_cached_step", None)
        if cached is None or cached.compiled is not compiled or cached.variables != variables:
            title = (f"The training step of {type(self).__name__} '{self.name}' "
                     f"(loss {getattr(compiled.loss_fn, 'name', compiled.loss_fn)})")
            cached = TrainStep(lambda x, y, sw: self._forward_loss(compiled, x, y, sw, training=True), variables,
                               run_eagerly=compiled.run_eagerly, title=title)
            cached.compiled = compiled
            self._cached_step = cached
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
        step = self._step_for(self._compiled, self.trainable_weights)
        if step.latest is not None and batch_size in (None, step.latest.traced_inputs[0].shape[0]):
            return step.latest.source
        x, y = self._example_batch(batch_size or 32)
        x, y, sw = self._prepare_xy(x, y, None, None, "step_source")
        step(x, y, sw)
        return step.latest.source

    def _example_batch(self, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Random inputs of the model's input shape and zero labels its loss accepts (class indices for a
        sparse loss), for recording a step without data."""
        dtype = self.trainable_weights[0].dtype if self.trainable_weights else backend.floatx()
        x = np.random.default_rng(0).standard_normal((batch_size, *self.input_shape[1:])).astype(dtype)
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
        """Train for ``epochs`` epochs on (x, y); returns the History (also kept as ``model.history``)."""
        method = "fit"
        compiled = self._require_compiled(method)
        batch_size = data.check_batch_size(batch_size, method)
        if validation_data is None and validation_split:
            x_arr = data.as_array(x, "x", method)
            y_arr = data.as_array(y, "y", method)
            data.check_lengths(method, x=x_arr, y=y_arr, sample_weight=sample_weight)
            (x, y, sample_weight), (vx, vy, vsw) = data.split_validation([x_arr, y_arr, sample_weight],
                                                                         validation_split, method)
            validation_data = (vx, vy, vsw)
        x, y, sw = self._prepare_xy(x, y, sample_weight, class_weight, method)
        val = None
        if validation_data is not None:
            vx, vy, vsw = data.unpack_validation_data(validation_data, method)
            val = self._prepare_xy(vx, vy, vsw, None, method, prefix="val_")
        n = len(x)
        steps = math.ceil(n / batch_size)
        if steps_per_epoch is not None:
            if not 1 <= steps_per_epoch <= steps:
                raise ValueError(f"fit: argument `steps_per_epoch` must be between 1 and {steps} (the batches in "
                                 f"{n} samples of batch_size {batch_size}), received {steps_per_epoch!r}")
            steps = int(steps_per_epoch)
        if not isinstance(epochs, (int, np.integer)) or epochs < 0 or initial_epoch < 0:
            raise ValueError(f"fit: `epochs` and `initial_epoch` must be non-negative integers, received "
                             f"epochs={epochs!r}, initial_epoch={initial_epoch!r}")
        verbose = 1 if verbose == "auto" else verbose
        history = History()
        cbs = CallbackList([*(callbacks or []), history], add_progbar=verbose != 0, model=self,
                           verbose=verbose, epochs=epochs, steps=steps)
        variables = self.trainable_weights
        compiled.optimizer.build(variables)
        rng = backend.make_rng()
        self.history = history
        self.stop_training = False
        interrupt = _Interrupt()
        begin_hooks, end_hooks = cbs.batch_hooks("train")
        slice_rows = None if compiled.run_eagerly else slicing.rows_per_slice(self.layers, compiled.loss_fn, x,
                                                                              batch_size)
        x_buf = (np.empty((slice_rows or min(batch_size, n), *x.shape[1:]), dtype=x.dtype)
                 if shuffle and isinstance(x, np.ndarray) else None)
        grad_sums = [np.empty(v.shape, dtype=v.dtype) for v in variables] if slice_rows else None
        y_buf = np.empty((min(batch_size, n), *y.shape[1:]), dtype=y.dtype) if shuffle else None
        sw_buf = np.empty(min(batch_size, n), dtype=sw.dtype) if shuffle and sw is not None else None
        bounds = _batch_bounds(n, batch_size, steps)
        epoch_logs: dict = {}
        with interrupt.deferred():
            cbs.on_train_begin()
            for epoch in range(initial_epoch, epochs):
                tracker = _Tracker(compiled)
                cbs.on_epoch_begin(epoch)
                order = rng.permutation(n) if shuffle else None
                for step, (start, stop) in enumerate(bounds):
                    rows = _BatchRows(x, order, start, stop, x_buf)
                    if order is None:
                        yb = y[start:stop]
                        swb = sw[start:stop] if sw is not None else None
                    else:
                        idx, m = order[start:stop], stop - start
                        yb = np.take(y, idx, axis=0, out=y_buf[:m], mode="clip")
                        swb = np.take(sw, idx, out=sw_buf[:m], mode="clip") if sw is not None else None
                    for hook in begin_hooks:
                        hook(step, None)
                    if slice_rows is not None and stop - start > slice_rows:
                        loss_value, y_pred = self._train_step_sliced(compiled, variables, rows, yb, swb,
                                                                     slice_rows, grad_sums)
                    else:
                        loss_value, y_pred = self._train_step(compiled, variables, rows(0, stop - start), yb, swb)
                    tracker.update(loss_value, len(yb), yb, y_pred)
                    if end_hooks:
                        logs = tracker.logs()
                        for hook in end_hooks:
                            hook(step, logs)
                    interrupt.check()
                    if self.stop_training:
                        break
                epoch_logs = tracker.logs()
                if val is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._evaluate_arrays(compiled, *val, validation_batch_size or batch_size,
                                                     cbs, validation_steps)
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, epoch_logs)
                interrupt.check()
                if self.stop_training:
                    break
            cbs.on_train_end(epoch_logs)
        return history

    # ----- evaluate --------------------------------------------------------------------------------------------
    def _evaluate_arrays(self, compiled: _Compiled, x, y, sw, batch_size: int, cbs: CallbackList,
                         steps=None) -> dict:
        """The loss and metrics over (x, y) in batches, under no_grad; calls the test hooks."""
        tracker = _Tracker(compiled)
        begin_hooks, end_hooks = cbs.batch_hooks("test")
        cbs.on_test_begin()
        with no_grad():
            for step, (start, stop) in enumerate(_batch_bounds(len(x), batch_size, steps)):
                for hook in begin_hooks:
                    hook(step, None)
                swb = sw[start:stop] if sw is not None else None
                loss, y_pred = self._forward_loss(compiled, x[start:stop], y[start:stop], swb, training=False)
                tracker.update(float(loss.data), stop - start, y[start:stop], y_pred.data)
                if end_hooks:
                    logs = tracker.logs()
                    for hook in end_hooks:
                        hook(step, logs)
        logs = tracker.logs()
        cbs.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict: bool = False):
        """The loss (and metrics) on (x, y): a scalar if there are no metrics, else ``[loss, *metrics]`` in
        ``metrics_names`` order; ``return_dict=True`` gives ``{name: value}``."""
        method = "evaluate"
        compiled = self._require_compiled(method)
        batch_size = data.check_batch_size(batch_size, method)
        x, y, sw = self._prepare_xy(x, y, sample_weight, None, method)
        verbose = 1 if verbose == "auto" else verbose
        n_steps = math.ceil(len(x) / batch_size) if steps is None else int(steps)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                           steps=n_steps)
        logs = self._evaluate_arrays(compiled, x, y, sw, batch_size, cbs, steps)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    # ----- predict ---------------------------------------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None) -> np.ndarray:
        """The model's outputs for ``x``, batch by batch, under no_grad, as one NumPy array."""
        method = "predict"
        batch_size = data.check_batch_size(batch_size, method)
        x = self._prepare_x(x, method)
        if not self.built:
            self.build((None, *x.shape[1:]))
        n = len(x)
        bounds = _batch_bounds(n, batch_size, steps)
        total_steps = len(bounds)
        verbose = 1 if verbose == "auto" else verbose
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                           steps=total_steps)
        begin_hooks, end_hooks = cbs.batch_hooks("predict")
        out = None
        cbs.on_predict_begin()
        with no_grad():
            for step, (start, stop) in enumerate(bounds):
                for hook in begin_hooks:
                    hook(step, None)
                batch_out = self(x[start:stop], training=False).data
                if out is None:
                    out = np.empty((min(n, total_steps * batch_size), *batch_out.shape[1:]), dtype=batch_out.dtype)
                out[start:stop] = batch_out
                for hook in end_hooks:
                    hook(step, {"outputs": batch_out})
        cbs.on_predict_end()
        return out

    # ----- one batch -------------------------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One training step on exactly this batch; returns the loss (and metrics) of the batch."""
        compiled = self._require_compiled("train_on_batch")
        x, y, sw = self._prepare_xy(x, y, sample_weight, class_weight, "train_on_batch")
        tracker = _Tracker(compiled)
        variables = self.trainable_weights
        loss_value, y_pred = self._train_step(compiled, variables, x, y, sw)
        tracker.update(loss_value, len(x), y, y_pred)
        return self._batch_result(tracker.logs(), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """The loss (and metrics) on exactly this batch, without training."""
        compiled = self._require_compiled("test_on_batch")
        x, y, sw = self._prepare_xy(x, y, sample_weight, None, "test_on_batch")
        tracker = _Tracker(compiled)
        with no_grad():
            loss, y_pred = self._forward_loss(compiled, x, y, sw, training=False)
        tracker.update(float(loss.data), len(x), y, y_pred.data)
        return self._batch_result(tracker.logs(), return_dict)

    def predict_on_batch(self, x) -> np.ndarray:
        """The model's outputs for one batch, as a NumPy array."""
        x = self._prepare_x(x, "predict_on_batch")
        with no_grad():
            return np.array(self(x, training=False).data)

    def _batch_result(self, logs: dict, return_dict: bool):
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

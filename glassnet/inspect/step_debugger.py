"""step: run one training step of a model and keep every value it computed, under the names ``step_source`` uses.

The step is the one ``fit`` runs (``model.train_on_batch``: the data's checks, the replayed forward and backward,
the optimizer's update). While it runs, Python's tracing hook reads the local variables of the written-out
``forward`` and ``backward`` line by line (backward deletes each gradient once used): ``Z1``, ``A1``, ``J``,
``dZ2``, ``dW2`` are the names of
``model.step_source()`` because they *are* its variables, so nothing here names a value. The weights are read before
and after the optimizer's update. ``StepValues.unit(layer, unit)`` writes one unit's equations with the numbers of
the first sample (``z = 0.31·(−1.2) + … + 0.1 = 0.47``, ``σ(0.47) = 0.615``): what ``explain(…, unit=…)`` prints.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from glassnet.autodiff.naming import identifier
from glassnet.autodiff.step_source import StepSource
from glassnet.layers.symbolic import flatten

_LINE = re.compile(r"^\s+(?P<targets>[\w, ]+?),? = (?P<op>\w+)\.(?P<pass>forward|backward)\((?P<args>[^)]*)\)"
                   r"(?:; del [\w, ]+)?\s+# (?P<equations>.*)$")
ROW_FUNCTIONS = ("softmax", "log_softmax")  # functions of a sample's whole row, not of one unit
_NAME = re.compile(r"d?[A-Za-z]\w*(?:\[\d+\])?|d?\w+⟨\d+⟩")


@dataclass
class StepValues(Mapping):
    """Every value of one training step, by its name in ``source``: ``forward`` (the inputs X, Y, then Z1, A1, …,
    the loss J), ``backward`` (dJ, dZ2, dW2, …), ``weights`` (W1, b1, … as the step read them) and ``updated``
    (the same weights after the optimizer's update); ``state`` and ``updated_state`` hold the optimizer's slots of
    each weight before and after it (``state["W1"]["velocity"]`` for RMSprop). ``values["dW2"]`` looks in
    forward, backward and weights."""

    forward: dict[str, np.ndarray]
    backward: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    updated: dict[str, np.ndarray]
    learning_rate: float
    source: StepSource
    state: dict[str, dict[str, np.ndarray]]
    updated_state: dict[str, dict[str, np.ndarray]]

    def _all(self) -> dict[str, np.ndarray]:
        return {**self.weights, **self.forward, **self.backward}

    def __getitem__(self, name: str) -> np.ndarray:
        values = self._all()
        if name not in values:
            raise KeyError(f"step values have no {name!r}; the step's names are {', '.join(values)}")
        return values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    @property
    def loss(self) -> float:
        """The loss the step minimized (the forward's first output)."""
        return float(np.asarray(self.forward[self.outputs()[0]]))

    def outputs(self) -> list[str]:
        """The names ``forward`` returns: the loss, then the predictions."""
        match = re.search(r"^def forward\(.*?^    return \[(.*?)\]$", self.source, re.S | re.M)
        return [n.strip() for n in match.group(1).split(",")]

    def delta(self, name: str) -> np.ndarray:
        """ΔW: what the optimizer's update added to the weight ``name`` (W1, b2, …)."""
        if name not in self.weights:
            raise KeyError(f"{name!r} is not a weight of the step; its weights are {', '.join(self.weights)}")
        return self.updated[name] - self.weights[name]

    def equations(self) -> dict[str, str]:
        """Each value's equation, as the step's source comments it: ``{"Z1": "Z[1] = X·W[1] + b[1]", …}``."""
        found = {}
        for line in self.source.splitlines():
            match = _LINE.match(line)
            if match:
                for equation in match.group("equations").split("; "):
                    lhs = equation.split(" = ", 1)[0]
                    found[identifier(lhs)] = equation
        return found

    def __str__(self) -> str:
        equations = self.equations()
        lines = [f"One training step: loss {self.loss:.6g}, learning rate {self.learning_rate:g}", ""]
        for title, values in (("forward", self.forward), ("backward", self.backward)):
            lines.append(title)
            for name, value in values.items():
                lines.append(f"  {name:<8} {str(np.shape(value)):<14} {_summary(value):<44} "
                             f"{equations.get(name, '')}")
        lines.append("update (before → after, ‖ΔW‖; the optimizer's state of each weight, ‖·‖ before → after)")
        for name, before in self.weights.items():
            after, delta = np.linalg.norm(self.updated[name]), np.linalg.norm(self.delta(name))
            slots = "".join(f"; {slot} {np.linalg.norm(value):.4g} → "
                            f"{np.linalg.norm(self.updated_state[name][slot]):.4g}"
                            for slot, value in self.state.get(name, {}).items())
            lines.append(f"  {name:<8} {str(before.shape):<14} ‖{name}‖ {np.linalg.norm(before):.4g} → "
                         f"{after:.4g}, ‖Δ{name}‖ = {delta:.4g}{slots}")
        return "\n".join(lines)

    __repr__ = __str__

    # ----- one unit, with numbers ----------------------------------------------------------------------------
    def unit(self, layer: int, unit: int, sample: int = 0) -> str:
        """Layer ``layer``'s equations for one ``unit`` and one ``sample``, each filled with the step's numbers:
        the weighted sum, the activation, the gradients dZ, dW, db and the update of the unit's bias."""
        z = f"Z{layer}"
        if z not in self.forward:
            layers = sorted({int(n[1:]) for n in self.forward if re.fullmatch(r"Z\d+", n)})
            raise ValueError(f"explain: argument `layer` must be one of the step's layers {layers}, received "
                             f"{layer!r}")
        width = np.shape(self.forward[z])[-1]
        if not isinstance(unit, int) or not 0 <= unit < width:
            raise ValueError(f"explain: argument `unit` must be an integer in [0, {width}) (the units of layer "
                             f"{layer}), received {unit!r}")
        equations = self.equations()
        lines = [f"Layer {layer}, unit {unit}, sample {sample}:"]
        lines += self._weighted_sum(layer, unit, sample, equations[z])
        values = {**self.weights, **self.forward, **self.backward}
        last = max(_equation_layer(e) or 0 for e in equations.values())
        for name, equation in equations.items():
            belongs = _equation_layer(equation) == layer or (_equation_layer(equation) is None and layer == last)
            if belongs and name != z and name in values and not name.startswith(("dW", "db")):
                filled = _filled(equation, values, unit, sample)
                if filled is not None:
                    lines.append(f"  {filled}")
                elif name == f"dA{layer}":
                    lines += self._backpropagated(unit, sample, equation)
        for weight in (f"W{layer}", f"b{layer}"):
            if weight in self.weights and f"d{weight}" in self.backward:
                index = (..., unit)
                before, after = self.weights[weight][index], self.updated[weight][index]
                grad = self.backward[f"d{weight}"][index]
                if weight.startswith("b"):
                    lines.append(f"  d{weight}[{unit}] = {_number(grad)};  {weight}[{unit}]: {_number(before)} → "
                                 f"{_number(after)} (learning rate {self.learning_rate:g})")
                else:
                    shown = ", ".join(_number(g) for g in np.ravel(grad)[:4]) + (" …" if grad.size > 4 else "")
                    dense = grad.ndim == 1  # a Dense kernel's column: dW[i, j] = Σ over the batch of a[i]·dz[j]
                    lines.append(f"  d{weight}[{':' if dense else '…'}, {unit}] = [{shown}]"
                                 + ("  (a[i]·dz summed over the batch)" if dense else ""))
        return "\n".join(lines)

    def _backpropagated(self, unit: int, sample: int, equation: str) -> list[str]:
        """``da = dz₁·w₁ + dz₂·w₂ + … = value``: the gradient reaching this unit from every unit of the next layer,
        for ``dA[l] = dZ[l+1]·W[l+1]ᵀ`` with a Dense kernel; nothing for other products."""
        match = re.search(r"= (\S+)·(\S+)ᵀ$", equation)
        lhs = identifier(equation.split(" = ", 1)[0])
        if match is None:
            return []
        dz, kernel = self.backward.get(identifier(match.group(1))), self.weights.get(identifier(match.group(2)))
        if dz is None or kernel is None or dz.ndim != 2 or kernel.ndim != 2 or lhs not in self.backward:
            return []
        terms = [f"{_signed(d)}·{_signed(w)}" for d, w in zip(dz[sample], kernel[unit])]
        if len(terms) > 4:
            terms = terms[:3] + ["…", terms[-1]]
        return [f"  {equation}", f"  da = {' + '.join(terms)} = {_number(self.backward[lhs][sample, unit])}"]

    def _weighted_sum(self, layer: int, unit: int, sample: int, equation: str) -> list[str]:
        """``z = a₁·w₁ + … + b = value`` for the product's row of this sample and the kernel's column of this unit."""
        kernel, bias = self.weights.get(f"W{layer}"), self.weights.get(f"b{layer}")
        z = _number(self.forward[f"Z{layer}"][sample, unit]) if self.forward[f"Z{layer}"].ndim == 2 else None
        match = re.search(r"= (\S+)·W\[", equation)
        source = identifier(match.group(1)) if match else None
        if kernel is None or kernel.ndim != 2 or z is None or source not in self.forward:
            values = np.asarray(self.forward[f"Z{layer}"])[sample, ..., unit]
            shown = _number(values) if values.size == 1 else (
                f"{values.size} values from {_number(values.min())} to {_number(values.max())}, mean "
                f"{_number(values.mean())}")
            return [f"  {equation}  (Z[{layer}][{sample}, …, {unit}]: {shown})"]
        inputs = np.asarray(self.forward[source])[sample]
        terms = [f"{_signed(w)}·{_signed(a)}" for w, a in zip(kernel[:, unit], inputs)]
        if len(terms) > 4:
            terms = terms[:3] + ["…", terms[-1]]
        if bias is not None:
            terms.append(_signed(bias[unit]))
        return [f"  {equation}", f"  z = {' + '.join(terms)} = {z}"]


def _equation_layer(equation: str) -> int | None:
    """The layer l of an equation's left side ``Z[l]``, ``dA[l]``; None for the loss's values (L1, J)."""
    match = re.match(r"d?\w+\[(\d+)\] =", equation)
    return int(match.group(1)) if match else None


def _filled(equation: str, values: dict[str, np.ndarray], unit: int, sample: int) -> str | None:
    """The equation with each value replaced by its number at (sample, unit), then ``= result``; None when a value
    in it is not one number per (sample, unit) (a product over the layer)."""
    lhs, rhs = equation.split(" = ", 1)
    target = np.asarray(values[identifier(lhs)])

    def number(match: re.Match) -> str:
        value = values.get(identifier(match.group(0)))
        if value is None:
            return match.group(0)
        if rhs[:match.start()].rstrip("(").endswith(ROW_FUNCTIONS):  # softmax reads the sample's whole row
            row = np.asarray(value)[sample] if np.ndim(value) == 2 else None
            if row is None:
                raise LookupError(match.group(0))
            return "[" + ", ".join(_number(v) for v in row[:4]) + (", …" if len(row) > 4 else "") + "]"
        picked = _pick(np.asarray(value), target.shape, unit, sample)
        if picked is None:
            raise LookupError(match.group(0))
        enclosed = rhs[match.start() - 1:match.start()] == "(" and rhs[match.end():match.end() + 1] in (")", ",")
        return _number(picked) if enclosed else _signed(picked)

    try:
        body = _NAME.sub(number, rhs)
    except LookupError:
        return None
    if body == rhs:  # no value of the step in it (a join of several inputs): nothing to fill in
        return None
    result = _pick(target, target.shape, unit, sample)
    return None if result is None else f"{lhs} = {body} = {_number(result)}"


def _pick(value: np.ndarray, shape: tuple, unit: int, sample: int) -> float | None:
    """The number of ``value`` at (sample, unit) of an elementwise equation whose result has ``shape``: a scalar,
    or a value that broadcasts to the (samples, units) result; None for anything else (a kernel)."""
    if value.ndim == 0:
        return float(value)
    if len(shape) != 2 or value.ndim != 2 or not _broadcasts(value.shape, shape):
        return None
    return float(value[sample if value.shape[0] > 1 else 0, unit if value.shape[1] > 1 else 0])


def _broadcasts(shape: tuple, target: tuple) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _number(value) -> str:
    return f"{float(value):.4g}".replace("-", "−")


def _signed(value) -> str:
    text = _number(value)
    return f"({text})" if text.startswith("−") else text


def _summary(value) -> str:
    array = np.asarray(value, dtype=np.float64)
    if array.size == 1:
        return f"= {float(array.reshape(())):.6g}"
    return f"mean {array.mean():.4g}, std {array.std():.4g}, |max| {np.abs(array).max():.4g}"


def _frame_capture(found: dict[str, dict]):
    """A tracing hook keeping the locals of the written-out ``forward``/``backward`` line by line (``backward``
    deletes each gradient once used, so its locals at the return lack most of them)."""
    def calls(frame, event, arg):
        namespace = frame.f_globals
        if frame.f_code.co_name not in ("forward", "backward") or not (
                "unbroadcast" in namespace and "forward" in namespace and "backward" in namespace):
            return None
        seen = found[frame.f_code.co_name] = {"globals": namespace, "locals": {}}

        def lines(frame, event, arg):
            seen["locals"].update(frame.f_locals)
            return lines
        return lines
    return calls


def _run_captured(model, x, y, sample_weight) -> dict[str, dict]:
    found: dict[str, dict] = {}
    previous = sys.gettrace()
    sys.settrace(_frame_capture(found))
    try:
        model.train_on_batch(x, y, sample_weight=sample_weight)
    finally:
        sys.settrace(previous)
    return found


def step(model, x, y, sample_weight=None) -> StepValues:
    """Run one training step of the compiled ``model`` on ``(x, y)`` (as ``fit`` runs it, the optimizer's update
    included) and return every value of its forward and backward pass and the weights before and after."""
    for method in ("step_source", "train_on_batch", "get_weights", "set_weights"):
        if not callable(getattr(model, method, None)):
            raise TypeError(f"step expects a compiled glassnet model (such as a Sequential), received "
                            f"{type(model).__name__}")
    if getattr(model, "optimizer", None) is None:
        raise ValueError(f"step: model '{model.name}' has not been compiled, so it has no training step yet. Call "
                         "`model.compile(optimizer=..., loss=...)` first.")
    optimizer = model.optimizer
    saved = _snapshot(model)
    trainable = {id(v.value): v for v in model.trainable_weights}
    try:
        for _ in range(2):  # the first may record the step (no replayed forward runs); the second replays it
            before = {key: np.array(v.value, copy=True) for key, v in trainable.items()}
            state_before = _optimizer_state(optimizer, trainable)
            learning_rate = optimizer.learning_rate
            found = _run_captured(model, x, y, sample_weight)
            source = model.step_source(len(flatten(x)[0]))
            ops = {k: v for k, v in source.bindings.items() if not isinstance(v, np.ndarray)}
            if "forward" in found and all(found[k]["globals"].get(n) is o for k in found for n, o in ops.items()):
                break
            _restore(model, saved)
        else:
            raise ValueError(f"step: model '{model.name}' trains eagerly on this batch (its graph depends on the "
                             "data), so there is no written-out step to read; the weights are as they were")
    except Exception:
        _restore(model, saved)  # a failed step (bad data, an eager model) leaves the model as it was
        raise
    weights = {name: before[id(a)] for name, a in source.bindings.items()
               if isinstance(a, np.ndarray) and id(a) in trainable}
    updated = {name: np.array(trainable[id(source.bindings[name])].value, copy=True) for name in weights}
    state_after = _optimizer_state(optimizer, trainable)
    ids = {name: id(source.bindings[name]) for name in weights}
    return StepValues(_values(found["forward"]["locals"]), _values(found.get("backward", {}).get("locals", {})),
                      weights, updated, learning_rate, source, {name: state_before[i] for name, i in ids.items()},
                      {name: state_after[i] for name, i in ids.items()})


def _optimizer_state(optimizer, trainable: dict) -> dict[int, dict[str, np.ndarray]]:
    """Copies of the optimizer's slots of every trainable weight, by the id of the weight's array."""
    return {key: {slot: np.array(value, copy=True) for slot, value in optimizer.slots(var).items()}
            for key, var in trainable.items()}


class UnitEquations(str):
    """The text of ``explain(…, unit=…)``: one unit's equations with numbers (shown as text in a notebook too)."""

    def __repr__(self) -> str:
        return str(self)


def unit_equations(model, x, y, unit: int, layer: int | None = None) -> UnitEquations:
    """One unit's equations with the numbers of ``x[0]`` for ``layer`` (default: every layer that has ``unit``),
    from one training step whose update is undone afterwards (the model and its optimizer are left as they were)."""
    values = undone_step(model, x, y)
    layers = sorted(int(n[1:]) for n in values.forward if re.fullmatch(r"Z\d+", n))
    if layer is None:
        chosen = [ell for ell in layers if isinstance(unit, int) and 0 <= unit < values.forward[f"Z{ell}"].shape[-1]]
        if not chosen:
            widths = {ell: values.forward[f"Z{ell}"].shape[-1] for ell in layers}
            raise ValueError(f"explain: argument `unit` must be an integer below a layer's width {widths}, received "
                             f"{unit!r}")
    else:
        chosen = [layer]
    return UnitEquations("\n".join(values.unit(ell, unit) for ell in chosen))


def undone_step(model, x, y) -> StepValues:
    """``step``, then the weights and the optimizer's state put back: every value of a step that leaves no trace."""
    saved = _snapshot(model) if getattr(model, "optimizer", None) is not None else None
    try:
        return step(model, x, y)
    finally:
        if saved is not None:
            _restore(model, saved)


def _snapshot(model) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The model's weights and its optimizer's state (built now if fit has not built it), to undo a step."""
    model.optimizer.build(model.trainable_weights)
    return model.get_weights(), model.optimizer.get_state()


def _restore(model, saved: tuple[list[np.ndarray], list[np.ndarray]]) -> None:
    model.set_weights(saved[0])
    model.optimizer.set_state(saved[1])


def _values(local_values: dict[str, object]) -> dict[str, np.ndarray]:
    return {name: np.asarray(value) for name, value in local_values.items()
            if not name.startswith("_") and isinstance(value, (np.ndarray, np.generic, float))}


"""explain: the forward and backward equations of a model, in the course's notation, read off its recorded graph.

Nothing here is a template per layer type. Each op's equation comes from its Function's docstring, which states
the forward and the backward rule (``a = σ(z).  Backward: dz = da · a(1 − a)``); explain substitutes the names of
the tensors it was applied to (``Z[1]``, ``A[1]``). So a custom activation shows its own derivative, and an
activation composed of several ops shows as its chain. The fused cross-entropy op is recognized as the course's
``dZ[L] = A[L] − Y``. Following the course, dZ is per sample and the 1/m of the batch mean is written on dW and db.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from glassnet.autodiff import naming
from glassnet.autodiff.equations import atom, rule_of, substitute
from glassnet.inspect.graph import Graph, Node, example_batch, trace
from glassnet.inspect.step_debugger import UnitEquations, unit_equations

_FUSED = {"SigmoidCrossEntropy", "SoftmaxCrossEntropy", "SparseSoftmaxCrossEntropy"}
_PRETTY = {"Sigmoid": "σ", "LeakyRelu": "leaky_relu", "LogSoftmax": "log_softmax"}
ROW_FACTORS = {"MatMul": 0, "Affine": 0, "AddMatMul": 1}  # the products' factor whose rows are the output's rows


@dataclass
class Equation:
    """One step: ``lhs = rhs``, the same with shapes in place of names, and (with data) the values of lhs."""

    lhs: str
    rhs: str
    shapes: str
    values: np.ndarray | None = None

    def __str__(self) -> str:
        return f"{self.lhs} = {self.rhs}"


ALIGN_LIMIT = 80  # characters of equation the shapes column waits for


@dataclass
class Explanation:
    """The equations of a traced model: forward (layer by layer) then backward (from the loss down)."""

    forward: list[Equation]
    backward: list[Equation]
    batch_size: int
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        # the shapes line up in one column after the equations, unless one equation is very long (an LSTM's gate
        # slices sum back into one gradient): that one keeps its shapes a few spaces after it
        width = min(max((len(str(e)) for e in self.forward + self.backward), default=0), ALIGN_LIMIT)
        lines = [f"Rows are samples (m = {self.batch_size}); shapes on the right, batch dimension written m.", "",
                 "Forward"]
        for group, title in ((self.forward, None), (self.backward, "Backward")):
            if title:
                lines += ["", title]
            for e in group:
                lines.append(f"  {str(e).ljust(width)}    {e.lhs}: {e.shapes}")
                if e.values is not None:
                    lines.append("      = " + _preview(e.values).replace("\n", "\n        "))
        lines += [""] + self.notes
        return "\n".join(lines)

    __str__ = text

    def __repr__(self) -> str:
        return self.text()


def _preview(values: np.ndarray) -> str:
    shown = (values if values.ndim < 2 else values[:2, :4]) + 0.0  # + 0.0 turns −0 into 0
    text = np.array2string(np.asarray(shown), precision=4, suppress_small=True, separator=", ")
    return text + (f"  … of {values.shape}" if shown.shape != values.shape else "")


# ----- the explanation ---------------------------------------------------------------------------------------
class _Explainer:
    def __init__(self, graph: Graph):
        self.g = graph
        self.by_id = {n.id: n for n in graph.nodes}
        self.tensor_ids = {id(t): i for i, t in graph.tensors.items()}
        self.consumers: dict[str, list[Node]] = {}
        for n in graph.nodes:
            for i in n.inputs:
                self.consumers.setdefault(i, []).append(n)
        self.data = self._data_dependent()
        self.sample_axis = self._sample_axes()
        self.m = next((n.output_shape[0] for n in graph.nodes if n.op == "Input"), 1)
        self.sample_blocks = self._sample_blocks()
        self.names: dict[str, str] = {}
        self.forward: list[Equation] = []
        self.backward: list[Equation] = []
        self.batch_mean = False
        self.output_name = "A"  # the model output's name, A[L]
        self.per_sample_id: str | None = None  # the per-sample loss L

    def _data_dependent(self) -> set[str]:
        found = set()
        for n in self.g.nodes:
            if n.op in ("Input", "Labels") or any(i in found for i in n.inputs):
                found.add(n.id)
        return found

    def _sample_axes(self) -> dict[str, int]:
        """The axis holding the samples in each node's output: the first, except where a transpose moved it (an
        RNN's time-major copy of its input has it second). Data carry it forward; a constant meets it backward: a
        value added to, or multiplied with, per-sample values of its own shape holds a row per sample too (an RNN's
        zero states h⟨0⟩, c⟨0⟩, and h⟨0⟩·U), as does the left factor of a product whose rows are samples."""
        axes: dict[str, int] = {}
        for n in self.g.nodes:
            known = [axes[i] for i in n.inputs if i in axes]
            if n.op in ("Input", "Labels") or (known and n.op != "Transpose"):
                axes[n.id] = 0
            elif known:
                axes[n.id] = self.g.tensors[n.id].op.perm.index(known[0])
        for n in reversed(self.g.nodes):
            if axes.get(n.id) != 0 or n.op == "Transpose":
                continue
            for k, i in enumerate(n.inputs):
                shape = self.by_id[i].output_shape
                row_factor = k == ROW_FACTORS.get(n.op) and shape[:-1] == n.output_shape[:-1]
                if i not in axes and self.by_id[i].op != "Variable" and (shape == n.output_shape or row_factor):
                    axes[i] = 0
        return axes

    def _sample_blocks(self) -> dict[str, int]:
        """For a value whose first axis holds T blocks of m samples (an RNN's steps laid out time-major, x_all and
        xW_all: a (T, m, …) array reshaped to (T·m, …)), T; carried by the ops that keep that axis and by slices of
        whole blocks (a long sequence's blocks of timesteps)."""
        blocks: dict[str, int] = {}
        for n in self.g.nodes:
            source = n.inputs[0] if n.inputs else None
            shape = self.by_id[source].output_shape if source is not None else ()
            if n.op == "Reshape" and self.sample_axis.get(source) == 1 and len(shape) >= 2 and shape[1] == self.m \
                    and n.output_shape[:1] == (shape[0] * self.m,):
                blocks[n.id] = shape[0]
            elif source in blocks and n.output_shape[:1] == shape[:1] and n.op != "Transpose":
                blocks[n.id] = blocks[source]
            elif source in blocks and n.op == "GetItem" and n.output_shape[1:] == shape[1:] \
                    and n.output_shape[0] % self.m == 0:  # whole blocks of a long sequence's rows: x⟨33:64⟩
                blocks[n.id] = n.output_shape[0] // self.m
        return blocks

    def rows_text(self, rows: int) -> str:
        """A count of rows in units of m where it is a whole number of them: ``m``, ``2m``, ``0``."""
        if self.m > 1 and rows % self.m == 0:
            return "0" if rows == 0 else "m" if rows == self.m else f"{rows // self.m}m"
        return str(rows)

    # shapes and values ------------------------------------------------------------------------------------------
    def shape_text(self, node_id: str) -> str:
        shape = self.by_id[node_id].output_shape
        axis = self.sample_axis.get(node_id)
        dims = ["m" if (k == axis and d == self.m) else str(d) for k, d in enumerate(shape)]
        if node_id in self.sample_blocks:
            dims[0] = self.rows_text(shape[0])
        return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"

    def block_slice(self, n: Node) -> str | None:
        """``xW_all[m:2m]``: a slice of whole blocks of samples out of a time-major value, written in m."""
        key = self.g.tensors[n.id].op.key
        first = key[0] if isinstance(key, tuple) and len(key) == 1 else key
        if n.inputs[0] not in self.sample_blocks or not isinstance(first, slice) or first.step is not None:
            return None
        start, stop, _ = first.indices(self.by_id[n.inputs[0]].output_shape[0])
        if start % self.m or stop % self.m:
            return None
        return f"{self.expr(n.inputs[0])}[{self.rows_text(start)}:{self.rows_text(stop)}]"

    def shapes_of(self, expr: str, extra: dict[str, str]) -> str:
        table = {name: self.shape_text(i) for i, name in self.names.items()}
        table.update(extra)
        return substitute(expr, table)

    def value(self, node_id: str, grad: bool) -> np.ndarray | None:
        if not grad:
            t = self.g.tensors.get(node_id)
            return None if t is None else np.asarray(t.data)
        g = self.g.grads.get(node_id)
        if g is None:
            return None
        scale = self.m if (self.batch_mean and node_id in self.data) else 1  # the course's per-sample dZ, dA
        return g * scale

    def emit(self, into: list[Equation], lhs: str, rhs: str, node_id: str, grad: bool) -> None:
        shape = self.shape_text(node_id)
        extra = {f"d{n}": self.shape_text(i) for i, n in self.names.items()}
        into.append(Equation(lhs, rhs, f"{shape} = {self.shapes_of(rhs, extra)}" if rhs != lhs else shape,
                             self.value(node_id, grad)))

    # forward ----------------------------------------------------------------------------------------------------
    def refs(self, n: Node) -> list[tuple[str | None, str]]:
        """(node id, expression) for each input of n's Function; a scalar constant has no node, only its value."""
        out = []
        for t in self.g.tensors[n.id].op.inputs:
            node_id = self.tensor_ids.get(id(t))
            out.append((node_id, self.expr(node_id) if node_id is not None else f"{float(t.data):g}"))
        return out

    def op_forward(self, n: Node) -> str:
        args = [a for _, a in self.refs(n)]
        if n.op in _FUSED:
            return self.fused_forward(n)
        if n.op in ("Mean", "Sum"):
            fn = self.g.tensors[n.id].op
            over_batch = 0 in fn.axes and n.inputs[0] in self.data and n.input_shapes[0][:1] == (self.m,)
            if n.op == "Mean" and over_batch and len(fn.axes) == len(n.input_shapes[0]):
                return f"(1/m) Σ {atom(args[0])}"
            if len(fn.axes) == len(n.input_shapes[0]):
                return f"{'Σ' if n.op == 'Sum' else 'mean'} {atom(args[0])}"
            return f"{n.op.lower()}({args[0]}, axis={fn.axes[0] if len(fn.axes) == 1 else fn.axes})"
        if n.op == "GetItem" and self.block_slice(n) is not None:
            return self.block_slice(n)
        fn_type = type(self.g.tensors[n.id].op)
        rule = rule_of(fn_type)
        if len(args) == 1 and rule is not None and rule.forward and (
                not fn_type.__module__.startswith("glassnet.") or hasattr(fn_type, "equation_terms")):
            symbols = {rule.grads[0][0][1:]: atom(args[0])} if rule.grads else {}
            return substitute(rule.forward, _with_terms(self.g.tensors[n.id].op, symbols))
        if len(args) == 1 or rule is None or rule.forward is None or len(rule.grads) != len(args):
            return f"{_PRETTY.get(n.op, n.op.lower())}({', '.join(args)})"
        symbols = {dx[1:]: atom(a) for (dx, _), a in zip(rule.grads, args)}
        return substitute(rule.forward, _with_terms(self.g.tensors[n.id].op, symbols))

    def expr(self, node_id: str) -> str:
        """A node's name if it has one, else its forward expression inlined."""
        if node_id in self.names:
            return self.names[node_id]
        node = self.by_id[node_id]
        if node.is_leaf:
            return node.name
        return self.op_forward(node)

    def fused_forward(self, n: Node) -> str:
        a, y = self.output_name, self.names.get(n.inputs[0], "Y")
        if n.op == "SigmoidCrossEntropy":
            return f"−[{y}·ln {a} + (1 − {y})·ln(1 − {a})]"
        if n.op == "SoftmaxCrossEntropy":
            return f"−Σ {y}·ln {a}"
        return f"−ln {a}[{y}]"

    # backward ---------------------------------------------------------------------------------------------------
    def op_backward(self, n: Node, grad_expr: str) -> list[tuple[str, str]]:
        """(input id, gradient expression) for each input of n that needs a gradient, from n's docstring rule."""
        fn = self.g.tensors[n.id].op
        refs = self.refs(n)
        if n.op == "Mean":  # dx = dz / n, broadcast back over the averaged axes
            return [(refs[0][0], grad_expr if fn.count == 1 else f"{atom(grad_expr)} / {fn.count}")]
        needed = [r[0] for r, need in zip(refs, fn.needs_input_grad) if need]
        rule = rule_of(type(fn))
        if rule is None or not rule.grads or len(rule.grads) > len(refs):
            g = _PRETTY.get(n.op, n.op.lower())
            return [(i, f"{atom(grad_expr)} * {g}'({self.expr(i)})") for i in needed]
        mapped = refs[-len(rule.grads):]
        symbols = {rule.output: atom(self.expr(n.id)), f"d{rule.output}": atom(grad_expr)}
        symbols.update({dx[1:]: atom(text) for (dx, _), (_, text) in zip(rule.grads, mapped)})
        symbols = _with_terms(fn, symbols)
        return [(i, self.simplify(substitute(body, symbols), n, i))
                for (_, body), (i, _) in zip(rule.grads, mapped) if i in needed]

    def simplify(self, expr: str, n: Node, input_id: str) -> str:
        """Write the sum that undoes broadcasting (a bias's gradient) as the course's Σ over samples: only where the
        input was broadcast to the output's shape (not a product's, a reduction's or a window op's gradient)."""
        expr = re.sub(r"\s*broadcast back.*$", "", expr)
        in_shape, out_shape = tuple(self.by_id[input_id].output_shape), tuple(n.output_shape)
        products = (*naming.KERNEL_POSITIONS, "Sum", "Mean")
        if in_shape != out_shape and n.op not in products and _broadcasts(in_shape, out_shape):
            return f"Σ {atom(expr)}"
        return expr


def _with_terms(fn, symbols: dict[str, str]) -> dict[str, str]:
    """The symbols with the op's own terms added (an LSTM step's gates, ``i`` as ``i⟨3⟩``), as the step's text
    writes them."""
    terms = getattr(fn, "equation_terms", None)
    return {**symbols, **terms(symbols)} if terms is not None else symbols


def _broadcasts(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` (what an elementwise op's input did)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def explain(model: Callable, x=None, y=None, loss: Callable | str | None = None, unit: int | None = None,
            layer: int | None = None) -> Explanation | UnitEquations:
    """The course's equations for ``model``, derived from one recorded forward and backward pass.

    Without data, a batch of 4 random samples (and zero labels) is traced so the shapes are real; with ``x`` and
    ``y`` the actual values of each step are shown too. The loss is ``loss=`` or the compiled ``model.loss``.
    With ``unit=j`` (and ``x[:1]``, ``y[:1]``), unit j's equations filled with the numbers of one training step
    (``step_debugger.unit_equations``; the step's update is undone), for ``layer`` or every layer that has unit j.
    """
    if unit is not None:
        if x is None or y is None:
            raise ValueError("explain: argument `unit` needs the sample to fill in, as `explain(model, x[:1], y[:1], "
                             f"unit={unit!r})`; received x={'None' if x is None else '...'}, "
                             f"y={'None' if y is None else '...'}")
        return unit_equations(model, x, y, unit, layer)
    show_values = x is not None
    if x is None:
        x, y = example_batch(model, 4, loss)
    has_loss = loss is not None or getattr(model, "loss", None) is not None
    graph = trace(model, x, y if has_loss else None, loss=loss)
    return _explain_graph(graph, show_values)


def _explain_graph(graph: Graph, show_values: bool) -> Explanation:
    ex = _Explainer(graph)
    ops = graph.ops
    # Number the layers as step_source does (naming.number_layers): those that hold weights count 1, 2, ...
    layer_names = list(dict.fromkeys(n.layer for n in ops if n.layer != "loss"))
    weighted = [any(graph.node(i).op == "Variable" for m in ops if m.layer == name for i in m.inputs)
                for name in layer_names]
    layer_number = dict(zip(layer_names, naming.number_layers(weighted)))
    owner = {n.id: layer_number[n.layer] for n in ops if n.layer != "loss"}
    for n in graph.nodes:  # X and Y, or X1, X2, ... for several inputs (the names step_source uses)
        if n.op in ("Input", "Labels"):
            ex.names[n.id] = n.name.upper()
    layers = sorted(set(owner.values()))
    structure = {}
    for ell in layers:
        own = [n for n in ops if owner.get(n.id) == ell]
        with_weights = [n for n in own if any(graph.node(i).op == "Variable" for i in n.inputs)]
        z = with_weights[-1] if with_weights else None
        chain = own[own.index(z) + 1:] if z is not None else own
        a = own[-1]
        for n in own:
            for i in n.inputs:
                v = graph.node(i)
                if v.op == "Variable" and i not in ex.names:
                    position = n.inputs.index(i)
                    kernel = naming.KERNEL_POSITIONS.get(n.op) == position
                    bias = n.op == "Sub" or naming.BIAS_POSITIONS.get(n.op) == position
                    recurrent = v.name.rsplit("/", 1)[-1] == "recurrent_kernel"  # U: h·U, as step_source names it
                    ex.names[i] = (f"U[{ell}]" if recurrent else f"W[{ell}]" if kernel else f"b[{ell}]" if bias
                                   else f"{naming.snake(v.name.rsplit('/', 1)[-1])}[{ell}]")  # as step_source
        labelled = {n.id for n in own if n.name}  # a recurrent step's i⟨3⟩, h⟨3⟩: step_source's names
        for n in own:
            if n.id in labelled:
                ex.names[n.id] = n.name
        if z is not None and z.id not in labelled:
            ex.names[z.id] = f"Z[{ell}]"
        # every other op of the layer gets a name too (an LSTM's unrolled steps come before its last Z), so no
        # equation inlines a chain of earlier ones
        hidden = [n for n in own if n is not z and n is not a and n.id not in labelled]
        for k, n in enumerate(hidden):
            ex.names[n.id] = f"H{k + 1}[{ell}]" if len(hidden) > 1 else f"H[{ell}]"
        if a is not z and a.id not in labelled:  # a linear layer's output is its Z
            ex.names[a.id] = f"A[{ell}]"
        structure[ell] = (own, z, chain, a)
    # Forward, layer by layer, each op in the order it ran.
    for ell in layers:
        for n in structure[ell][0]:
            ex.emit(ex.forward, ex.names[n.id], ex.op_forward(n), n.id, grad=False)
    loss_ops = [n for n in ops if n.layer == "loss"]
    if graph.loss_id is not None:
        last = structure[layers[-1]][3] if layers else None
        ex.output_name = ex.names.get(last.id, "A") if last is not None else "A"
        # The per-sample loss L: the last loss op that still has the batch dimension. The course writes the cost
        # as J = (1/m) Σ L and keeps dZ per sample; that holds when backward reached L with d(J)/d(L) = 1/m.
        per_sample = [n for n in loss_ops if n.id in ex.data and n.output_shape[:1] == (ex.m,)]
        ex.per_sample_id = per_sample[-1].id if per_sample else graph.loss_id
        reached = graph.grads.get(ex.per_sample_id)
        ex.batch_mean = reached is not None and bool(np.allclose(reached, 1 / ex.m, rtol=1e-5))
        others = iter(range(1, len(loss_ops) + 1))
        for n in loss_ops:
            ex.names[n.id] = "J" if n.id == graph.loss_id else "L" if n.id == ex.per_sample_id else f"L{next(others)}"
        for n in loss_ops:
            ex.emit(ex.forward, ex.names[n.id], ex.op_forward(n), n.id, grad=False)
        _backward(ex, graph, structure, layers, loss_ops)
    notes = [
        "Course convention (columns are samples): Z = W·X + b, with the course's W[l] = this W[l]ᵀ (shape "
        "(units, fan_in)) and X, Z, A transposed. Every equation here is the transpose of the course's:",
        "  (X·W)ᵀ = Wᵀ·Xᵀ, so Z[l] = A[l−1]·W[l] + b[l] here is Z[l] = W[l]·A[l−1] + b[l] there, "
        "dW[l] = A[l−1]ᵀ·dZ[l] / m here is dW[l] = dZ[l]·A[l−1]ᵀ / m there, and dA[l−1] = dZ[l]·W[l]ᵀ here "
        "is W[l]ᵀ·dZ[l] there.",
    ]
    if ex.batch_mean:
        notes.append("dZ and dA are per sample as in the course; glassnet's tensors hold them divided by m "
                     "(the 1/m of the mean is applied at the loss), and the values shown are multiplied back.")
    explanation = Explanation(ex.forward, ex.backward, ex.m, notes)
    if not show_values:
        for e in explanation.forward + explanation.backward:
            e.values = None
    return explanation


_SCATTER = re.compile(r"zeros with (\S+) added at the indexed places")  # a slice's backward (ops_shape.Index)


def _backward(ex: _Explainer, graph: Graph, structure: dict, layers: list[int], loss_ops: list[Node]) -> None:
    """Walk the recorded ops from the loss down, emitting the gradient of every named tensor."""
    pending: dict[str, list[str]] = {}  # node id -> gradient contributions (expressions)
    fused = next((n for n in loss_ops if n.op in _FUSED), None)
    per_param = " / m" if ex.batch_mean else ""

    def push(target: str, expr: str) -> None:
        pending.setdefault(target, []).append(expr)

    def settle(node_id: str) -> str:
        """Emit d(name) = Σ of its contributions for a named tensor; return the expression to continue with."""
        parts = pending.pop(node_id, [])
        if not parts:
            return ""
        slices = [_SCATTER.fullmatch(part) for part in parts]
        if len(parts) > 1 and all(slices):  # the gradients of several slices (an LSTM's gates) put back side by side
            rhs = f"{', '.join(m.group(1) for m in reversed(slices))} put back at their indexed places"
        else:
            rhs = " + ".join(parts)
        name = ex.names.get(node_id)
        if name is None:
            return rhs if len(parts) == 1 else f"({rhs})"
        node = graph.node(node_id)
        if node.op == "Variable":
            ex.emit(ex.backward, f"d{name}", f"{rhs}{per_param}", node_id, grad=True)
        else:
            ex.emit(ex.backward, f"d{name}", rhs, node_id, grad=True)
        return f"d{name}"

    ops_desc = [n for n in reversed(graph.ops)]
    if fused is not None:
        push(fused.inputs[-1], f"{ex.output_name} − Y")
        skip = {n.id for n in loss_ops}
    else:
        # Per sample, as the course does: backward starts from L with dL = 1; the reduction to J is left out.
        after = [n.id for n in loss_ops]
        skip = set(after[after.index(ex.per_sample_id) + 1:]) if ex.per_sample_id in after else set()
        push(ex.per_sample_id, "1")
    for n in ops_desc:
        if n.id in skip:
            continue
        grad = settle(n.id)
        if not grad:
            continue
        for target, expr in ex.op_backward(n, grad):
            push(target, expr)
    # Weights: W before b within a layer, layer by layer from the top, as the course lists them.
    for name_order in sorted((k for k in pending if graph.node(k).op == "Variable"),
                             key=lambda k: ex.names[k]):
        settle(name_order)
    ex.backward.sort(key=lambda e: _course_order(e.lhs))


def _course_order(lhs: str) -> tuple:
    """dZ[l], dW[l], db[l], then dA[l−1], from the last layer down (chain intermediates before their dZ)."""
    match = re.search(r"\[(\d+)\]", lhs)
    layer = int(match.group(1)) if match else 10**6
    kind = lhs[1:].split("[")[0]
    if kind == "A":
        return (-(layer + 1), 5)
    rank = {"W": 2, "b": 3, "Z": 1}.get(kind, 0)
    return (-layer, rank)

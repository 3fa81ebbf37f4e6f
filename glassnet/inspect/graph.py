"""trace: record one pass of a model (forward, and with labels the loss and backward) as an inspectable Graph.

A Graph has one node per recorded op (or per layer, collapsed) with its layer, input and output shapes, dtype,
FLOPs, output bytes and, after backward, gradient shape; edges say which node feeds which. It prints as a table,
and draws as Graphviz DOT or as SVG (Graphviz's ``dot`` when installed, else a built-in layered layout).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from xml.sax.saxutils import escape

import numpy as np

from glassnet.autodiff.graph import topological_order
from glassnet.autodiff.tensor import Tensor, Variable, as_tensor, name_scope, record
from glassnet.inspect import flops as _flops
from glassnet.layers.symbolic import flatten, map_shapes, map_structure, pack_like

LEAF_KINDS = ("Input", "Labels", "Variable", "Constant")


@dataclass
class Node:
    """One op (or one layer, when collapsed) of a traced computation."""

    id: str
    op: str  # the Function's class name ("MatMul"), a leaf kind ("Input", "Variable", ...), or a layer's ops
    layer: str  # the layer (name scope) it ran in; "loss" for the loss, "" for leaves outside any layer
    inputs: list[str]  # ids of the nodes feeding it
    input_shapes: list[tuple[int, ...]]
    output_shape: tuple[int, ...]
    dtype: str
    flops: int = 0  # forward
    backward_flops: int = 0
    bytes: int = 0  # size of the output array
    grad_shape: tuple[int, ...] | None = None  # shape of d(loss)/d(output), after backward
    name: str = ""  # a Variable's name, the role of a leaf ("x", "y"), or the label its layer gave an op's output
    # (a recurrent step's i⟨3⟩, as step_source names it)
    params: int = 0  # trainable values held (Variables; summed per layer when collapsed)

    @property
    def is_leaf(self) -> bool:
        return self.op in LEAF_KINDS


@dataclass
class Graph:
    """A traced computation: nodes in topological order and edges (source id, target id)."""

    nodes: list[Node]
    edges: list[tuple[str, str]]
    collapsed: bool = False
    # What explain and profile read: the recorded tensors and the gradients captured at trace time.
    tensors: dict[str, Tensor] = field(default_factory=dict, repr=False)
    grads: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    output_id: str | None = None
    loss_id: str | None = None

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    @property
    def ops(self) -> list[Node]:
        """The nodes that are computations (not inputs, labels, weights or constants)."""
        return [n for n in self.nodes if not n.is_leaf]

    @property
    def total_flops(self) -> int:
        return sum(n.flops for n in self.nodes)

    @property
    def total_backward_flops(self) -> int:
        return sum(n.backward_flops for n in self.nodes)

    def layers(self) -> list[str]:
        """Layer names in the order their first op ran."""
        seen: dict[str, None] = {}
        for n in self.ops:
            seen.setdefault(n.layer, None)
        return list(seen)

    # ----- collapsing ------------------------------------------------------------------------------------------
    def collapse(self) -> Graph:
        """One node per layer (its weights folded in); inputs and labels stay separate nodes."""
        if self.collapsed:
            return self
        group = {}
        for n in self.nodes:
            if n.op == "Variable" or n.op == "Constant":
                consumer = next((m for m in self.nodes if n.id in m.inputs), None)
                group[n.id] = consumer.layer if consumer is not None else n.id
            else:
                group[n.id] = n.layer if not n.is_leaf else n.id
        members: dict[str, list[Node]] = {}
        for n in self.nodes:
            members.setdefault(group[n.id], []).append(n)
        nodes, edges = [], []
        for key, ns in members.items():
            if len(ns) == 1 and ns[0].is_leaf:
                nodes.append(replace(ns[0], inputs=[]))
                continue
            ops = [n for n in ns if not n.is_leaf]
            ids = {n.id for n in ns}
            sources = [i for n in ops for i in n.inputs if i not in ids]
            outside = {i: self.node(i) for i in sources}
            last = ops[-1]
            nodes.append(Node(
                id=key, op=", ".join(dict.fromkeys(n.op for n in ops)), layer=key,
                inputs=list(dict.fromkeys(group[i] for i in sources)),
                input_shapes=[outside[i].output_shape for i in dict.fromkeys(sources)],
                output_shape=last.output_shape, dtype=last.dtype, flops=sum(n.flops for n in ops),
                backward_flops=sum(n.backward_flops for n in ops), bytes=sum(n.bytes for n in ops),
                grad_shape=last.grad_shape, name=key, params=sum(n.params for n in ns),
            ))
        for n in nodes:
            edges.extend((i, n.id) for i in n.inputs)
        return Graph(nodes, edges, True, self.tensors, self.grads, self.output_id, self.loss_id)

    # ----- text ------------------------------------------------------------------------------------------------
    def __str__(self) -> str:
        header = ("node", "op", "layer", "inputs", "output", "dtype", "FLOPs fwd", "FLOPs bwd", "bytes", "grad")
        rows = [header]
        for n in self.nodes:
            rows.append((
                n.id, n.op if not n.name or not n.is_leaf else f"{n.op} {n.name}", n.layer or "-",
                " ".join(_shape(s) for s in n.input_shapes) or "-", _shape(n.output_shape), n.dtype,
                f"{n.flops:,}", f"{n.backward_flops:,}", f"{n.bytes:,}",
                _shape(n.grad_shape) if n.grad_shape is not None else "-",
            ))
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.append(f"total: {len(self.ops)} ops, {self.total_flops:,} FLOPs forward, "
                     f"{self.total_backward_flops:,} FLOPs backward")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Graph {len(self.ops)} ops, {len(self.edges)} edges, {self.total_flops:,} FLOPs forward>"

    # ----- drawing ---------------------------------------------------------------------------------------------
    def _label(self, n: Node) -> list[str]:
        title = n.op if not n.is_leaf else (f"{n.name}" if n.name else n.op)
        if self.collapsed and not n.is_leaf:
            title = f"{n.layer}: {n.op}"
        lines = [title, _shape(n.output_shape)]
        if n.flops:
            lines.append(f"{n.flops:,} FLOPs")
        return lines

    def to_dot(self) -> str:
        """The graph in Graphviz DOT; expanded graphs put each layer's ops in a box (a cluster)."""
        out = ["digraph glassnet {", '  rankdir=TB; node [shape=box, fontname="Helvetica", fontsize=10];']
        clusters: dict[str, list[Node]] = {}
        for n in self.nodes:
            clusters.setdefault(n.layer if (n.layer and not self.collapsed and not n.is_leaf) else "", []).append(n)
        for i, (layer, ns) in enumerate(clusters.items()):
            indent = "  "
            if layer:
                out.append(f'  subgraph cluster_{i} {{ label="{_dot_escape(layer)}"; style=rounded;')
                indent = "    "
            for n in ns:
                shape = ", shape=ellipse" if n.is_leaf else ""
                out.append(f'{indent}"{n.id}" [label="{_dot_escape(chr(10).join(self._label(n)))}"{shape}];')
            if layer:
                out.append("  }")
        out.extend(f'  "{a}" -> "{b}";' for a, b in self.edges)
        out.append("}")
        return "\n".join(out)

    def to_svg(self, engine: str = "auto") -> str:
        """The graph as SVG: ``engine="graphviz"`` runs ``dot``, ``"builtin"`` lays it out here, ``"auto"`` picks
        Graphviz when it is installed."""
        if engine not in ("auto", "graphviz", "builtin"):
            raise ValueError(f"to_svg engine must be 'auto', 'graphviz' or 'builtin', received {engine!r}")
        dot = shutil.which("dot")
        if engine == "graphviz" and dot is None:
            raise RuntimeError("to_svg(engine='graphviz') needs Graphviz's `dot` on PATH; it was not found")
        if engine != "builtin" and dot is not None:
            done = subprocess.run([dot, "-Tsvg"], input=self.to_dot(), capture_output=True, text=True, check=True)
            return done.stdout
        return _layered_svg(self)

    def _repr_svg_(self) -> str:
        return self.to_svg()


def _shape(shape: tuple[int, ...] | None) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# ----- built-in layered SVG layout ---------------------------------------------------------------------------
_CHAR_W, _LINE_H, _PAD, _GAP_X, _GAP_Y = 7, 14, 8, 24, 40


def _layered_svg(graph: Graph) -> str:
    """Sugiyama-style in two steps: rank = longest path from a source, order within a rank by the mean position
    of the predecessors; edges are straight arrows from the bottom of one box to the top of the next."""
    rank: dict[str, int] = {}
    for n in graph.nodes:  # topological order, so every input already has its rank
        rank[n.id] = 1 + max((rank[i] for i in n.inputs if i in rank), default=-1)
    ranks: dict[int, list[Node]] = {}
    for n in graph.nodes:
        ranks.setdefault(rank[n.id], []).append(n)
    size = {}
    for n in graph.nodes:
        lines = graph._label(n)
        size[n.id] = (max(len(s) for s in lines) * _CHAR_W + 2 * _PAD, len(lines) * _LINE_H + 2 * _PAD)
    pos: dict[str, tuple[float, float]] = {}
    y = _GAP_Y / 2
    row_widths = []
    for r in sorted(ranks):
        row = ranks[r]
        row.sort(key=lambda n: np.mean([pos[i][0] for i in n.inputs if i in pos]) if any(
            i in pos for i in n.inputs) else 0.0)
        x = _GAP_X / 2
        height = max(size[n.id][1] for n in row)
        for n in row:
            w, _ = size[n.id]
            pos[n.id] = (x + w / 2, y)
            x += w + _GAP_X
        row_widths.append(x)
        y += height + _GAP_Y
    width, total_height = max(row_widths), y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{total_height:.0f}" '
        f'viewBox="0 0 {width:.0f} {total_height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    ]
    for a, b in graph.edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        parts.append(f'<line x1="{xa:.1f}" y1="{ya + size[a][1]:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" '
                     'stroke="#555" marker-end="url(#arrow)"/>')
    for n in graph.nodes:
        (cx, top), (w, h) = pos[n.id], size[n.id]
        fill = "#eef5ff" if n.op == "Variable" else "#f4f4f4" if n.is_leaf else "#fff8e6"
        rx = h / 2 if n.is_leaf else 4
        parts.append(f'<g><title>{escape(n.id)}</title><rect x="{cx - w / 2:.1f}" y="{top:.1f}" width="{w}" '
                     f'height="{h}" rx="{rx:.0f}" fill="{fill}" stroke="#333"/>')
        for i, line in enumerate(graph._label(n)):
            parts.append(f'<text x="{cx:.1f}" y="{top + _PAD + (i + 0.8) * _LINE_H:.1f}" '
                         f'text-anchor="middle">{escape(line)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


# ----- tracing -----------------------------------------------------------------------------------------------
def _resolve_loss(model, loss):
    """The loss to trace: the ``loss=`` argument, else the compiled model's ``model.loss``; a name goes through
    ``glassnet.losses.get``."""
    loss = loss if loss is not None else getattr(model, "loss", None)
    if isinstance(loss, (list, tuple, dict)):  # a loss per output: the compiled model's own sum of them
        return lambda y, y_pred: model.compute_loss(y=y, y_pred=y_pred)
    if isinstance(loss, str):
        from glassnet import losses

        loss = losses.get(loss)
    if loss is None:
        raise ValueError("trace(model, x, y) needs a loss to run backward: compile the model or pass loss=")
    return loss


#: The length an example batch gives an axis the model leaves open (a sequence of any length: ``Input((None,))``):
#: short, so that an unrolled recurrent layer reads in a few lines.
OPEN_AXIS_LENGTH = 3


def example_batch(model, batch_size: int, loss=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Random inputs of the model's input shape (an open axis ``OPEN_AXIS_LENGTH`` long) and zero labels of its
    output shape (integer class labels for a sparse loss), or None labels when the model has no loss; what explain
    and cost trace without data."""
    shape = getattr(model, "input_shape", None)
    if shape is None:
        first = next((v for layer in getattr(model, "layers", []) for v in getattr(layer, "weights", [])), None)
        if first is None:
            raise ValueError("inspecting a model without data needs a built model (call it once, or pass x)")
        shape = (None, first.shape[0])
    rng = np.random.default_rng(0)  # uniform in [0, 1): valid for any layer, an Embedding's indices too (row 0)
    x = map_shapes(lambda s: rng.random((batch_size, *(OPEN_AXIS_LENGTH if n is None else n for n in s[1:])))
                   .astype("float32"), shape)
    loss = loss if loss is not None else getattr(model, "loss", None)
    if loss is None:
        return x, None
    from glassnet.autodiff.tensor import no_grad

    with no_grad():
        outputs = model(x)
    per_output = (loss if isinstance(loss, (list, tuple)) else [loss[k] for k in model.output_names]
                  if isinstance(loss, dict) else [loss] * len(flatten(outputs)))

    def zero_labels(out: Tensor, out_loss) -> np.ndarray:
        name = out_loss if isinstance(out_loss, str) else getattr(out_loss, "name", type(out_loss).__name__)
        if "sparse" in str(name).lower():
            return np.zeros(out.shape[:-1], dtype="int64")
        return np.zeros(out.shape, dtype="float32")

    return x, pack_like(outputs, [zero_labels(o, l) for o, l in zip(flatten(outputs), per_output)])


def _one_of(t: Tensor, candidates: list[Tensor]) -> int | None:
    """The position of ``t`` among the given inputs (or labels), found as itself or as a view of one."""
    for i, c in enumerate(candidates):
        if t is c or (t.shape == c.shape and np.shares_memory(t._data, c._data)):
            return i
    return None


def _layer_of(scope: str, layer_names: set[str]) -> str:
    parts = scope.split("/") if scope else []
    for p in parts:
        if p in layer_names:
            return p
    return parts[-1] if parts and parts[0] != "loss" else ("loss" if parts else "")


def _variables_of(model) -> list[Variable]:
    found = []
    for layer in getattr(model, "layers", []) or []:
        for v in getattr(layer, "weights", None) or getattr(layer, "variables", None) or []:
            found.append(v)
    return found


def trace(
    model: Callable,
    x,
    y=None,
    loss: Callable | str | None = None,
    collapse: bool = False,
    training: bool = False,
) -> Graph:
    """Record ``model(x)`` (and with ``y`` the loss and its backward) and return the Graph of it.

    ``model`` is a glassnet Sequential, or any callable on a Tensor (``model.layers`` names the layers when
    present). The loss is ``loss=``, else ``model.loss`` from ``compile``. Gradients found on the model's
    weights before the trace are put back afterwards; the Graph keeps its own copy.
    """
    x_tensor = map_structure(as_tensor, x)
    y_tensor = map_structure(as_tensor, y) if y is not None else None
    layer_names = {getattr(layer, "name", "") for layer in getattr(model, "layers", []) or []}
    previous = {id(v): (v, v.grad) for v in _variables_of(model)}
    for v, _ in previous.values():
        v.grad = None
    try:
        with record():
            output = model(x_tensor, training=True) if training else model(x_tensor)
            loss_value = None
            if y_tensor is not None:
                loss_fn = _resolve_loss(model, loss)
                with name_scope("loss"):
                    loss_value = loss_fn(y_tensor, output)
        if loss_value is not None and loss_value.requires_grad:
            loss_value.backward(retain_graph=True)
        return _build(output, loss_value, flatten(x_tensor), flatten(y_tensor) if y is not None else [],
                      layer_names, collapse)
    finally:
        for v, grad in previous.values():
            v.grad = grad


def _build(output, loss_value: Tensor | None, xs: list[Tensor], ys: list[Tensor], layer_names: set[str],
           collapse: bool) -> Graph:
    """The Graph of a recorded call: ``output`` a Tensor (or a list/dict of them, for several outputs), ``xs`` and
    ``ys`` the input and label Tensors (named x, y; x1, x2, ... when there are several)."""
    outputs = flatten(output)
    order: dict[int, Tensor] = {}
    for root in (*outputs, loss_value):
        if root is not None:
            for t in topological_order(root):
                order.setdefault(id(t), t)
    ids: dict[int, str] = {}
    nodes: list[Node] = []
    tensors: dict[str, Tensor] = {}
    grads: dict[str, np.ndarray] = {}

    def leaf(t: Tensor) -> str | None:
        if id(t) in ids:
            return ids[id(t)]
        if isinstance(t, Variable):
            kind, name = "Variable", t.name
        elif _one_of(t, xs) is not None:
            kind, name = "Input", "x" if len(xs) == 1 else f"x{_one_of(t, xs) + 1}"
        elif _one_of(t, ys) is not None:
            kind, name = "Labels", "y" if len(ys) == 1 else f"y{_one_of(t, ys) + 1}"
        elif t.ndim == 0:
            return None  # a scalar constant such as the 1 in 1 − a: shown in the op, not as a node
        else:
            kind, name = "Constant", t.name or "const"  # a labelled one keeps its label (h⟨0⟩)
        node_id = f"n{len(nodes)}"
        ids[id(t)] = node_id
        tensors[node_id] = t
        params = t.size if isinstance(t, Variable) and t.trainable else 0
        nodes.append(Node(node_id, kind, "", [], [], tuple(t.shape), t.dtype.name, bytes=t._data.nbytes,
                          grad_shape=tuple(t.grad.shape) if t.grad is not None else None, name=name,
                          params=params))
        if t.grad is not None:
            grads[node_id] = np.array(t.grad)
        return node_id

    for t in order.values():
        fn = t.op
        in_ids = [leaf(i) if i.op is None else ids[id(i)] for i in fn.inputs]
        op_name = type(fn).__name__
        in_shapes = [tuple(i.shape) for i in fn.inputs]
        node_id = f"n{len(nodes)}"
        ids[id(t)] = node_id
        tensors[node_id] = t
        if t.grad is not None:
            grads[node_id] = np.array(t.grad)
        nodes.append(Node(
            node_id, op_name, _layer_of(fn.scope, layer_names), [i for i in in_ids if i is not None], in_shapes,
            tuple(t.shape), t.dtype.name,
            flops=_flops.forward_flops(op_name, in_shapes, tuple(t.shape)),
            backward_flops=_flops.backward_flops(op_name, in_shapes, tuple(t.shape), fn.needs_input_grad)
            if t.grad is not None else 0,
            bytes=t._data.nbytes, grad_shape=tuple(t.grad.shape) if t.grad is not None else None,
            name=t.name or "",
        ))
    for root in (*outputs, loss_value):  # a model that is the identity has no op: show its input as the output
        if root is not None and id(root) not in ids:
            leaf(root)
    edges = [(i, n.id) for n in nodes for i in n.inputs]
    graph = Graph(nodes, edges, False, tensors, grads, ids.get(id(outputs[0])),
                  ids.get(id(loss_value)) if loss_value is not None else None)
    return graph.collapse() if collapse else graph

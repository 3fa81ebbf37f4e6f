"""profile: measured time of each op and each layer, forward and backward, by replaying a traced step.

The step is recorded once (``trace``); then every recorded Function's ``forward`` is called again on the same
input arrays, and its ``backward`` on the same incoming gradient, each timed with ``perf_counter`` (best of a few
runs). Next to ``cost``, it answers the course's question: the graph tells the FLOPs and memory exactly; the time
depends on how each op runs (a tiny op costs its Python overhead, a large matmul its arithmetic).

An input that fit would hold as SparseRows (a large multi-hot matrix, ``data_adapters.store_inputs``) is timed both
ways: the first layer's product on the dense array and on the nonzeros, side by side with the FLOPs of each (the
dense product's 2·m·k·n against the nonzeros' 2·nnz·n). ``layer_flops`` gives ``summary(show_flops=True)`` its
column.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from glassnet.inspect.graph import Graph, example_batch, trace
from glassnet.kernels.sparse import SparseRows
from glassnet.models.data_adapters import store_inputs

SPARSE_PRODUCTS = ("Affine", "MatMul")  # the ops that read a SparseRows input (X·W, and Xᵀ·dZ in backward)


@dataclass
class OpTime:
    """One op's measured seconds and FLOPs; for an op that fit runs on a sparse input, its sparse run too."""

    node: str
    op: str
    layer: str
    forward_seconds: float
    backward_seconds: float
    flops: int
    sparse: SparseRun | None = None


@dataclass
class SparseRun:
    """The same op on the nonzeros of its input (SparseRows), as fit runs it: FLOPs counted and seconds measured."""

    nonzeros: int
    density: float
    forward_flops: int
    backward_flops: int
    forward_seconds: float
    backward_seconds: float


@dataclass
class ProfileReport:
    """Measured seconds per op (``ops``) and per layer (``layers()``), forward and backward."""

    ops: list[OpTime]
    graph: Graph

    def layers(self) -> dict[str, tuple[float, float]]:
        """{layer: (forward seconds, backward seconds)}, in the order the layers ran."""
        out: dict[str, tuple[float, float]] = {}
        for t in self.ops:
            f, b = out.get(t.layer, (0.0, 0.0))
            out[t.layer] = (f + t.forward_seconds, b + t.backward_seconds)
        return out

    @property
    def forward_seconds(self) -> float:
        return sum(t.forward_seconds for t in self.ops)

    @property
    def backward_seconds(self) -> float:
        return sum(t.backward_seconds for t in self.ops)

    def __str__(self) -> str:
        lines = [f"{'op':<28}{'layer':<14}{'forward µs':>12}{'backward µs':>13}{'GFLOP/s':>10}"]
        for t in self.ops:
            rate = f"{t.flops / t.forward_seconds / 1e9:.2f}" if t.forward_seconds > 0 and t.flops else "-"
            lines.append(f"{t.op:<28}{t.layer:<14}{t.forward_seconds * 1e6:>12.1f}{t.backward_seconds * 1e6:>13.1f}"
                         f"{rate:>10}")
        lines.append("per layer:")
        for layer, (f, b) in self.layers().items():
            lines.append(f"  {layer:<26}{'':<14}{f * 1e6:>12.1f}{b * 1e6:>13.1f}")
        lines.append(f"total: forward {self.forward_seconds * 1e3:.3f} ms, "
                     f"backward {self.backward_seconds * 1e3:.3f} ms")
        for t in self.ops:
            if t.sparse is not None:
                s = t.sparse
                lines += [f"sparse input into {t.layer} ({s.nonzeros:,} nonzeros, {s.density:.2%} dense), as fit "
                          "runs it:",
                          f"  {'':<10}{'FLOPs fwd':>16}{'forward µs':>12}{'backward µs':>13}",
                          f"  {'dense':<10}{t.flops:>16,}{t.forward_seconds * 1e6:>12.1f}"
                          f"{t.backward_seconds * 1e6:>13.1f}",
                          f"  {'nonzeros':<10}{s.forward_flops:>16,}{s.forward_seconds * 1e6:>12.1f}"
                          f"{s.backward_seconds * 1e6:>13.1f}",
                          f"  the dense count is {t.flops / max(s.forward_flops, 1):.1f}× what runs"]
        return "\n".join(lines)


def _best(fn, repeats: int) -> float:
    """The fastest of ``repeats`` timed runs after one untimed warm-up run."""
    fn()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def profile(model, x, y, loss=None, repeats: int = 5) -> ProfileReport:
    """Time every op of one training step of ``model`` on ``(x, y)``: forward and backward, best of ``repeats``;
    an op that fit runs on a sparse input is timed on its nonzeros too."""
    graph = trace(model, x, y, loss=loss)
    rows = _sparse_rows(model, x)
    times = []
    for node in graph.ops:
        fn = graph.tensors[node.id].op
        arrays = [t.data for t in fn.inputs]
        grad = graph.grads.get(node.id)
        sparse = None
        if rows is not None and node.op in SPARSE_PRODUCTS and arrays[0] is not None and _same(arrays[0], x):
            sparse = _sparse_run(fn, rows, arrays, grad, repeats)
            fn.forward(*arrays)  # the op keeps what its last forward saved: the dense run's, as traced
        forward = _best(lambda fn=fn, arrays=arrays: fn.forward(*arrays), repeats)
        backward = _best(lambda fn=fn, grad=grad: fn.backward(grad), repeats) if grad is not None else 0.0
        times.append(OpTime(node.id, node.op, node.layer, forward, backward, node.flops, sparse))
    return ProfileReport(times, graph)


def _same(a, x) -> bool:
    return isinstance(x, np.ndarray) and getattr(a, "shape", None) == x.shape and np.shares_memory(a, x) or a is x


def _sparse_rows(model, x) -> SparseRows | None:
    """``x`` as fit would hold it when that is SparseRows (large, mostly zeros, read first by a Dense); else None."""
    layers = getattr(model, "step_layers", None)
    if not isinstance(x, np.ndarray) or layers is None:
        return None
    stored = store_inputs(np.ascontiguousarray(x, dtype=x.dtype), layers())
    return stored if isinstance(stored, SparseRows) else None


def _sparse_run(fn, rows: SparseRows, arrays: list, grad, repeats: int) -> SparseRun:
    """The product X·W (+ b) on the nonzeros of X, and its backward (dW = Xᵀ·dZ, db = Σ dZ), counted and timed."""
    m, n = rows.shape[0], arrays[1].shape[-1]
    bias = m * n if len(arrays) > 2 else 0
    forward = _best(lambda: fn.forward(rows, *arrays[1:]), repeats)
    backward = _best(lambda: fn.backward(grad), repeats) if grad is not None else 0.0
    return SparseRun(rows.nnz, rows.nnz / rows.size, 2 * rows.nnz * n + bias, 2 * rows.nnz * n + bias, forward,
                     backward)


def layer_flops(model) -> dict[str, int]:
    """{layer name: forward FLOPs of one sample}, from one traced forward pass (what ``summary(show_flops=True)``
    prints; the counts are the cost model's, ``inspect.flops``)."""
    graph = trace(model, example_batch(model, 1)[0])
    counts: dict[str, int] = {}
    for node in graph.ops:
        counts[node.layer] = counts.get(node.layer, 0) + node.flops
    return counts

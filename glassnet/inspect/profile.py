"""profile: measured time of each op and each layer, forward and backward, by replaying a traced step.

The step is recorded once (``trace``); then every recorded Function's ``forward`` is called again on the same
input arrays, and its ``backward`` on the same incoming gradient, each timed with ``perf_counter`` (best of a few
runs). Next to ``cost``, it answers the course's question: the graph tells the FLOPs and memory exactly; the time
depends on how each op runs (a tiny op costs its Python overhead, a large matmul its arithmetic).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from glassnet.inspect.graph import Graph, trace


@dataclass
class OpTime:
    node: str
    op: str
    layer: str
    forward_seconds: float
    backward_seconds: float
    flops: int


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
    """Time every op of one training step of ``model`` on ``(x, y)``: forward and backward, best of ``repeats``."""
    graph = trace(model, x, y, loss=loss)
    times = []
    for node in graph.ops:
        fn = graph.tensors[node.id].op
        arrays = [t.data for t in fn.inputs]
        forward = _best(lambda fn=fn, arrays=arrays: fn.forward(*arrays), repeats)
        grad = graph.grads.get(node.id)
        backward = _best(lambda fn=fn, grad=grad: fn.backward(grad), repeats) if grad is not None else 0.0
        times.append(OpTime(node.id, node.op, node.layer, forward, backward, node.flops))
    return ProfileReport(times, graph)

"""cost: what a model needs per training step, predicted from its traced graph and this machine's measured speed.

Parameters, forward and backward FLOPs and memory follow from the graph alone. Time does not: it depends on how
the ops run. The estimate here times NumPy on this machine once per shape (a matrix product of each layer's
shape, a convolution's im2col product, an elementwise op of each size, the engine's per-op overhead), caches the
rates in the process, and adds up FLOPs / rate over the graph's ops (a convolution also one pass over its windows)
and the optimizer's update. The graph is traced in training mode: batch statistics, dropout.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from glassnet.inspect import flops
from glassnet.inspect.graph import Graph, example_batch, trace

_REPEATS = 5


def _best_time(fn, repeats: int = _REPEATS, min_total: float = 0.05) -> float:
    """The fastest run, after a warm-up, of at least ``repeats`` runs lasting ``min_total`` seconds together: the
    least disturbed by other work on the machine (the first BLAS calls of a process are often much slower)."""
    fn()
    best, total, runs = math.inf, 0.0, 0
    while runs < repeats or total < min_total:
        start = time.perf_counter()
        fn()
        took = time.perf_counter() - start
        best, total, runs = min(best, took), total + took, runs + 1
    return best


@cache
def matmul_seconds(m: int, k: int, n: int, dtype: str = "float32") -> float:
    """Measured seconds of one (m, k)·(k, n) product on this machine (cached per shape)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    return _best_time(lambda: a @ b)


@cache
def elementwise_seconds(size: int, dtype: str = "float32") -> float:
    """Measured seconds of one elementwise product of ``size`` values, allocating its result as the engine does."""
    a = np.ones(size, dtype=dtype)
    b = np.ones(size, dtype=dtype)
    return _best_time(lambda: a * b, repeats=20)


@cache
def op_overhead_seconds() -> float:
    """Measured Python cost of one recorded engine op on a tiny tensor (make the Function, the output Tensor)."""
    from glassnet.autodiff import Variable
    from glassnet.ops import multiply

    v = Variable(np.ones(1, dtype="float32"))

    def ops():
        for _ in range(100):
            multiply(v, v)

    return _best_time(ops) / 100


def _update_flops_per_value(optimizer) -> int:
    """The optimizer's update, per parameter: w ← w − lr·g is 2; each state slot (a running average) adds 3."""
    slots = len(optimizer.slot_names()) if optimizer is not None else 0
    return 2 + 3 * slots


@dataclass
class LayerCost:
    """One layer's share of a training step."""

    name: str
    params: int
    forward_flops: int
    backward_flops: int
    activation_bytes: int  # outputs of its ops, kept for backward
    param_bytes: int
    optimizer_bytes: int
    seconds: float  # estimated, forward + backward


@dataclass
class CostReport:
    """Per layer and total: parameters, FLOPs, memory, and the estimated time per step and per epoch."""

    layers: list[LayerCost]
    batch_size: int
    optimizer_name: str
    update_seconds: float
    samples: int | None = None
    graph: Graph | None = field(default=None, repr=False)

    @property
    def params(self) -> int:
        return sum(c.params for c in self.layers)

    @property
    def forward_flops(self) -> int:
        return sum(c.forward_flops for c in self.layers)

    @property
    def backward_flops(self) -> int:
        return sum(c.backward_flops for c in self.layers)

    @property
    def activation_bytes(self) -> int:
        return sum(c.activation_bytes for c in self.layers)

    @property
    def param_bytes(self) -> int:
        return sum(c.param_bytes for c in self.layers)

    @property
    def optimizer_bytes(self) -> int:
        return sum(c.optimizer_bytes for c in self.layers)

    @property
    def seconds_per_step(self) -> float:
        return sum(c.seconds for c in self.layers) + self.update_seconds

    @property
    def steps_per_epoch(self) -> int | None:
        return None if self.samples is None else math.ceil(self.samples / self.batch_size)

    @property
    def seconds_per_epoch(self) -> float | None:
        steps = self.steps_per_epoch
        return None if steps is None else steps * self.seconds_per_step

    def __str__(self) -> str:
        rows = [("layer", "params", "FLOPs fwd", "FLOPs bwd", "activations", "params mem", "optimizer mem",
                 "time (est.)")]
        for c in self.layers:
            rows.append((c.name, f"{c.params:,}", f"{c.forward_flops:,}", f"{c.backward_flops:,}",
                         _bytes(c.activation_bytes), _bytes(c.param_bytes), _bytes(c.optimizer_bytes),
                         f"{c.seconds * 1e3:.3f} ms"))
        rows.append(("total", f"{self.params:,}", f"{self.forward_flops:,}", f"{self.backward_flops:,}",
                     _bytes(self.activation_bytes), _bytes(self.param_bytes), _bytes(self.optimizer_bytes),
                     f"{self.seconds_per_step * 1e3:.3f} ms"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths)))
                 for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.insert(-1, "-" * len(lines[0]))
        lines.append(f"batch size {self.batch_size}, optimizer {self.optimizer_name} "
                     f"(update {self.update_seconds * 1e3:.3f} ms per step)")
        if self.samples is not None:
            lines.append(f"{self.samples:,} samples: {self.steps_per_epoch} steps, estimated "
                         f"{self.seconds_per_epoch:.2f} s per epoch on this machine")
        return "\n".join(lines)


def _bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def gemm_shape(node) -> tuple[int, int, int] | None:
    """(m, k, n) of the matrix product an op runs, for the ops that are one (or one per channel): X·W; a convolution
    as im2col(X)·W, (output pixels, kh·kw·cin)·(kh·kw·cin, cout); a depthwise one per channel, (output pixels,
    kh·kw)·(kh·kw, M); a transposed one as X·Wᵀ, (input pixels, cin)·(cin, kh·kw·filters). None for other ops."""
    shapes = node.input_shapes
    if node.op in ("MatMul", "Affine") and len(shapes[0]) >= 2 and len(shapes[1]) == 2:
        return math.prod(shapes[0][:-1]), shapes[1][0], shapes[1][1]
    if node.op == "AddMatMul" and len(shapes[1]) >= 2 and len(shapes[2]) == 2:  # c + X·W
        return math.prod(shapes[1][:-1]), shapes[2][0], shapes[2][1]
    if node.op in flops.CONVOLUTIONS:
        return math.prod(node.output_shape[:-1]), math.prod(shapes[1][:-1]), shapes[1][-1]
    if node.op in flops.DEPTHWISE:
        return math.prod(node.output_shape[:-1]), math.prod(shapes[1][:-2]), shapes[1][-1]
    if node.op in flops.TRANSPOSED:
        return math.prod(shapes[0][:-1]), shapes[1][-1], math.prod(shapes[1][:-1])
    return None


def window_values(node) -> int:
    """How many values a convolution's im2col gathers (or col2im adds back): its windows, one row per output pixel
    (per input pixel for a transposed convolution, whose scatter runs forward); 0 for other ops."""
    gemm = gemm_shape(node)
    if gemm is None or node.op in ("MatMul", "Affine", "AddMatMul"):
        return 0
    m, k, n = gemm
    if node.op in flops.TRANSPOSED:
        return m * n
    return m * k * (node.input_shapes[1][-2] if node.op in flops.DEPTHWISE else 1)


def _op_seconds(graph: Graph, node, backward: bool) -> float:
    """One op's estimated seconds: the measured rate of its matrix product (its FLOPs over the product's 2·m·k·n,
    so a backward of two products counts two, and a depthwise convolution one product per channel) plus, for a
    convolution, one pass over its windows (the gather forward, the scatter or the re-read backward); else an
    elementwise op of its size; plus the engine's overhead per op."""
    flops_done = node.backward_flops if backward else node.flops
    if backward and node.grad_shape is None:
        return 0.0
    overhead = op_overhead_seconds()
    gemm = gemm_shape(node)
    if gemm is not None:
        m, k, n = gemm
        windows = window_values(node)
        gather = elementwise_seconds(windows, node.dtype) if windows and flops_done else 0.0
        return overhead + gather + matmul_seconds(m, k, n, node.dtype) * flops_done / max(2 * m * k * n, 1)
    size = max(math.prod(node.output_shape), math.prod(node.input_shapes[-1]) if node.input_shapes else 1)
    return overhead + elementwise_seconds(size, node.dtype) * flops_done / max(size, 1)


def cost(model, batch_size: int, optimizer=None, samples: int | None = None, loss=None) -> CostReport:
    """Per layer and total: parameters, forward and backward FLOPs, activation memory, parameter and optimizer-state
    memory, and the estimated time of a training step (and of an epoch of ``samples``) on this machine.

    ``optimizer`` defaults to the compiled ``model.optimizer`` (a name is looked up with
    ``glassnet.optimizers.get``); its state is one array per slot and parameter (RMSprop 1, Adam 2).
    """
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"cost expects a positive integer batch_size, received {batch_size!r}")
    optimizer = optimizer if optimizer is not None else getattr(model, "optimizer", None)
    if isinstance(optimizer, (str, dict)):
        from glassnet import optimizers

        optimizer = optimizers.get(optimizer)
    x, y = example_batch(model, batch_size, loss)
    graph = trace(model, x, y, loss=loss, training=True)  # a training step: batch statistics, dropout
    slots = len(optimizer.slot_names()) if optimizer is not None else 0
    per_value = _update_flops_per_value(optimizer)
    layers: list[LayerCost] = []
    update = 0.0
    for name in graph.layers():
        ops = [n for n in graph.ops if n.layer == name]
        variables = {i: graph.node(i) for n in ops for i in n.inputs if graph.node(i).op == "Variable"}
        params = sum(v.params for v in variables.values())
        param_bytes = sum(v.bytes for v in variables.values() if v.params)
        seconds = sum(_op_seconds(graph, n, backward=False) + _op_seconds(graph, n, backward=True) for n in ops)
        layers.append(LayerCost(
            name, params, sum(n.flops for n in ops), sum(n.backward_flops for n in ops),
            sum(n.bytes for n in ops), param_bytes, slots * param_bytes, seconds,
        ))
        for v in variables.values():
            if v.params:
                update += op_overhead_seconds() * (1 + slots) + \
                    elementwise_seconds(v.params, v.dtype) * per_value
    return CostReport(layers, batch_size, type(optimizer).__name__ if optimizer is not None else "none", update,
                      samples, graph)

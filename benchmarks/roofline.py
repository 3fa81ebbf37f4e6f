"""The matmul roofline: how fast this machine multiplies each workload's exact matrices, and the lower bound on
an epoch that follows (FLOPs of the epoch's matmuls ÷ the measured throughput of their shapes).

Per Dense layer with batch m, fan-in k and n units, one training step multiplies X·W (m×k by k×n), Xᵀ·dZ
(k×m by m×n) for dW, and, except for the first layer, dZ·Wᵀ (m×n by n×k) for dX: 2·m·k·n FLOPs each. The
transposed operands are views, as in the backward pass, so BLAS sees the same layouts.

CONV's convolutions count as their im2col GEMMs: a 3×3 convolution from c_in to c_out channels with P output
positions per image multiplies the gathered windows (m·P × 9·c_in) by the kernel (9·c_in × c_out), their transpose
by dZ for dW, and (but the first) dZ by the kernel's transpose for the windows' gradient; the gathers, pooling and
activations come on top. LSTM has no bound here (its per-step products are too small for the bound to mean much).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from benchmarks.measure import CpuWindow
from benchmarks.workloads import Workload, conv_layers


@dataclass(frozen=True)
class MatmulShape:
    """One matmul of a training step: (m×k)·(k×n), where the left or right operand is a transposed view."""

    label: str
    m: int
    k: int
    n: int
    left_transposed: bool = False
    right_transposed: bool = False

    @property
    def flops(self) -> int:
        return 2 * self.m * self.k * self.n


def step_matmuls(workload: Workload, batch: int) -> list[MatmulShape]:
    """The matmuls of one forward + backward step on a batch of ``batch`` samples."""
    shapes = []
    widths = zip(workload.units[:-1], workload.units[1:])
    if workload.network == "convnet":
        for l, ((_, c_in), (side, c_out), kernel) in enumerate(conv_layers(), start=1):
            rows, k = batch * side * side, kernel * kernel * c_in
            shapes.append(MatmulShape(f"Z{l} = cols(A{l - 1})·W{l}", rows, k, c_out))
            shapes.append(MatmulShape(f"dW{l} = cols(A{l - 1})ᵀ·dZ{l}", k, rows, c_out, left_transposed=True))
            if l > 1:
                shapes.append(MatmulShape(f"dcols(A{l - 1}) = dZ{l}·W{l}ᵀ", rows, c_out, k, right_transposed=True))
        _, (side, channels), _ = conv_layers()[-1]
        widths, first = [(side * side * channels, 10)], len(conv_layers()) + 1
    else:
        first = 1
    for l, (k, n) in enumerate(widths, start=first):
        shapes.append(MatmulShape(f"Z{l} = A{l - 1}·W{l}", batch, k, n))
        shapes.append(MatmulShape(f"dW{l} = A{l - 1}ᵀ·dZ{l}", k, batch, n, left_transposed=True))
        if l > 1:
            shapes.append(MatmulShape(f"dA{l - 1} = dZ{l}·W{l}ᵀ", batch, n, k, right_transposed=True))
    return shapes


def seconds_per_matmul(shape: MatmulShape, min_seconds: float = 0.05, repeats: int = 5) -> float:
    """The best time of one float32 matmul of this shape and layout (best of ``repeats`` timed loops)."""
    rng = np.random.default_rng(0)
    a_shape = (shape.k, shape.m) if shape.left_transposed else (shape.m, shape.k)
    b_shape = (shape.n, shape.k) if shape.right_transposed else (shape.k, shape.n)
    a = rng.standard_normal(a_shape, dtype=np.float32)
    b = rng.standard_normal(b_shape, dtype=np.float32)
    a, b = (a.T if shape.left_transposed else a), (b.T if shape.right_transposed else b)
    out = np.empty((shape.m, shape.n), dtype=np.float32)
    np.matmul(a, b, out=out)
    calls = 1
    while True:  # grow the loop until it lasts min_seconds
        start = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=out)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            break
        calls = max(2 * calls, int(calls * min_seconds / max(elapsed, 1e-9)))
    best = elapsed / calls
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(calls):
            np.matmul(a, b, out=out)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def lower_bound(workload: Workload, samples: int, min_seconds: float = 0.05, repeats: int = 5,
                max_share: float = 0.10, attempts: int = 3) -> dict:
    """Measure every full-batch matmul shape of ``workload``; the epoch's matmul FLOPs and its lower bound.

    A shape measured while other processes took more than ``max_share`` of a core is measured again (up to
    ``attempts`` times; the best time is kept and ``disturbed`` says whether every attempt was disturbed).
    A final partial batch is charged at the full batch's throughput (its own is lower, so the bound stays a bound).
    """
    if workload.network == "lstm":
        return {"error": "no bound for the LSTM workload"}
    shapes = step_matmuls(workload, workload.batch_size)
    measured = []
    for shape in shapes:
        best, disturbed = float("inf"), True
        for _ in range(attempts):
            with CpuWindow() as window:
                best = min(best, seconds_per_matmul(shape, min_seconds, repeats))
            if not window.disturbed(max_share):
                disturbed = False
                break
        measured.append({"label": shape.label, "m": shape.m, "k": shape.k, "n": shape.n, "seconds": best,
                         "gflops_per_s": shape.flops / best / 1e9, "disturbed": disturbed})
    epoch_flops = 0
    epoch_seconds = 0.0
    for m in workload.batch_sizes(samples):
        for shape, result in zip(step_matmuls(workload, m), measured):
            epoch_flops += shape.flops
            epoch_seconds += shape.flops / (result["gflops_per_s"] * 1e9)
    return {"shapes": measured, "disturbed": any(s["disturbed"] for s in measured),
            "epoch_gflop": epoch_flops / 1e9, "lower_bound_s": epoch_seconds,
            "gflops_per_s": epoch_flops / epoch_seconds / 1e9}

"""Gradient checking: compare backpropagated gradients with central differences (f(x+ε) − f(x−ε)) / 2ε.

Run it in float64: in float32 the differences are dominated by rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from glassnet.autodiff.tensor import Tensor, Variable, no_grad


class GradcheckError(AssertionError):
    """Raised by gradcheck when an analytic gradient disagrees with the numerical one."""


@dataclass
class Mismatch:
    """The worst disagreement found for one input."""

    input_index: int
    element: tuple[int, ...]
    analytic: float
    numeric: float

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)


@dataclass
class GradcheckResult:
    """Per-input worst mismatch, and whether all were within tolerance."""

    ok: bool
    worst: list[Mismatch] = field(default_factory=list)
    atol: float = 0.0
    rtol: float = 0.0

    def report(self) -> str:
        lines = [f"gradcheck {'passed' if self.ok else 'FAILED'} (atol={self.atol:g}, rtol={self.rtol:g})"]
        for w in self.worst:
            lines.append(
                f"  input {w.input_index}: worst element {w.element}: analytic {w.analytic:.10g}, "
                f"numeric {w.numeric:.10g}, |difference| {w.abs_error:.3g}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


def _scalar(f: Callable, inputs: list[Tensor], projection: np.ndarray | None) -> float:
    out = f(*inputs)
    value = out._data if isinstance(out, Tensor) else np.asarray(out)
    return float(np.sum(value * projection) if projection is not None else np.sum(value))


def gradcheck(
    f: Callable[..., Tensor],
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    raise_exception: bool = True,
    seed: int = 0,
) -> GradcheckResult:
    """Check the gradients of ``f(*inputs)`` with respect to every input by central differences.

    A non-scalar output is reduced to a scalar by a fixed random projection Σ out·r, so every output element
    is checked. Inputs are copied to float64 Variables. Returns a GradcheckResult whose ``report()`` names the
    worst element of each input; raises GradcheckError with that report when ``raise_exception`` and it fails.
    """
    values = [np.array(x._data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    variables = [Variable(v, name=f"input_{i}", dtype=np.float64) for i, v in enumerate(values)]
    out = f(*variables)
    projection = None
    if out.size != 1:
        projection = np.random.default_rng(seed).standard_normal(out.shape)
        loss = (out * projection).sum()
    else:
        loss = out.sum()
    loss.backward()
    worst: list[Mismatch] = []
    ok = True
    for i, v in enumerate(values):
        analytic = variables[i].grad if variables[i].grad is not None else np.zeros_like(v)
        numeric = np.zeros_like(v)
        with no_grad():
            for idx in np.ndindex(v.shape):
                original = v[idx]
                v[idx] = original + eps
                plus = _scalar(f, [Tensor(x, dtype=np.float64) for x in values], projection)
                v[idx] = original - eps
                minus = _scalar(f, [Tensor(x, dtype=np.float64) for x in values], projection)
                v[idx] = original
                numeric[idx] = (plus - minus) / (2 * eps)
        err = np.abs(analytic - numeric)
        bad = err > atol + rtol * np.abs(numeric)
        ok = ok and not bad.any()
        at = np.unravel_index(np.argmax(err - rtol * np.abs(numeric)), v.shape) if v.size else ()
        if v.size:
            worst.append(Mismatch(i, tuple(int(a) for a in at), float(analytic[at]), float(numeric[at])))
    result = GradcheckResult(ok, worst, atol, rtol)
    if raise_exception and not ok:
        raise GradcheckError(result.report())
    return result

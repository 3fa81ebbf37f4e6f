"""Special functions the activations need and NumPy lacks: the error function erf (for the exact GELU).

erf is evaluated in float64 by the everywhere-convergent series of positive terms
erf(x) = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·5···(2n+1)), which has no cancellation, so it is accurate to a few
ulps; beyond |x| = 6, erf(x) = ±1 to double precision (erfc(6) ≈ 2e−17), so the input is clipped there.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.autodiff.function import Function

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SATURATION = 6.0


def erf_array(x: np.ndarray) -> np.ndarray:
    """erf(x) elementwise, computed in float64 and returned in x's float dtype."""
    x = np.asarray(x)
    z = np.clip(x.astype(np.float64), -_SATURATION, _SATURATION)
    z2 = z * z
    term = z.copy()
    total = z.copy()
    n = 0
    while True:  # term_n = term_(n−1) · 2z² / (2n + 1); at most ~100 rounds for |z| = 6
        n += 1
        term *= 2 * z2 / (2 * n + 1)
        total += term
        if not np.any(np.abs(term) > 1e-17 * np.abs(total)):
            break
    out = np.clip(_TWO_OVER_SQRT_PI * np.exp(-z2) * total, -1.0, 1.0)  # the series' rounding can step past ±1
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


class Erf(Function):
    """y = erf(x) = 2/√π ∫₀ˣ e^(−t²) dt.  Backward: dx = dy · 2/√π · e^(−x²)."""

    def forward(self, x):
        self.save_for_backward(x)
        return erf_array(x)

    def backward(self, dy):
        (x,) = self.saved
        return dy * (_TWO_OVER_SQRT_PI * np.exp(-(x * x)))


def erf(x):
    """erf(x) on Tensors, differentiable (like ``keras.ops.erf``)."""
    return Erf.apply(x)

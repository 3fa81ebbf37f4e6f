"""The two-dimensional datasets of playground.tensorflow.org (its ``dataset.ts``), with a seed.

Classification: ``circle``, ``xor``, ``gauss``, ``spiral``; labels 0/1 (``signed=True`` gives the playground's
-1/+1). Regression: ``plane``, ``multi_gaussian``. Points lie in about [-6, 6]²; ``noise`` is the playground's
slider (0 to 0.5). As in the playground, noise moves the point used to compute the label, not the point drawn
(except for ``spiral`` and ``gauss``, where it moves or spreads the points themselves). Each function returns
``(x, y)``: x float32 ``(n_samples, 2)``, y float32 ``(n_samples,)``, shuffled like the playground shuffles.
"""

from __future__ import annotations

import numpy as np

from glassnet.backend import make_rng

CLASSIFICATION = ("circle", "xor", "gauss", "spiral")
REGRESSION = ("plane", "multi_gaussian")
NAMES = CLASSIFICATION + REGRESSION

_RADIUS = 5.0  # circle, xor and spiral
_RANGE = 6.0  # regression sets: x, y uniform in [-6, 6]
# multi_gaussian: (centre x, centre y, sign of the bump)
_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])


def circle(n_samples: int = 500, noise: float = 0.0, seed=None, signed: bool = False):
    """Half the points in a disc of radius 2.5 (label 1), half in the ring 3.5 ≤ r ≤ 5 (label 0); the label is
    whether the noisy point lies within radius 2.5."""
    rng, n_in, n_out = _start(n_samples, noise, seed)
    r = np.concatenate([rng.uniform(0, _RADIUS * 0.5, n_in), rng.uniform(_RADIUS * 0.7, _RADIUS, n_out)])
    angle = rng.uniform(0, 2 * np.pi, n_samples)
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    noisy = x + rng.uniform(-_RADIUS, _RADIUS, x.shape) * noise
    positive = np.hypot(noisy[:, 0], noisy[:, 1]) < _RADIUS * 0.5
    return _finish(rng, x, positive, signed)


def xor(n_samples: int = 500, noise: float = 0.0, seed=None, signed: bool = False):
    """Points uniform in [-5, 5]², pushed 0.3 away from the axes; label 1 where the noisy x·y ≥ 0."""
    rng, _, _ = _start(n_samples, noise, seed)
    x = rng.uniform(-_RADIUS, _RADIUS, (n_samples, 2))
    x += np.where(x > 0, 0.3, -0.3)
    noisy = x + rng.uniform(-_RADIUS, _RADIUS, x.shape) * noise
    return _finish(rng, x, noisy[:, 0] * noisy[:, 1] >= 0, signed)


def gauss(n_samples: int = 500, noise: float = 0.0, seed=None, signed: bool = False):
    """Two Gaussian blobs at (2, 2) (label 1) and (-2, -2) (label 0); the variance grows linearly with the noise,
    from 0.5 at noise 0 to 4 at noise 0.5."""
    rng, n_pos, n_neg = _start(n_samples, noise, seed)
    variance = 0.5 + noise * (4 - 0.5) / 0.5
    centres = np.concatenate([np.full((n_pos, 2), 2.0), np.full((n_neg, 2), -2.0)])
    x = centres + rng.normal(0.0, np.sqrt(variance), (n_samples, 2))
    return _finish(rng, x, np.arange(n_samples) < n_pos, signed)


def spiral(n_samples: int = 500, noise: float = 0.0, seed=None, signed: bool = False):
    """Two interleaved spirals, r = 5·i/n and t = 1.75·2π·i/n (+π for the second, label 0), points moved by
    uniform noise in [-noise, noise]."""
    rng, n_pos, n_neg = _start(n_samples, noise, seed)
    i = np.concatenate([np.arange(n_pos) / n_pos, np.arange(n_neg) / max(n_neg, 1)])
    delta = np.concatenate([np.zeros(n_pos), np.full(n_neg, np.pi)])
    r, t = i * _RADIUS, 1.75 * i * 2 * np.pi + delta
    x = np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + rng.uniform(-1, 1, (n_samples, 2)) * noise
    return _finish(rng, x, np.arange(n_samples) < n_pos, signed)


def plane(n_samples: int = 500, noise: float = 0.0, seed=None):
    """Points uniform in [-6, 6]²; target (x₁ + x₂)/10 at the noisy point (the playground's linear scale from
    [-10, 10] to [-1, 1], unclamped, so targets reach ±1.2 without noise)."""
    rng, _, _ = _start(n_samples, noise, seed)
    x = rng.uniform(-_RANGE, _RANGE, (n_samples, 2))
    noisy = x + rng.uniform(-_RANGE, _RANGE, x.shape) * noise
    return _finish(rng, x, noisy.sum(axis=1) / 10.0, None)


def multi_gaussian(n_samples: int = 500, noise: float = 0.0, seed=None):
    """Points uniform in [-6, 6]²; six bumps of height ±1 at (±4 or 0, ±2.5), each max(0, 1 − d/2) at distance d;
    the target is the bump largest in absolute value at the noisy point, so it lies in [-1, 1]."""
    rng, _, _ = _start(n_samples, noise, seed)
    x = rng.uniform(-_RANGE, _RANGE, (n_samples, 2))
    noisy = x + rng.uniform(-_RANGE, _RANGE, x.shape) * noise
    distance = np.hypot(noisy[:, None, 0] - _BUMPS[:, 0], noisy[:, None, 1] - _BUMPS[:, 1])
    bumps = _BUMPS[:, 2] * np.clip(1 - distance / 2, 0, 1)
    strongest = np.argmax(np.abs(bumps), axis=1)
    return _finish(rng, x, bumps[np.arange(n_samples), strongest], None)


_GENERATORS = {"circle": circle, "xor": xor, "gauss": gauss, "spiral": spiral,
               "plane": plane, "multi_gaussian": multi_gaussian}


def load(name: str, n_samples: int = 500, noise: float = 0.0, seed=None, signed: bool = False):
    """The playground dataset ``name`` (one of ``NAMES``) as ``(x, y)``; ``signed`` applies to classification."""
    if name not in _GENERATORS:
        raise ValueError(f"Unknown toy2d dataset {name!r}; expected one of {NAMES}")
    if name in REGRESSION:
        if signed:
            raise ValueError(f"signed=True applies to classification sets only; {name!r} is a regression set")
        return _GENERATORS[name](n_samples, noise, seed)
    return _GENERATORS[name](n_samples, noise, seed, signed=signed)


def _start(n_samples, noise, seed):
    """Validate the arguments; return the generator and the two class sizes (the first gets the odd sample)."""
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, received {n_samples!r}")
    if not 0 <= noise <= 0.5:
        raise ValueError(f"noise must be in [0, 0.5] (the playground's 0-50%), received {noise!r}")
    n_first = n_samples - n_samples // 2
    return make_rng(seed), n_first, n_samples // 2


def _finish(rng, x, y, signed):
    """Shuffle as the playground does; labels become 0/1 (or -1/+1 when ``signed``), targets stay as they are."""
    if signed is not None:
        y = np.where(y, 1.0, -1.0 if signed else 0.0)
    order = rng.permutation(len(x))
    return x[order].astype(np.float32), np.asarray(y)[order].astype(np.float32)

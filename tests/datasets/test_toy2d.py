"""The playground datasets checked against the rules of playground.tensorflow.org's dataset.ts, recomputed here."""

import math

import numpy as np
import pytest

from glassnet.datasets import toy2d


@pytest.mark.parametrize("name", toy2d.NAMES)
def test_shapes_dtypes_and_seeds(name):
    x, y = toy2d.load(name, n_samples=201, noise=0.2, seed=7)
    assert x.shape == (201, 2) and y.shape == (201,)
    assert x.dtype == np.float32 and y.dtype == np.float32
    x2, y2 = toy2d.load(name, n_samples=201, noise=0.2, seed=7)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, toy2d.load(name, n_samples=201, noise=0.2, seed=8)[0])


@pytest.mark.parametrize("name", toy2d.CLASSIFICATION)
def test_classification_labels_are_balanced_0_1_or_signed(name):
    _, y = toy2d.load(name, n_samples=301, seed=0)
    assert set(np.unique(y)) <= {0.0, 1.0}
    if name in ("gauss", "spiral"):  # classes are generated half and half
        assert (y == 1).sum() == 151
    _, signed = toy2d.load(name, n_samples=301, seed=0, signed=True)
    np.testing.assert_array_equal(signed, 2 * y - 1)


def test_circle_without_noise():
    x, y = toy2d.circle(2000, seed=1)
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_array_equal(y, (r < 2.5).astype(np.float32))
    assert r[y == 1].max() <= 2.5 and 3.5 <= r[y == 0].min() and r.max() <= 5
    assert (y == 1).sum() == 1000


def test_circle_noise_moves_the_labelling_point_only():
    x, y = toy2d.circle(4000, noise=0.5, seed=2)
    r = np.hypot(x[:, 0], x[:, 1])
    assert r.max() <= 5  # drawn points stay in place
    disagreement = np.mean(y != (r < 2.5))
    # dataset.ts's rule simulated here: a point of the disc (r ~ U(0, 2.5)) or of the ring (r ~ U(3.5, 5)), the
    # label read at the point moved by U(−5, 5)·noise on each axis; 400,000 draws per class give the rate to ±0.001
    rng = np.random.default_rng(0)
    n = 400_000
    radius = np.concatenate([rng.uniform(0, 2.5, n), rng.uniform(3.5, 5, n)])
    angle = rng.uniform(0, 2 * np.pi, 2 * n)
    moved = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1) + rng.uniform(-5, 5, (2 * n, 2)) * 0.5
    expected = np.mean((np.hypot(moved[:, 0], moved[:, 1]) < 2.5) != (radius < 2.5))
    assert abs(disagreement - expected) < 4 * np.sqrt(expected * (1 - expected) / 4000)  # 4σ of 4000 samples


def test_xor_without_noise():
    x, y = toy2d.xor(2000, seed=3)
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] >= 0).astype(np.float32))
    assert np.abs(x).min() >= 0.3 and np.abs(x).max() <= 5.3


@pytest.mark.parametrize("noise, variance", [(0.0, 0.5), (0.25, 2.25), (0.5, 4.0)])
def test_gauss_centres_and_variance_scale(noise, variance):
    x, y = toy2d.gauss(40000, noise=noise, seed=4)
    positive, negative = x[y == 1], x[y == 0]
    np.testing.assert_allclose(positive.mean(axis=0), [2, 2], atol=0.05)
    np.testing.assert_allclose(negative.mean(axis=0), [-2, -2], atol=0.05)
    np.testing.assert_allclose(positive.var(axis=0), variance, rtol=0.05)


def test_spiral_without_noise_follows_r_and_t():
    n_samples = 400
    x, y = toy2d.spiral(n_samples, seed=5)
    n = n_samples // 2
    for label, delta in [(1, 0.0), (0, math.pi)]:
        points = x[y == label].astype(np.float64)
        r = np.hypot(points[:, 0], points[:, 1])
        order = np.argsort(r)
        np.testing.assert_allclose(r[order], 5 * np.arange(n) / n, atol=1e-5)
        t = 1.75 * 2 * math.pi * np.arange(n) / n + delta
        expected = np.stack([5 * np.arange(n) / n * np.sin(t), 5 * np.arange(n) / n * np.cos(t)], axis=1)
        np.testing.assert_allclose(points[order], expected, atol=1e-5)


def test_plane_target_is_x_plus_y_over_ten():
    x, y = toy2d.plane(1000, seed=6)
    assert np.abs(x).max() <= 6
    np.testing.assert_allclose(y, (x[:, 0].astype(np.float64) + x[:, 1]) / 10, atol=1e-6)


def test_multi_gaussian_target_is_the_strongest_bump():
    x, y = toy2d.multi_gaussian(300, seed=9)
    bumps = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
    for (px, py), target in zip(x.astype(float), y):
        label = 0.0
        for cx, cy, sign in bumps:
            value = sign * min(1.0, max(0.0, 1 - math.dist((px, py), (cx, cy)) / 2))
            if abs(value) > abs(label):
                label = value
        assert target == pytest.approx(label, abs=1e-6)
    assert y.min() >= -1 and y.max() <= 1 and y.min() < -0.5 and y.max() > 0.5


def test_arguments_are_validated():
    with pytest.raises(ValueError, match="Unknown toy2d dataset 'moons'"):
        toy2d.load("moons")
    with pytest.raises(ValueError, match="noise must be in"):
        toy2d.load("circle", noise=0.7)
    with pytest.raises(ValueError, match="n_samples"):
        toy2d.load("xor", n_samples=0)
    with pytest.raises(ValueError, match="regression"):
        toy2d.load("plane", signed=True)

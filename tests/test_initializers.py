"""Initializers: Keras's formulas checked through the statistics of large draws, seeding, get and configs."""

import math

import numpy as np
import pytest

from glassnet import backend, initializers

CORRECTION = 0.87962566103423978


@pytest.mark.parametrize(
    ("shape", "fans"),
    [((), (1, 1)), ((7,), (7, 7)), ((784, 128), (784, 128)), ((3, 3, 16, 32), (9 * 16, 9 * 32))],
)
def test_compute_fans_like_keras(shape, fans):
    assert initializers.compute_fans(shape) == fans


def test_glorot_uniform_limit():
    fan_in, fan_out = 400, 300
    w = initializers.GlorotUniform(seed=0)((fan_in, fan_out))  # seeded: the same draw in any test order
    limit = math.sqrt(6 / (fan_in + fan_out))
    assert w.dtype == np.float32 and w.shape == (fan_in, fan_out)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit  # the whole interval is used
    assert abs(w.std() - limit / math.sqrt(3)) < 0.02 * limit / math.sqrt(3)


@pytest.mark.parametrize(
    ("name", "variance"),
    [("he_normal", lambda i, o: 2 / i), ("lecun_normal", lambda i, o: 1 / i),
     ("glorot_normal", lambda i, o: 2 / (i + o))],
)
def test_truncated_variance_scaling_keeps_the_requested_std(name, variance):
    fan_in, fan_out = 500, 400
    w = type(initializers.get(name))(seed=0)((fan_in, fan_out)).astype(np.float64)
    std = math.sqrt(variance(fan_in, fan_out))
    assert abs(w.std() - std) < 0.02 * std
    assert abs(w.mean()) < 0.01 * std
    assert np.abs(w).max() <= 2 * std / CORRECTION * (1 + 1e-6)  # truncated at 2 stddev of the untruncated draw


@pytest.mark.parametrize(("name", "scale"), [("he_uniform", 6.0), ("lecun_uniform", 3.0)])
def test_fan_in_uniform_limits(name, scale):
    fan_in = 250
    w = type(initializers.get(name))(seed=0)((fan_in, 600))
    limit = math.sqrt(scale / fan_in)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit


def test_variance_scaling_untruncated_normal_and_fan_out():
    w = initializers.VarianceScaling(scale=3.0, mode="fan_out", distribution="untruncated_normal", seed=1)((300, 600))
    assert abs(w.std() - math.sqrt(3.0 / 600)) < 0.02 * math.sqrt(3.0 / 600)
    assert np.abs(w).max() > 3 * math.sqrt(3.0 / 600)  # tails not cut


def test_truncated_normal_stays_within_two_std():
    w = initializers.TruncatedNormal(mean=1.0, stddev=0.5, seed=3)((200, 200)).astype(np.float64)
    assert np.all(np.abs(w - 1.0) <= 2 * 0.5 * (1 + 1e-6))
    assert abs(w.std() - 0.5 * CORRECTION) < 0.01
    assert abs(w.mean() - 1.0) < 0.01


def test_random_normal_and_uniform_defaults():
    n = initializers.RandomNormal(seed=0)((300, 300)).astype(np.float64)
    assert abs(n.std() - 0.05) < 0.001 and abs(n.mean()) < 0.001
    u = initializers.RandomUniform(seed=0)((300, 300))
    assert u.min() >= -0.05 and u.max() < 0.05 and u.max() > 0.0499
    u2 = initializers.RandomUniform(minval=2.0, maxval=3.0, seed=0)((10,))
    assert np.all((u2 >= 2.0) & (u2 < 3.0))


def test_constant_zeros_ones():
    assert np.array_equal(initializers.get("zeros")((2, 3)), np.zeros((2, 3), np.float32))
    assert np.array_equal(initializers.get("ones")((4,)), np.ones(4, np.float32))
    assert np.array_equal(initializers.Constant(2.5)((2, 2), dtype="float64"), np.full((2, 2), 2.5))


def test_identity_and_orthogonal():
    assert np.array_equal(initializers.Identity(gain=2.0)((3, 3)), 2 * np.eye(3, dtype=np.float32))
    for shape in [(6, 4), (4, 6)]:
        q = initializers.Orthogonal(seed=0)(shape, dtype="float64")
        gram = q.T @ q if shape[0] > shape[1] else q @ q.T
        np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)


@pytest.fixture
def global_seed_restored(monkeypatch):
    """set_random_seed replaces glassnet's global generator and reseeds NumPy's legacy one: both are put back after
    the test, so the tests that run later do not draw from a generator this one seeded."""
    monkeypatch.setattr(backend, "_global_rng", backend._global_rng)
    legacy = np.random.get_state()  # noqa: NPY002 - set_random_seed reseeds the legacy generator, as Keras does
    yield
    np.random.set_state(legacy)  # noqa: NPY002


@pytest.mark.parametrize(
    "name", ["random_normal", "random_uniform", "truncated_normal", "glorot_uniform", "glorot_normal", "he_uniform",
             "he_normal", "lecun_uniform", "lecun_normal", "orthogonal"])
def test_seeding(name, global_seed_restored):
    cls = type(initializers.get(name))
    a, b, c = cls(seed=7)((20, 30)), cls(seed=7)((20, 30)), cls(seed=8)((20, 30))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    unseeded = cls()
    assert not np.array_equal(unseeded((20, 30)), unseeded((20, 30)))
    backend.set_random_seed(11)
    first = cls()((20, 30))
    backend.set_random_seed(11)
    assert np.array_equal(first, cls()((20, 30)))


def test_dtype_follows_floatx_and_argument():
    assert initializers.GlorotUniform(seed=0)((3, 3), dtype="float64").dtype == np.float64
    previous = backend.floatx()
    backend.set_floatx("float64")
    try:
        assert initializers.HeNormal(seed=0)((3, 3)).dtype == np.float64
    finally:
        backend.set_floatx(previous)


def test_get_accepts_names_dicts_instances_classes_and_callables():
    assert isinstance(initializers.get("he_normal"), initializers.HeNormal)
    assert isinstance(initializers.get("HeNormal"), initializers.HeNormal)
    assert isinstance(initializers.get(initializers.Zeros), initializers.Zeros)
    inst = initializers.RandomNormal(stddev=0.1)
    assert initializers.get(inst) is inst
    from_dict = initializers.get({"class_name": "RandomNormal", "config": {"mean": 1.0, "stddev": 0.2, "seed": 4}})
    assert (from_dict.mean, from_dict.stddev, from_dict.seed) == (1.0, 0.2, 4)

    def fill(shape, dtype=None):
        return np.full(shape, 3.0)

    assert initializers.get(fill) is fill
    assert initializers.get(None) is None
    with pytest.raises(ValueError, match=r"Unknown initializer: 'glorot'.*'glorot_uniform'"):
        initializers.get("glorot")


@pytest.mark.parametrize(
    "initializer",
    [initializers.Zeros(), initializers.Constant(0.5), initializers.RandomNormal(0.1, 0.2, seed=1),
     initializers.RandomUniform(-1, 1, seed=2), initializers.TruncatedNormal(seed=3),
     initializers.VarianceScaling(2.0, "fan_avg", "uniform", seed=4), initializers.GlorotUniform(seed=5),
     initializers.HeNormal(seed=6), initializers.LecunUniform(seed=7), initializers.Orthogonal(1.5, seed=8),
     initializers.Identity(3.0)],
)
def test_config_round_trip(initializer):
    config = initializers.serialize(initializer)
    rebuilt = initializers.deserialize(config)
    assert type(rebuilt) is type(initializer) and rebuilt.get_config() == initializer.get_config()
    assert np.array_equal(rebuilt((5, 5)), initializer((5, 5)))


def test_presets_config_is_only_the_seed():
    assert initializers.GlorotUniform(seed=3).get_config() == {"seed": 3}
    assert initializers.HeNormal().get_config() == {"seed": None}


def test_invalid_arguments():
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_everything")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomNormal(seed=-1)
    with pytest.raises(ValueError, match="Cannot serialize"):
        initializers.serialize(lambda shape, dtype=None: np.zeros(shape))

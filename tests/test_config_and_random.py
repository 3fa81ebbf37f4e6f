"""glassnet.config and glassnet.random, each checked against Keras 3 (torch backend) where Keras has the same
function: defaults, setters, errors; the random draws' shapes, dtypes, seeding and statistics."""

import math

import numpy as np
import pytest

import glassnet
from glassnet import backend, config


@pytest.fixture
def restore_config():
    saved = config.floatx(), config.epsilon(), config.image_data_format()
    yield
    config.set_floatx(saved[0])
    config.set_epsilon(saved[1])
    config.set_image_data_format(saved[2])


# ----- config -------------------------------------------------------------------------------------------------

def test_config_defaults_equal_keras(keras):
    assert glassnet.config is config
    assert config.floatx() == keras.config.floatx() == "float32"
    assert config.epsilon() == keras.config.epsilon() == 1e-7
    assert config.image_data_format() == keras.config.image_data_format() == "channels_last"
    assert keras.config.backend() == "torch" and config.backend() == "glassnet"  # the engine that runs the math


def test_set_floatx_sets_the_engines_default(keras, restore_config):
    for dtype in ("float64", "float16", "float32"):
        config.set_floatx(dtype)
        keras.config.set_floatx(dtype)
        assert config.floatx() == backend.floatx() == keras.config.floatx() == dtype
        assert glassnet.ops.convert_to_tensor([1, 2]).dtype == dtype
    config.set_floatx("float64")
    for bad in ("float8", "int32", np.float32, None):
        with pytest.raises(ValueError, match="Expected one of"):
            keras.config.set_floatx(bad)
        with pytest.raises(ValueError, match=r"Unknown `floatx` value: .*Expected one of"):
            config.set_floatx(bad)
    with pytest.raises(ValueError, match="bfloat16"):
        config.set_floatx("bfloat16")
    assert config.floatx() == "float64"
    keras.config.set_floatx("float32")


def test_set_epsilon(keras, restore_config):
    config.set_epsilon(1e-5)
    keras.config.set_epsilon(1e-5)
    assert config.epsilon() == keras.config.epsilon() == 1e-5
    keras.config.set_epsilon(1e-7)
    config.set_epsilon(0)
    assert config.epsilon() == 0.0 and isinstance(config.epsilon(), float)
    for bad in ("1e-7", -1e-7, math.inf, math.nan, True, None):
        with pytest.raises(ValueError, match=r"set_epsilon expects a finite, non-negative float\. Received: value="):
            config.set_epsilon(bad)
    assert config.epsilon() == 0.0


def test_image_data_format_is_channels_last_only(keras, restore_config):
    config.set_image_data_format("channels_last")
    config.set_image_data_format("CHANNELS_LAST")  # Keras lower-cases it
    assert config.image_data_format() == "channels_last"
    with pytest.raises(NotImplementedError, match="channels_last' only.*Received: data_format='channels_first'"):
        config.set_image_data_format("channels_first")
    assert config.image_data_format() == "channels_last"
    for bad in ("nhwc", None):
        with pytest.raises(ValueError, match="must be one of"):
            keras.config.set_image_data_format(bad)
        with pytest.raises(ValueError, match=r"must be one of \{'channels_first', 'channels_last'\}\. Received"):
            config.set_image_data_format(bad)


# ----- random -------------------------------------------------------------------------------------------------

from glassnet import random  # noqa: E402 - the second half of this file
from glassnet.autodiff.tensor import Tensor, Variable  # noqa: E402

N = 200_000


def draws(keras_or_glassnet, name, seed):
    """One draw of ``keras.random.<name>`` / ``glassnet.random.<name>`` with ``seed`` (only that one is called)."""
    r, tensor = keras_or_glassnet.random, keras_or_glassnet.ops.convert_to_tensor
    out = {"normal": lambda: r.normal((3, 4), seed=seed), "uniform": lambda: r.uniform((3, 4), seed=seed),
           "truncated_normal": lambda: r.truncated_normal((3, 4), seed=seed),
           "randint": lambda: r.randint((3, 4), 0, 10, seed=seed),
           "dropout": lambda: r.dropout(tensor(np.ones((3, 4), "float32")), 0.5, seed=seed),
           "shuffle": lambda: r.shuffle(tensor(np.arange(12.0, dtype="float32").reshape(6, 2)), seed=seed)}[name]
    return out()


@pytest.mark.parametrize("name", ["normal", "uniform", "truncated_normal", "randint", "dropout", "shuffle"])
def test_shapes_dtypes_and_seeding_as_in_keras(keras, name):
    to_numpy = keras.ops.convert_to_numpy
    ours, theirs = draws(glassnet, name, 7), to_numpy(draws(keras, name, 7))
    assert isinstance(ours, Tensor)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (ours.shape, ours.dtype, theirs.dtype)
    # an int seed: the same values on every call (in both); a SeedGenerator: new values on each call
    np.testing.assert_array_equal(draws(glassnet, name, 7).numpy(), ours.numpy())
    np.testing.assert_array_equal(to_numpy(draws(keras, name, 7)), theirs)
    gen, peer_gen = random.SeedGenerator(7), keras.random.SeedGenerator(7)
    first, second = draws(glassnet, name, gen).numpy(), draws(glassnet, name, gen).numpy()
    peer_first, peer_second = to_numpy(draws(keras, name, peer_gen)), to_numpy(draws(keras, name, peer_gen))
    assert not np.array_equal(first, second) and not np.array_equal(peer_first, peer_second)
    # an int seed draws as the SeedGenerator's first call does, in Keras and here
    np.testing.assert_array_equal(first, ours.numpy())
    np.testing.assert_array_equal(peer_first, theirs)
    again = random.SeedGenerator(7)
    np.testing.assert_array_equal(draws(glassnet, name, again).numpy(), first)
    np.testing.assert_array_equal(draws(glassnet, name, again).numpy(), second)


def test_seed_none_draws_from_the_global_generator():
    backend.set_random_seed(3)
    a = [random.normal((4,)).numpy(), random.uniform((4,)).numpy(), random.SeedGenerator().state.copy()]
    b = random.normal((4,)).numpy()
    backend.set_random_seed(3)
    a2 = [random.normal((4,)).numpy(), random.uniform((4,)).numpy(), random.SeedGenerator().state.copy()]
    for x, y in zip(a, a2):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], b)


def test_normal_and_uniform_statistics():
    x = random.normal((N,), mean=2.0, stddev=3.0, dtype="float64", seed=1).numpy()
    assert abs(x.mean() - 2.0) < 5 * 3.0 / math.sqrt(N)  # five standard errors
    assert abs(x.std() - 3.0) < 5 * 3.0 / math.sqrt(2 * N)
    u = random.uniform((N,), minval=-1.0, maxval=3.0, seed=2).numpy()
    assert u.dtype == np.float32 and u.min() >= -1.0 and u.max() < 3.0
    assert abs(u.mean() - 1.0) < 5 * (4 / math.sqrt(12)) / math.sqrt(N)
    assert np.histogram(u, bins=4, range=(-1, 3))[0].min() > N / 4 - 5 * math.sqrt(N * 0.25 * 0.75)
    narrow = random.uniform((N,), minval=1.0, maxval=1.0 + 1e-7, seed=3).numpy()  # rounds to 1.0 or below the top
    assert narrow.max() < np.float32(1.0 + 1e-7) or narrow.max() == np.float32(1.0)


def test_truncated_normal_statistics():
    x = random.truncated_normal((N,), mean=1.0, stddev=2.0, dtype="float64", seed=4).numpy()
    assert x.min() >= 1.0 - 4.0 and x.max() <= 1.0 + 4.0
    # N(0, 1) restricted to [−2, 2]: variance 1 − 2·2·φ(2) / (Φ(2) − Φ(−2))
    phi2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
    std = 2.0 * math.sqrt(1 - 4 * phi2 / math.erf(2 / math.sqrt(2)))
    assert abs(x.mean() - 1.0) < 5 * std / math.sqrt(N)
    assert abs(x.std() - std) < 5 * std / math.sqrt(2 * N)


def test_randint_statistics():
    x = random.randint((N,), -3, 4, seed=5).numpy()
    assert x.dtype == np.int32 and random.randint((2,), 0, 2, dtype="int64", seed=1).dtype == np.int64
    counts = np.bincount(x + 3)
    assert len(counts) == 7 and counts.min() > N / 7 - 5 * math.sqrt(N / 7)


def test_dropout_keeps_one_minus_rate_scaled_and_is_differentiable():
    x = Variable(np.full((N // 100, 100), 2.0, "float32"))
    y = random.dropout(x, 0.3, seed=6)
    values = y.numpy()
    kept = values != 0
    np.testing.assert_allclose(values[kept], 2.0 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 5 * math.sqrt(0.7 * 0.3 / N)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.where(kept, 1 / 0.7, 0.0), rtol=1e-6)
    rows = random.dropout(np.ones((50, 8), "float32"), 0.5, noise_shape=(None, 1), seed=6).numpy()
    assert all(len(set(row)) == 1 for row in rows) and 0 < (rows[:, 0] > 0).sum() < 50
    np.testing.assert_array_equal(random.dropout(np.ones(4), 1.0).numpy(), np.zeros(4))
    np.testing.assert_array_equal(random.dropout(np.ones(4), 0.0).numpy(), np.ones(4))


def test_shuffle_is_a_permutation_along_the_axis_and_differentiable():
    x = Variable(np.arange(40.0).reshape(4, 10))
    y = random.shuffle(x, axis=1, seed=8)
    assert y.shape == (4, 10)
    order = (y.numpy()[0]).astype(int)
    assert sorted(order) == list(range(10)) and order.tolist() != list(range(10))
    np.testing.assert_array_equal(y.numpy(), x.numpy()[:, order])
    (y * np.arange(10.0)).sum().backward()
    np.testing.assert_array_equal(x.grad, np.tile(np.argsort(order), (4, 1)))
    np.testing.assert_array_equal(random.shuffle(x, axis=-1, seed=8).numpy(), y.numpy())


def test_random_errors_name_what_was_received(keras):
    with pytest.raises(ValueError, match="requires a floating point `dtype`"):
        keras.random.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match=r"`glassnet.random.uniform` requires a floating point `dtype`\. "
                                         r"Received: dtype=int32"):
        random.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="requires an integer `dtype`"):
        keras.random.randint((2,), 0, 3, dtype="float32")
    with pytest.raises(ValueError, match=r"`glassnet.random.randint` requires an integer `dtype`\. "
                                         r"Received: dtype=float32"):
        random.randint((2,), 0, 3, dtype="float32")
    for bad in ("7", 1.5):
        with pytest.raises(ValueError, match="Argument `seed` must be either an integer or an instance of "
                                             "`SeedGenerator`"):
            keras.random.normal((2,), seed=bad)
        with pytest.raises(ValueError, match=r"Argument `seed` must be either an integer or an instance of "
                                             r"`SeedGenerator`\. Received: seed="):
            random.normal((2,), seed=bad)
    with pytest.raises(ValueError, match=r"Argument `seed` must be an integer\. Received: seed='a'"):
        random.SeedGenerator("a")
    with pytest.raises(ValueError, match=r"Argument `seed` must be an integer"):
        keras.random.SeedGenerator("a")
    with pytest.raises(ValueError, match="minval < maxval. Received: minval=3, maxval=3"):
        random.randint((2,), 3, 3)
    with pytest.raises(ValueError, match="minval < maxval"):
        random.uniform((2,), minval=1.0, maxval=0.0)
    with pytest.raises(ValueError, match=r"Received: rate=1\.5"):
        random.dropout(np.ones(3), 1.5)
    with pytest.raises(ValueError, match=r"does not broadcast to the inputs' shape \(2, 3\)"):
        random.dropout(np.ones((2, 3)), 0.5, noise_shape=(2, 2))
    with pytest.raises(ValueError, match=r"`shape` as a tuple of non-negative integers\. Received: shape=\(2, -1\)"):
        random.normal((2, -1))
    with pytest.raises(ValueError, match="axis 2 is out of range for an input of shape"):
        random.shuffle(np.ones((2, 3)), axis=2)


def test_seed_generator_config():
    gen = random.SeedGenerator(5, name="mine")
    assert gen.get_config() == {"seed": 5, "name": "mine"}
    clone = random.SeedGenerator.from_config(gen.get_config())
    np.testing.assert_array_equal(clone.next(), [5, 0])
    np.testing.assert_array_equal(clone.next(), [5, 1])
    assert glassnet.random is random

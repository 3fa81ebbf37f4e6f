"""Lion and Ftrl against Keras 3 itself (torch backend), as tests/optimizers/test_more_optimizers.py does for the
others: from identical weights and gradients (float32; float64 for Ftrl, see DTYPES), every step's weights and
optimizer variables (slots in Keras's order) agree within 1e-6, on small variables (NumPy evaluates the rule) and on
a large one (the rule compiled by Numba, when installed); plus Keras's defaults and errors, get_config round trips,
``optimizers.get`` by name, and a saved model resuming with its optimizer state."""

import re

import numpy as np
import pytest

import glassnet
from glassnet import optimizers
from glassnet.autodiff.tensor import Variable
from glassnet.kernels import updates

SHAPES = [(3, 4), (4,), (64, updates.COMPILED_MIN_SIZE // 64 + 16)]  # the last one takes the compiled update
STEPS = 5

CASES = [
    ("Lion", {}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9}),
    ("Lion", {"learning_rate": 0.01, "weight_decay": 0.1, "clipnorm": 1.0}),
    ("Ftrl", {}),
    ("Ftrl", {"learning_rate": 0.1, "learning_rate_power": -0.7, "initial_accumulator_value": 0.5,
              "l1_regularization_strength": 0.05, "l2_regularization_strength": 0.02,
              "l2_shrinkage_regularization_strength": 0.01, "beta": 0.3}),
    ("Ftrl", {"learning_rate": 0.1, "learning_rate_power": 0.0, "l1_regularization_strength": 0.5}),
]

# Keras 3's defaults (keras.optimizers.<Name>().get_config(), Keras 3.15)
DEFAULTS = {
    "Lion": {"name": "lion", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99},
    "Ftrl": {"name": "ftrl", "learning_rate": 0.001, "learning_rate_power": -0.5, "initial_accumulator_value": 0.1,
             "l1_regularization_strength": 0.0, "l2_regularization_strength": 0.0,
             "l2_shrinkage_regularization_strength": 0.0, "beta": 0.0},
}
SLOTS = {"Lion": ["momentum"], "Ftrl": ["accumulator", "linear"]}
# Ftrl's linear divides a difference of powers, a'^(−p) − a^(−p), by lr (1e-3 by default): in float32 an ulp of
# a^(−p) becomes ~3e-5 there, and torch's pow on a large tensor is not always the correctly rounded √a that NumPy
# gives. Its equations are compared in float64, where that cancellation costs nothing visible.
DTYPES = {"Lion": "float32", "Ftrl": "float64"}


def problem(seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return weights, grads


@pytest.mark.parametrize("name, kwargs", CASES)
def test_five_steps_equal_keras(keras, name, kwargs):
    dtype = DTYPES[name]
    weights, grads = problem(dtype=dtype)
    ours = getattr(optimizers, name)(**kwargs)
    theirs = getattr(keras.optimizers, name)(**kwargs)
    mine = [Variable(w, name=f"w{i}", dtype=dtype) for i, w in enumerate(weights)]
    peers = [keras.Variable(w, name=f"w{i}", dtype=dtype) for i, w in enumerate(weights)]
    to_numpy = keras.ops.convert_to_numpy
    for step in range(STEPS):
        ours.apply_gradients(zip(grads[step], mine))
        theirs.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in grads[step]], peers))
        for a, b in zip(mine, peers):
            assert a.dtype == dtype
            np.testing.assert_allclose(np.asarray(a.value), to_numpy(b), atol=1e-6, rtol=1e-6,
                                       err_msg=f"{name} weights after step {step + 1}")
        paths = [v.path for v in theirs.variables]  # iteration, learning_rate, then each variable's slots
        assert [p.split("/")[-1] for p in paths[2:]] == [
            f"w{i}_{slot}" for i in range(len(mine)) for slot in SLOTS[name]]
        keras_vars = [to_numpy(v) for v in theirs.variables]
        assert int(ours.variables[0]) == int(keras_vars[0]) == step + 1
        assert len(ours.variables) == len(keras_vars) - 1
        for k, (a, b) in enumerate(zip(ours.variables[1:], keras_vars[2:])):
            assert a.shape == b.shape and a.dtype == b.dtype, (k, a.shape, b.shape, a.dtype, b.dtype)
            np.testing.assert_allclose(a, b, atol=1e-6, rtol=1e-6,
                                       err_msg=f"{name} variable {k + 1} ({paths[k + 2]}) after step {step + 1}")


def test_ftrl_l1_sets_weights_to_exact_zeros():
    opt = optimizers.Ftrl(learning_rate=0.1, l1_regularization_strength=10.0)
    w = Variable(np.ones(5, "float32"))
    opt.apply_gradients([(np.full(5, 0.5, "float32"), w)])
    np.testing.assert_array_equal(w.value, np.zeros(5))


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_defaults_config_round_trip_and_get(keras, name):
    opt = optimizers.get(name.lower())
    assert type(opt) is getattr(optimizers, name) and type(optimizers.get(name)) is type(opt)
    config = opt.get_config()
    assert {k: config[k] for k in DEFAULTS[name]} == DEFAULTS[name]
    peer = getattr(keras.optimizers, name)().get_config()
    assert re.fullmatch(rf"{config['name']}(_\d+)?", peer["name"])  # Keras numbers a name seen before
    for key in set(DEFAULTS[name]) - {"name"}:
        assert config[key] == pytest.approx(peer[key], rel=1e-6), key  # Keras reads its learning rate as float32
    for key in ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue"):
        assert config[key] == peer[key] is None
    custom = getattr(optimizers, name)(learning_rate=0.03, clipvalue=0.5, name="mine")
    again = optimizers.deserialize(optimizers.serialize(custom))
    assert type(again) is type(custom) and again.get_config() == custom.get_config()


@pytest.mark.parametrize("name, kwargs, message", [
    ("Lion", {"beta_1": 0.0}, "Argument `beta_1` must be in the [0, 1] range"),
    ("Lion", {"beta_1": 1.5}, "Argument `beta_1` must be in the [0, 1] range"),
    ("Ftrl", {"initial_accumulator_value": -1.0}, "`initial_accumulator_value` needs to be positive or zero"),
    ("Ftrl", {"learning_rate_power": 0.5}, "`learning_rate_power` needs to be negative or zero"),
    ("Ftrl", {"l1_regularization_strength": -1.0}, "`l1_regularization_strength` needs to be positive or zero"),
    ("Ftrl", {"l2_regularization_strength": -1.0}, "`l2_regularization_strength` needs to be positive or zero"),
    ("Ftrl", {"l2_shrinkage_regularization_strength": -1.0}, "`l2_shrinkage_regularization_strength` needs to be"),
])
def test_bad_arguments_raise_keras_errors(keras, name, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(keras.optimizers, name)(**kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(optimizers, name)(**kwargs)


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_state_round_trip_continues_identically(name):
    weights, grads = problem(1)
    opt = getattr(optimizers, name)(learning_rate=0.05)
    w = [Variable(a) for a in weights]
    for step in range(2):
        opt.apply_gradients(zip(grads[step], w))
    state = opt.get_state()
    assert len(state) == 1 + len(w) * len(SLOTS[name])
    clone = optimizers.deserialize(optimizers.serialize(opt))
    w2 = [Variable(np.array(a.value)) for a in w]
    clone.build(w2)
    clone.set_state(state)
    for step in range(2, STEPS):
        opt.apply_gradients(zip(grads[step], w))
        clone.apply_gradients(zip(grads[step], w2))
    for a, b in zip(w, w2):
        np.testing.assert_array_equal(a.value, b.value)
    assert clone.iterations == STEPS


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_a_saved_model_resumes_with_its_optimizer_state(name, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype("float32")
    y = x[:, :1] - x[:, 1:2]
    model = glassnet.Sequential([glassnet.layers.Input((4,)), glassnet.layers.Dense(3), glassnet.layers.Dense(1)])
    model.compile(optimizer=getattr(optimizers, name)(learning_rate=0.05), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "model.keras")
    loaded = glassnet.load_model(tmp_path / "model.keras")
    assert type(loaded.optimizer) is getattr(optimizers, name) and loaded.optimizer.iterations == 8
    for m in (model, loaded):
        m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)

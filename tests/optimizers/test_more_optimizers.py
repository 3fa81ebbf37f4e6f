"""Adagrad, Adadelta, Adamax and Nadam against Keras 3 itself (torch backend): from identical float32 weights and
gradients, every step's weights and optimizer variables (slots in Keras's order, Nadam's Πₜ last) agree within
1e-6, on small variables (NumPy evaluates the rule) and on a large one (the rule compiled by Numba, when
installed); plus Keras's defaults, get_config round trips and ``optimizers.get`` by name."""

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
    ("Adagrad", {}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-5}),
    ("Adadelta", {}),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6}),
    ("Adamax", {}),
    ("Adamax", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-6}),
    ("Nadam", {}),
    ("Nadam", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-6}),
    ("Adamax", {"learning_rate": 0.05, "clipnorm": 1.0, "weight_decay": 0.1}),
]

# Keras 3's defaults (keras.optimizers.<Name>().get_config(), Keras 3.15)
DEFAULTS = {
    "Adagrad": {"name": "adagrad", "learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "Adadelta": {"name": "adadelta", "learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    "Adamax": {"name": "adamax", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "Nadam": {"name": "nadam", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
}
SLOTS = {"Adagrad": ["accumulator"], "Adadelta": ["accumulated_grad", "accumulated_delta_var"],
         "Adamax": ["momentum", "norm"], "Nadam": ["momentum", "velocity"]}


def problem(seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s).astype("float32") for s in SHAPES]
    grads = [[rng.standard_normal(s).astype("float32") for s in SHAPES] for _ in range(STEPS)]
    return weights, grads


@pytest.mark.parametrize("name, kwargs", CASES)
def test_five_steps_equal_keras(keras, name, kwargs):
    weights, grads = problem()
    ours = getattr(optimizers, name)(**kwargs)
    theirs = getattr(keras.optimizers, name)(**kwargs)
    mine = [Variable(w, name=f"w{i}") for i, w in enumerate(weights)]
    peers = [keras.Variable(w, name=f"w{i}") for i, w in enumerate(weights)]
    to_numpy = keras.ops.convert_to_numpy
    for step in range(STEPS):
        ours.apply_gradients(zip(grads[step], mine))
        theirs.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in grads[step]], peers))
        for a, b in zip(mine, peers):
            assert a.dtype == "float32"
            np.testing.assert_allclose(np.asarray(a.value), to_numpy(b), atol=1e-6, rtol=0,
                                       err_msg=f"{name} weights after step {step + 1}")
        # Keras: iteration, learning_rate, then each variable's slots (Nadam: its u_product last); glassnet has
        # no learning-rate variable
        paths = [v.path for v in theirs.variables]
        assert [p.split("/")[-1] for p in paths[2:2 + len(mine) * len(SLOTS[name])]] == [
            f"w{i}_{slot}" for i in range(len(mine)) for slot in SLOTS[name]]
        keras_vars = [to_numpy(v) for v in theirs.variables]
        assert int(ours.variables[0]) == int(keras_vars[0]) == step + 1
        assert len(ours.variables) == len(keras_vars) - 1
        for k, (a, b) in enumerate(zip(ours.variables[1:], keras_vars[2:])):
            assert a.shape == b.shape and a.dtype == b.dtype, (k, a.shape, b.shape, a.dtype, b.dtype)
            np.testing.assert_allclose(a, b, atol=1e-6, rtol=1e-6, err_msg=f"{name} variable {k + 1} "
                                       f"({paths[k + 2]}) after step {step + 1}")


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
    custom = getattr(optimizers, name)(learning_rate=0.03, epsilon=1e-4, clipvalue=0.5, name="mine")
    again = optimizers.deserialize(optimizers.serialize(custom))
    assert type(again) is type(custom) and again.get_config() == custom.get_config()
    assert type(optimizers.get(optimizers.serialize(custom))) is type(custom)


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_state_round_trip_continues_identically(name):
    weights, grads = problem(1)
    opt = getattr(optimizers, name)(learning_rate=0.05)
    w = [Variable(a) for a in weights]
    for step in range(2):
        opt.apply_gradients(zip(grads[step], w))
    state = opt.get_state()
    assert len(state) == 1 + len(w) * len(SLOTS[name]) + (name == "Nadam")
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


def test_adagrad_accumulators_start_at_their_initial_value():
    opt = optimizers.Adagrad(initial_accumulator_value=0.25)
    w = Variable(np.ones((2, 3), "float32"))
    opt.build([w])
    np.testing.assert_array_equal(opt.variables[1], np.full((2, 3), 0.25, "float32"))
    late = Variable(np.ones(5, "float32"))  # first seen by apply, not build
    opt.apply_gradients([(np.zeros((2, 3), "float32"), w), (np.full(5, 2.0, "float32"), late)])
    np.testing.assert_allclose(opt.variables[2], np.full(5, 4.25), rtol=1e-7)
    np.testing.assert_array_equal(opt.variables[1], np.full((2, 3), 0.25, "float32"))


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_a_model_trains_with_each_by_name(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = x @ rng.standard_normal((4, 1)).astype("float32")
    model = glassnet.Sequential([glassnet.layers.Input((4,)), glassnet.layers.Dense(1)])
    model.compile(optimizer=optimizers.get({"class_name": name, "config": {"learning_rate": 0.1 if name != "Adadelta"
                                                                            else 1.0}}), loss="mse")
    history = model.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_a_saved_model_resumes_with_its_optimizer_state(name, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype("float32")
    y = x[:, :1] - x[:, 1:2]
    model = glassnet.Sequential([glassnet.layers.Input((4,)), glassnet.layers.Dense(3), glassnet.layers.Dense(1)])
    model.compile(optimizer=name.lower(), loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = glassnet.load_model(tmp_path / "model.keras")
    assert type(loaded.optimizer) is getattr(optimizers, name) and loaded.optimizer.iterations == 8
    for m in (model, loaded):
        m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)

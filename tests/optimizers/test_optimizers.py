"""Optimizers: the first three updates equal Keras 3's update equations, written out here in float64, both on a
small variable (NumPy evaluates the update rule) and on a large one (the rule compiled by Numba, when installed)."""

import math

import numpy as np
import pytest

from glassnet import backend, optimizers
from glassnet.autodiff.tensor import Variable
from glassnet.kernels import storage, updates
from glassnet.optimizers import schedules

W0 = np.array([[0.5, -1.5], [2.0, 0.25]])


def grad_of(w):
    """Gradient of a fixed small problem, L = Σ (w³/3 − w) (non-linear, so each step sees a new gradient)."""
    return w ** 2 - 1.0


def run(optimizer, steps=3):
    """The trail of W0 under ``optimizer``; the same optimizer also updates a large variable made of copies of W0,
    which must follow the small one bit for bit (a different code path: the fused, compiled update)."""
    w = Variable(W0, dtype="float64")
    tiles = updates.COMPILED_MIN_SIZE // W0.size
    large = Variable(np.tile(W0, (tiles, 1)), dtype="float64")
    trail = []
    for _ in range(steps):
        optimizer.apply_gradients([(grad_of(np.array(w.value)), w), (grad_of(np.array(large.value)), large)])
        trail.append(np.array(w.value))
        np.testing.assert_array_equal(large.value, np.tile(w.value, (tiles, 1)))
    return trail


def reference(step_fn, steps=3):
    """Apply ``step_fn(w, g, t, state)`` (t = 1, 2, 3) from W0; return each w."""
    w, state, trail = W0.copy(), {}, []
    for t in range(1, steps + 1):
        w = step_fn(w, grad_of(w), t, state)
        trail.append(w.copy())
    return trail


def assert_trails(got, expected):
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-12, rtol=0)


def test_sgd_plain():
    assert_trails(run(optimizers.SGD(0.1)), reference(lambda w, g, t, s: w - 0.1 * g))


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum(nesterov):
    lr, mu = 0.1, 0.9

    def step(w, g, t, s):
        m = s["m"] = mu * s.get("m", 0.0) - lr * g
        return w + (mu * m - lr * g if nesterov else m)

    assert_trails(run(optimizers.SGD(lr, momentum=mu, nesterov=nesterov)), reference(step))


@pytest.mark.parametrize("centered, momentum", [(False, 0.0), (True, 0.0), (False, 0.5), (True, 0.5)])
def test_rmsprop(centered, momentum):
    lr, rho, eps = 0.01, 0.9, 1e-7

    def step(w, g, t, s):
        v = s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
        if centered:
            a = s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g
            inc = lr * g / np.sqrt(v - a * a + eps)
        else:
            inc = lr * g / np.sqrt(v + eps)  # Keras puts ε inside the square root
        if momentum:
            inc = s["mom"] = momentum * s.get("mom", 0.0) + inc
        return w - inc

    assert_trails(run(optimizers.RMSprop(lr, centered=centered, momentum=momentum)), reference(step))


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam(amsgrad):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7

    def step(w, g, t, s):
        m = s["m"] = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - b1)
        v = s["v"] = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - b2)
        if amsgrad:
            v = s["vh"] = np.maximum(s.get("vh", 0.0), v)
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return w - m * alpha / (np.sqrt(v) + eps)

    assert_trails(run(optimizers.Adam(lr, amsgrad=amsgrad)), reference(step))


def test_adamw_decays_before_the_adam_step():
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-7, 0.1

    def step(w, g, t, s):
        w = w - w * wd * lr
        m = s["m"] = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - b1)
        v = s["v"] = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - b2)
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return w - m * alpha / (np.sqrt(v) + eps)

    assert_trails(run(optimizers.AdamW(lr, weight_decay=wd)), reference(step))
    assert optimizers.AdamW().weight_decay == 0.004


def test_clipnorm_per_variable_and_global():
    g1, g2 = np.array([3.0, 4.0]), np.array([0.0, 12.0])  # norms 5 and 12, together 13
    for kind, scales in (("clipnorm", (1 / 5, 1 / 12)), ("global_clipnorm", (1 / 13, 1 / 13))):
        a, b = Variable([0.0, 0.0], dtype="float64"), Variable([0.0, 0.0], dtype="float64")
        optimizers.SGD(1.0, **{kind: 1.0}).apply([g1, g2], [a, b])
        np.testing.assert_allclose(a.value, -g1 * scales[0], atol=1e-15)
        np.testing.assert_allclose(b.value, -g2 * scales[1], atol=1e-15)
    small = Variable([0.0, 0.0], dtype="float64")
    optimizers.SGD(1.0, clipnorm=10.0).apply([g1], [small])  # under the limit: unchanged gradient
    np.testing.assert_allclose(small.value, -g1)


def test_clipvalue_and_exclusive_clipping():
    w = Variable([0.0, 0.0, 0.0], dtype="float64")
    g = np.array([-3.0, 0.2, 7.0])
    optimizers.SGD(1.0, clipvalue=0.5).apply([g], [w])
    np.testing.assert_allclose(w.value, -np.clip(g, -0.5, 0.5))
    np.testing.assert_array_equal(g, [-3.0, 0.2, 7.0])  # the caller's gradient is not modified
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)


def test_float32_updates_stay_in_place_and_float32():
    w = Variable(np.ones((3, 2)))
    buffer = w.value
    opt = optimizers.Adam()
    for _ in range(2):
        opt.apply_gradients([(np.ones((3, 2), dtype=np.float32), w)])
    assert w.dtype == np.float32 and np.shares_memory(w.value, buffer)
    # Keras's defaults lr = 0.001, β1 = 0.9, β2 = 0.999, ε = 1e-7 with g = 1: m = 1 − β1^t and v = 1 − β2^t, so
    # each step moves w by lr·√(1 − β2^t)/(1 − β1^t) · m/(√v + ε) = lr / (1 + ε/√(1 − β2^t)), about 0.001
    expected = 1.0 - sum(0.001 / (1 + 1e-7 / math.sqrt(1 - 0.999**t)) for t in (1, 2))
    np.testing.assert_allclose(buffer, expected, rtol=1e-6)  # updated where it lives
    assert all(a.dtype == np.float32 for a in opt.variables[1:])


def test_schedules_closed_forms():
    e = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert e(0) == pytest.approx(0.1) and e(5) == pytest.approx(0.1 * 0.5 ** 0.5) and e(20) == pytest.approx(0.025)
    es = schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert es(9) == pytest.approx(0.1) and es(10) == pytest.approx(0.05)
    pc = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [pc(s) for s in (0, 10, 11, 20, 21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    it = schedules.InverseTimeDecay(0.1, decay_steps=4, decay_rate=0.5)
    assert it(6) == pytest.approx(0.1 / (1 + 0.5 * 1.5))
    assert schedules.InverseTimeDecay(0.1, 4, 0.5, staircase=True)(6) == pytest.approx(0.1 / 1.5)
    c = schedules.CosineDecay(0.1, decay_steps=100, alpha=0.1)
    assert c(50) == pytest.approx(0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi / 2)) + 0.1))
    assert c(1000) == pytest.approx(0.1 * 0.1)
    w = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=4)
    assert w(2) == pytest.approx(0.5) and w(4) == pytest.approx(1.0) and w(9) == pytest.approx(0.5)


def test_schedule_drives_the_step_size():
    opt = optimizers.SGD(schedules.PiecewiseConstantDecay([0], [1.0, 0.1]))
    w = Variable([0.0], dtype="float64")
    for _ in range(2):
        opt.apply([np.array([1.0])], [w])
    assert w.value[0] == pytest.approx(-1.1)  # step 0 uses 1.0, step 1 uses 0.1
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.5


def test_callable_learning_rate_of_the_step_or_of_nothing():
    opt = optimizers.SGD(lambda step: 1.0 / (step + 1))
    w = Variable([0.0], dtype="float64")
    for _ in range(3):
        opt.apply([np.array([1.0])], [w])
    assert w.value[0] == pytest.approx(-(1 + 1 / 2 + 1 / 3))
    assert optimizers.SGD(lambda: 0.25).learning_rate == 0.25


def test_get_config_state_round_trip():
    opt = optimizers.get("adam")
    assert type(opt) is optimizers.Adam and type(optimizers.get("SGD")) is optimizers.SGD
    config = opt.get_config()  # Keras 3's defaults
    assert {k: config[k] for k in ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad")} == {
        "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}
    assert optimizers.get("SGD").get_config()["learning_rate"] == 0.01
    w = Variable(W0, dtype="float64")
    for _ in range(2):
        opt.apply_gradients([(grad_of(np.array(w.value)), w)])
    state = opt.get_state()
    clone = optimizers.deserialize(optimizers.serialize(opt))
    w2 = Variable(np.array(w.value), dtype="float64")
    clone.build([w2])
    clone.set_state(state)
    opt.apply_gradients([(grad_of(np.array(w.value)), w)])
    clone.apply_gradients([(grad_of(np.array(w2.value)), w2)])
    np.testing.assert_array_equal(w.value, w2.value)
    assert clone.iterations == 3
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get("adamax2")
    sched = optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.9))
    assert optimizers.deserialize(optimizers.serialize(sched)).learning_rate == pytest.approx(0.1)


def test_weight_decay_exclusion():
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    kernel, bias = Variable([1.0], name="dense/kernel", dtype="float64"), Variable([1.0], name="dense/bias",
                                                                                     dtype="float64")
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply([np.array([0.0]), np.array([0.0])], [kernel, bias])
    assert kernel.value[0] == pytest.approx(1 - 0.5 * 0.1) and bias.value[0] == 1.0


@pytest.mark.fast_kernels
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_compiled_rule_equals_numpy_rule_bit_for_bit(dtype):
    assert backend.numba() is not None
    rng = np.random.default_rng(0)
    shape = (updates.COMPILED_MIN_SIZE // 64, 64)
    w, g, v, s = (rng.standard_normal(shape).astype(dtype) for _ in range(4))
    v = np.abs(v)
    g_transposed = np.asfortranarray(g)  # a gradient that is not C-contiguous is read through a copy
    constants = [0.01, 0.9, 0.1, 1e-7, 0.5]
    by_numpy = [w.copy(), g, v.copy(), s.copy()]
    updates.numpy_update(optimizers.rmsprop.rmsprop_momentum, by_numpy, constants)  # Python floats, as update passes
    by_numba = [w.copy(), g_transposed, v.copy(), s.copy()]
    updates.compiled_update(optimizers.rmsprop.rmsprop_momentum, by_numba, [np.dtype(dtype).type(c) for c in constants])
    assert (optimizers.rmsprop.rmsprop_momentum, 4, 5) in updates._loops
    for got, expected in zip(by_numba, by_numpy):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, expected)
    # and both are Keras's RMSprop with momentum, written out here in float64: v ← ρv + (1 − ρ)g²,
    # s ← μs + lr·g/√(v + ε), w ← w − s
    w64, g64, v64, s64 = (a.astype(np.float64) for a in (w, g, v, s))
    v_new = 0.9 * v64 + 0.1 * g64 * g64
    s_new = 0.5 * s64 + 0.01 * g64 / np.sqrt(v_new + 1e-7)
    close = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}
    for got, expected in zip([by_numpy[0], by_numpy[2], by_numpy[3]], [w64 - s_new, v_new, s_new]):
        np.testing.assert_allclose(got, expected, **close)


@pytest.mark.fast_kernels
def test_compiled_update_refuses_non_contiguous_weights():
    w = np.zeros((4, updates.COMPILED_MIN_SIZE)).T
    with pytest.raises(ValueError, match="C-contiguous"):
        updates.compiled_update(optimizers.sgd.sgd, [w, np.ones_like(w)], [np.float64(0.1)])


def test_with_numpy_kernels_large_updates_use_numpy(monkeypatch):
    monkeypatch.setattr(backend, "_kernels", None)
    monkeypatch.setattr(backend, "_numba", None)
    monkeypatch.setenv("GLASSNET_KERNELS", "numpy")
    assert backend.kernels() == "numpy" and backend.numba() is None
    w = Variable(np.ones((updates.COMPILED_MIN_SIZE, 2)))
    optimizers.SGD(0.5).apply_gradients([(np.ones((updates.COMPILED_MIN_SIZE, 2)), w)])
    np.testing.assert_array_equal(w.value, 0.5)


@pytest.mark.fast_kernels
def test_precompile_compiles_the_rule_the_optimizer_uses():
    updates._loops.pop((optimizers.adam.adam_amsgrad, 5, 4), None)
    optimizers.Adam(amsgrad=True).precompile("float64")
    assert (optimizers.adam.adam_amsgrad, 5, 4) in updates._loops


@pytest.fixture
def fresh_blocks(monkeypatch):
    """Small variables start a new shared block here, as in a fresh process; the block the tests before left open
    is put back afterwards. Without it, a block left with 12 to 25 free elements split the variables below into two
    runs, and the test failed or passed depending on the tests that ran before it."""
    monkeypatch.setattr(storage, "_open_blocks", {})


@pytest.mark.parametrize("make", [
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: optimizers.RMSprop(0.01, centered=True, momentum=0.5, global_clipnorm=0.5),
    lambda: optimizers.Adam(0.01, amsgrad=True),
    lambda: optimizers.AdamW(0.01, weight_decay=0.1),
], ids=["sgd-nesterov", "rmsprop-centered-momentum-clipped", "adam-amsgrad", "adamw"])
@pytest.mark.fast_kernels
def test_small_variables_updated_together_equal_one_by_one(make, fresh_blocks):
    """A model's small variables lie back to back (kernels/storage.py), their slots too, and are updated as one
    array; the result is the same, bit for bit, as updating each variable alone."""
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,), (4, 2), (2,)]
    values = [rng.standard_normal(s) for s in shapes]
    together = [Variable(v, dtype="float32") for v in values]
    assert len(storage.contiguous_runs([v.storage for v in together])) == 1
    alone = []
    for v in values:
        alone.append(Variable(v, dtype="float32"))
        Variable(np.zeros(1), dtype="float32")  # a gap, so that these are not back to back
    assert storage.contiguous_runs([v.storage for v in alone]) == []
    opt_together, opt_alone = make(), make()
    for _ in range(3):
        grads = [grad_of(np.asarray(v.value, dtype="float64")) for v in together]  # float64: cast on the way
        opt_together.apply(grads, together)
        opt_alone.apply(grads, alone)
    slots = [[s for s in opt_together.variables[1:]][k::len(opt_together.slot_names())]
             for k in range(len(opt_together.slot_names()))]
    assert len(storage.contiguous_runs([v.storage for v in together], *slots)) == 1  # one pass updated them all
    for a, b in zip(together, alone):
        np.testing.assert_array_equal(a.value, b.value)
    for a, b in zip(opt_together.get_state(), opt_alone.get_state()):
        np.testing.assert_array_equal(a, b)
    state = opt_together.get_state()
    opt_together.set_state([np.zeros_like(s) for s in state])
    opt_together.set_state(state)
    np.testing.assert_array_equal(opt_together.get_state()[-1], state[-1])


def test_a_custom_update_step_sees_every_variable_one_by_one():
    """Keras's hook still works: an optimizer that overrides update_step gets each variable, runs or not."""
    class SignDescent(optimizers.Optimizer):
        def update_step(self, gradient, variable, learning_rate):
            variable.assign_sub(learning_rate * np.sign(gradient))

    together = [Variable(np.ones(s), dtype="float32") for s in [(2, 3), (3,)]]
    SignDescent(0.5).apply([np.ones((2, 3)), -np.ones(3)], together)
    np.testing.assert_array_equal(together[0].value, 0.5)
    np.testing.assert_array_equal(together[1].value, 1.5)


def test_large_float16_variables_are_updated_by_numpy():
    """Numba has no float16 arithmetic: such variables take the NumPy rule, whatever their size."""
    w = Variable(np.ones(updates.COMPILED_MIN_SIZE), dtype="float16")
    optimizers.RMSprop(0.01).apply([np.ones(updates.COMPILED_MIN_SIZE, dtype="float16")], [w])
    expected = 1 - np.float16(0.01) / np.sqrt(np.float16(0.1) + np.float16(1e-7))
    np.testing.assert_allclose(w.value, expected, rtol=1e-3)
    assert w.dtype == np.float16


def test_a_copied_model_trains_on_its_own_weights():
    """Runs view the variables' storage, so a copy must lay out its own: the copy then trains exactly as the
    original does, and neither touches the other's weights."""
    import copy

    import glassnet as keras
    from glassnet import layers

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)).astype("float32"), rng.standard_normal((64, 1)).astype("float32")
    model = keras.Sequential([layers.Input((4,)), layers.Dense(8, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse")
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    twin = copy.deepcopy(model)
    before = [w.copy() for w in model.get_weights()]
    twin.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.array_equal(model.get_weights()[0], before[0])

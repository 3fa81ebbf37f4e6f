"""SimpleRNN, LSTM and GRU: the same programs in Keras 3 and glassnet from the same weights (outputs, states, masks,
go_backwards, parameter counts, summary rows, configs, weight names), gradients against PyTorch's nn.RNN, nn.LSTM
and nn.GRU, dropout only in training, a model that trains through fit exactly as Keras's does, and the errors."""

import re

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers
from glassnet.autodiff import Tensor, gradcheck
from tests.layers.keras_peer import TOLERANCE, comparable, same_program

RNN_LAYERS = {
    "simple_rnn": ("SimpleRNN", {"units": 5}),
    "simple_rnn-relu-no-bias": ("SimpleRNN", {"units": 3, "activation": "relu", "use_bias": False}),
    "lstm": ("LSTM", {"units": 5}),
    "lstm-no-forget-bias-hard-sigmoid": ("LSTM", {"units": 4, "unit_forget_bias": False,
                                                  "recurrent_activation": "hard_sigmoid"}),
    "lstm-no-bias": ("LSTM", {"units": 3, "use_bias": False}),
    "gru": ("GRU", {"units": 5}),
    "gru-reset-before": ("GRU", {"units": 4, "reset_after": False}),
    "gru-no-bias": ("GRU", {"units": 3, "use_bias": False}),
}
SEQUENCE_OPTIONS = {
    "last": {},
    "sequences": {"return_sequences": True},
    "backwards": {"go_backwards": True},
    "backwards-sequences": {"go_backwards": True, "return_sequences": True},
}


def same_config(keras_config: dict, glass_config: dict) -> None:
    """Every key of Keras's config with the same value in glassnet's (initializers by class name: Keras's newer
    GlorotUniform also stores input_axes/output_axes)."""
    def reduced(config):
        return {k: v[0] if isinstance(v, tuple) else v for k, v in comparable(config).items()}

    expected, got = reduced(keras_config), reduced(glass_config)
    assert {k: got.get(k, "missing") for k in expected} == expected


def same_recurrent_layer(keras, name: str, config: dict, x):
    """One recurrent layer after an Input, compared as ``same_program`` compares it (random weights), plus its
    weights' names and its config, which also rebuilds the layer."""
    km, gm = same_program(keras, x.shape[1:], lambda ls: [getattr(ls, name)(**config)], x, random_weights=True)
    assert [w.name for w in gm.weights] == [w.path.split("/", 1)[1] for w in km.weights]  # Keras adds the model
    same_config(km.layers[0].get_config(), gm.layers[0].get_config())
    rebuilt = layers.deserialize(layers.serialize(gm.layers[0]))
    assert rebuilt.get_config() == gm.layers[0].get_config()
    return km, gm


def sequences(batch=3, timesteps=6, features=4, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, timesteps, features)).astype("float32")


def ragged_mask():
    """Padding at the end, at the start, a hole in the middle, and a fully masked sequence."""
    mask = np.ones((4, 6), dtype=bool)
    mask[0, 4:] = False
    mask[1, :2] = False
    mask[2, 2] = False
    mask[3, :] = False
    return mask


def keras_and_glassnet(keras, name, config, features=4, seed=3):
    """The same layer in both libraries, built, with glassnet's weights set to Keras's (made random)."""
    keras_layer, glass_layer = getattr(keras.layers, name)(**config), getattr(layers, name)(**config)
    keras_layer.build((None, 6, features))
    glass_layer.build((None, 6, features))
    rng = np.random.default_rng(seed)
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in keras_layer.get_weights()]
    keras_layer.set_weights(weights)
    glass_layer.set_weights(weights)
    return keras_layer, glass_layer


def as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


@pytest.mark.parametrize("options", SEQUENCE_OPTIONS.values(), ids=SEQUENCE_OPTIONS.keys())
@pytest.mark.parametrize("name, config", RNN_LAYERS.values(), ids=RNN_LAYERS.keys())
def test_recurrent_layer_is_the_keras_layer(keras, name, config, options):
    same_recurrent_layer(keras, name, {**config, **options}, sequences())


@pytest.mark.parametrize("options", SEQUENCE_OPTIONS.values(), ids=SEQUENCE_OPTIONS.keys())
@pytest.mark.parametrize("name, config", RNN_LAYERS.values(), ids=RNN_LAYERS.keys())
def test_masked_steps_carry_the_state_as_in_keras(keras, name, config, options):
    keras_layer, glass_layer = keras_and_glassnet(keras, name, {**config, **options})
    x, mask = sequences(batch=4), ragged_mask()
    expected = keras.ops.convert_to_numpy(keras_layer(x, mask=mask))
    got = glass_layer(x, mask=mask).numpy()
    np.testing.assert_allclose(got, expected, **TOLERANCE)


@pytest.mark.parametrize("name, config", RNN_LAYERS.values(), ids=RNN_LAYERS.keys())
def test_return_state_gives_keras_final_states(keras, name, config):
    for options, mask in (({}, None), ({"return_sequences": True, "go_backwards": True}, ragged_mask())):
        keras_layer, glass_layer = keras_and_glassnet(keras, name, {**config, **options, "return_state": True})
        x = sequences(batch=4)
        expected = [keras.ops.convert_to_numpy(t) for t in keras_layer(x, mask=mask)]
        got = [t.numpy() for t in glass_layer(x, mask=mask)]
        assert len(got) == len(expected) == 2 + (name == "LSTM")
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, **TOLERANCE)
        assert glass_layer.compute_output_shape((None, 6, 4)) == keras_layer.compute_output_shape((None, 6, 4))


def test_the_mask_passes_on_only_with_sequences():
    x, mask = Tensor(sequences(batch=4)), ragged_mask()
    layer = layers.LSTM(3, return_sequences=True)
    assert layer.compute_mask(x, mask) is mask
    assert layers.LSTM(3).compute_mask(x, mask) is None
    assert layers.GRU(2, return_state=True).compute_mask(x, mask) == [None, None]


def test_weights_follow_keras_layout_and_initializers():
    layer = layers.LSTM(4, name="l")
    layer.build((None, 7, 3))
    assert [w.name for w in layer.weights] == ["l/lstm_cell/kernel", "l/lstm_cell/recurrent_kernel", "l/lstm_cell/bias"]
    kernel, recurrent, bias = layer.get_weights()
    assert kernel.shape == (3, 16) and recurrent.shape == (4, 16) and bias.shape == (16,)
    np.testing.assert_array_equal(bias, [0] * 4 + [1] * 4 + [0] * 8)  # unit_forget_bias: b_f starts at 1
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)  # orthogonal rows
    assert layer.count_params() == 3 * 16 + 4 * 16 + 16
    gru = layers.GRU(2)
    gru.build((None, None, 5))
    assert [w.shape for w in gru.weights] == [(5, 6), (2, 6), (2, 6)]
    assert gru.compute_output_shape((None, None, 5)) == (None, 2)
    assert layers.GRU(2, reset_after=False, return_sequences=True).compute_output_shape((8, 3, 5)) == (8, 3, 2)


def test_a_stacked_model_is_the_keras_model(keras):
    same_program(keras, (6, 4), lambda ls: [
        ls.LSTM(5, return_sequences=True), ls.GRU(4, return_sequences=True, go_backwards=True), ls.SimpleRNN(3),
        ls.Dense(2, activation="softmax"),
    ], sequences(), random_weights=True)


# ----- gradients against PyTorch ---------------------------------------------------------------------------------
def torch_twin(torch, name: str, weights: list[np.ndarray], units: int):
    """PyTorch's layer with the same weights. PyTorch stores W·x (weights transposed); its LSTM gates are i, f, g, o
    as Keras's; its GRU gates are r, z, n where Keras's are z, r, h, with the recurrent bias inside r ⊙ (…) as
    Keras's reset_after=True."""
    kernel, recurrent, bias = (np.asarray(w, dtype=np.float64) for w in weights)
    module = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[name](
        kernel.shape[0], units, batch_first=True, dtype=torch.float64)
    if name == "GRU":
        order = np.concatenate([np.arange(units, 2 * units), np.arange(units), np.arange(2 * units, 3 * units)])
        kernel, recurrent, input_bias, recurrent_bias = kernel[:, order], recurrent[:, order], bias[0][order], \
            bias[1][order]
    else:
        input_bias, recurrent_bias = bias, np.zeros_like(bias)
    with torch.no_grad():
        for target, value in ((module.weight_ih_l0, kernel.T), (module.weight_hh_l0, recurrent.T),
                              (module.bias_ih_l0, input_bias), (module.bias_hh_l0, recurrent_bias)):
            target.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return module


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_gradients_through_time_are_pytorchs(name):
    torch = pytest.importorskip("torch")
    units, rng = 4, np.random.default_rng(7)
    x = rng.normal(size=(3, 5, 2))
    layer = getattr(layers, name)(units, return_sequences=True, dtype="float64")
    layer.build(x.shape)
    layer.set_weights([rng.normal(scale=0.6, size=w.shape) for w in layer.weights])
    module = torch_twin(torch, name, layer.get_weights(), units)
    probe = rng.normal(size=(3, 5, units))

    x_glass = Tensor(x, requires_grad=True)
    (layer(x_glass) * probe).sum().backward()
    x_torch = torch.tensor(x, requires_grad=True)
    outputs, _ = module(x_torch)
    (outputs * torch.from_numpy(probe)).sum().backward()

    np.testing.assert_allclose(x_glass.grad, x_torch.grad.numpy(), rtol=1e-10, atol=1e-12)
    kernel, recurrent, bias = (w.grad for w in layer.weights)
    torch_kernel, torch_recurrent = module.weight_ih_l0.grad.numpy().T, module.weight_hh_l0.grad.numpy().T
    if name == "GRU":  # back from PyTorch's r, z, n to Keras's z, r, h
        order = np.concatenate([np.arange(units, 2 * units), np.arange(units), np.arange(2 * units, 3 * units)])
        torch_kernel, torch_recurrent = torch_kernel[:, order], torch_recurrent[:, order]
        torch_bias = np.stack([module.bias_ih_l0.grad.numpy()[order], module.bias_hh_l0.grad.numpy()[order]])
    else:
        torch_bias = module.bias_ih_l0.grad.numpy()
    np.testing.assert_allclose(kernel, torch_kernel, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(recurrent, torch_recurrent, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bias, torch_bias, rtol=1e-10, atol=1e-12)


GRADCHECK_CASES = {
    "simple_rnn-backwards": ("SimpleRNN", {"go_backwards": True}),
    "lstm-sequences": ("LSTM", {"return_sequences": True}),
    "gru-reset-before-backwards": ("GRU", {"reset_after": False, "go_backwards": True, "return_sequences": True}),
    "gru-sequences-zero-masked": ("GRU", {"return_sequences": True, "zero_output_for_mask": True}),
}


@pytest.mark.parametrize("name, config", GRADCHECK_CASES.values(), ids=GRADCHECK_CASES.keys())
def test_masked_gradients_by_central_differences(name, config):
    """d(output) with respect to the inputs, W, U, b and the initial states, through masked steps, by central
    differences in float64 (the cell's weights swapped for the checked values)."""
    rng = np.random.default_rng(8)
    layer = getattr(layers, name)(3, dtype="float64", **config)
    layer.build((4, 5, 2))
    mask = ragged_mask()[:, :5]
    mask[3, 1] = True  # the fully masked row keeps one step

    def through_layer(x, kernel, recurrent, bias, *states):
        cell = layer.cell
        saved = cell.kernel, cell.recurrent_kernel, cell.bias
        cell.kernel, cell.recurrent_kernel, cell.bias = kernel, recurrent, bias
        try:
            return layer.call(x, mask=mask, initial_state=list(states))
        finally:
            cell.kernel, cell.recurrent_kernel, cell.bias = saved

    weights = [rng.normal(scale=0.6, size=w.shape) for w in layer.weights]
    states = [rng.normal(size=(4, 3)) for _ in layer.cell.state_size]
    gradcheck(through_layer, [rng.normal(size=(4, 5, 2)), *weights, *states])


# ----- dropout ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_dropout_acts_only_in_training(name):
    x = sequences(batch=8)
    plain = getattr(layers, name)(6, return_sequences=True)
    dropped = getattr(layers, name)(6, return_sequences=True, dropout=0.5, recurrent_dropout=0.3, seed=1)
    plain.build(x.shape)
    dropped.build(x.shape)
    dropped.set_weights(plain.get_weights())
    np.testing.assert_array_equal(dropped(x).numpy(), plain(x).numpy())
    first, second = dropped(x, training=True).numpy(), dropped(x, training=True).numpy()
    assert not np.allclose(first, plain(x).numpy()) and not np.allclose(first, second)  # new masks per call


def test_a_model_with_dropout_and_masks_trains_on_a_replayed_step():
    """fit's recorded step draws new dropout masks on every replay and recomputes the masks from each batch: the
    plan passes its check against the eager step (same draws) and stays in use; the loss goes down."""
    x, y = regression_data()
    x[:8, 5:] = 0  # padding that Masking turns into a mask
    layers.reset_uids()
    gk.utils.set_random_seed(2)
    model = gk.Sequential([gk.Input((7, 3)), layers.Masking(), layers.Bidirectional(
        layers.LSTM(4, dropout=0.2, recurrent_dropout=0.2, return_sequences=True)),
        layers.GRU(3, dropout=0.1, recurrent_dropout=0.3), layers.Dense(1)])
    model.compile(optimizer=gk.optimizers.Adam(0.02), loss="mse")
    history = model.fit(x, y, batch_size=10, epochs=12, shuffle=False, verbose=0)
    (entry,) = model._cached_step.plans.values()
    assert entry != "eager" and entry.verified
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]


def test_input_dropout_keeps_one_mask_for_the_whole_sequence():
    """Keras draws one input mask per sequence: a feature dropped at one timestep is dropped at all of them.
    With a zero recurrent kernel and no bias, h_t = tanh(mask ⊙ x_t · W) shows the mask through an identity W."""
    layer = layers.SimpleRNN(4, use_bias=False, dropout=0.5, seed=3, return_sequences=True,
                             kernel_initializer="identity", recurrent_initializer="zeros")
    x = np.ones((16, 5, 4), dtype="float32")
    h = layer(x, training=True).numpy()
    kept = h != 0
    assert kept.any() and (~kept).any()
    assert (kept == kept[:, :1]).all()  # the same features kept at every timestep
    np.testing.assert_allclose(h[kept], np.tanh(2.0), rtol=1e-6)  # kept values scaled by 1/(1 − rate)


# ----- training --------------------------------------------------------------------------------------------------
def regression_data():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(20, 7, 3)).astype("float32")
    return x, x.sum(axis=(1, 2))[:, None].astype("float32") / 5


def fit_as_in_keras(keras, kind: str, config: dict, x, y) -> str:
    """``kind``(4, **config) then Dense(1), in Keras and glassnet from the same weights, fit for 2 epochs of SGD on
    batches of 8: the same weights and losses after; glassnet's written-out step."""
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km = keras.Sequential([keras.Input(x.shape[1:]), getattr(keras.layers, kind)(4, **config), keras.layers.Dense(1)])
    gm = gk.Sequential([gk.Input(x.shape[1:]), getattr(layers, kind)(4, **config), layers.Dense(1)])
    gm.set_weights(km.get_weights())
    km.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    gm.compile(optimizer=gk.optimizers.SGD(0.05), loss="mse")
    keras_history = km.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    glass_history = gm.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for got, expected in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(glass_history.history["loss"], keras_history.history["loss"], rtol=1e-5)
    return gm.step_source()


def test_an_lstm_trains_in_fit_as_in_keras(keras):
    """fit records the first step and replays it on the next batches: 6 SGD steps from the same weights land on
    Keras's weights, and the written-out step is the step fit runs."""
    source = fit_as_in_keras(keras, "LSTM", {}, *regression_data())
    assert "xW_all = x_all·W[1] + b[1]" in source  # every step's input part in one product
    for step in range(1, 8):  # each step's values under their own names, the recurrent kernel U[1]
        assert f"a⟨{step}⟩ = [σ(z_i⟨{step}⟩), σ(z_f⟨{step}⟩), tanh(z_c⟨{step}⟩), σ(z_o⟨{step}⟩)]" in source
        assert f"c⟨{step}⟩ = f⟨{step}⟩ ⊙ c⟨{step - 1}⟩ + i⟨{step}⟩ ⊙ c̃⟨{step}⟩" in source
        assert f"h⟨{step}⟩ = o⟨{step}⟩ ⊙ tanh(c⟨{step}⟩)" in source
        assert f"xW⟨{step}⟩ = xW_all[{4 * (step - 1)}:{4 * step}]" in source  # recorded on 4 samples
    assert "a_7 = lstm_lstm_gates_7.forward(z_7)" in source and "U1 = lstm/lstm_cell/recurrent_kernel" in source
    for step in range(1, 7):  # c⟨t⟩'s two paths (the next cell state, the output): the part goes once added
        assert f"    dc_{step} = dc_{step} + dc_{step}_part; del dc_{step}_part  # the sum over paths" in source
    assert "Z[2] = h⟨7⟩·W[2] + b[2]" in source


@pytest.mark.parametrize("kind, go_backwards", [("LSTM", False), ("GRU", True), ("SimpleRNN", False)])
def test_a_long_sequence_projects_its_inputs_block_by_block_and_trains_as_in_keras(keras, monkeypatch, kind,
                                                                                 go_backwards):
    """Past BLOCK_ROWS rows (timesteps × batch) the input parts xW⟨t⟩ = x⟨t⟩·W + b come from one product per block
    of timesteps, each made when the loop reaches the block (forwards or backwards) and let go after its last step:
    with 24 rows a block, 8 samples take blocks of 3 steps (the last holds one), and fit still lands on Keras's
    weights."""
    from glassnet.layers import recurrent

    monkeypatch.setattr(recurrent, "BLOCK_ROWS", 24)
    x, y = (a[:16] for a in regression_data())  # two batches of 8
    source = fit_as_in_keras(keras, kind, {"go_backwards": go_backwards}, x, y)  # recorded on 8 samples
    assert "xW_all" not in source
    assert "x⟨4:6⟩ = x_all[24:48]" in source and "x⟨7:7⟩ = x_all[48:56]" in source
    bias = {"LSTM": " + b[1]", "GRU": " + b_W", "SimpleRNN": " + b[1]"}[kind]  # a GRU's b_W: its bias's first row
    assert f"# xW⟨4:6⟩ = x⟨4:6⟩·W[1]{bias}\n" in source
    assert len(re.findall(r"\.forward\(x_4_6, W1, (b1|b_W)\)", source)) == 1  # the bias taken once per sequence
    assert "xW⟨5⟩ = xW⟨4:6⟩[8:16]" in source


@pytest.mark.parametrize("reset_after", [True, False])
def test_a_gru_slices_its_weights_once_per_sequence(reset_after):
    """The slices every step reads (reset_after: the bias's second row b_U; without it, U's two parts) are taken
    once, before the steps, and each step's blocks carry their gate's name; the steps' values are the same as with
    the slices taken at every step (the layer's Keras comparisons above hold them to Keras's)."""
    gk.utils.set_random_seed(0)
    model = gk.Sequential([gk.Input((3, 2)), layers.GRU(4, reset_after=reset_after,
                                                         bias_initializer="random_normal"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    model.train_on_batch(rng.normal(size=(5, 3, 2)), rng.normal(size=(5, 1)))
    source = model.step_source()
    slices = [line.split("  # ")[1] for line in source.splitlines()
              if re.search(r"= \w+\.forward\((U1|bias1)\)", line)]
    if reset_after:
        assert slices == ["b_W = bias[1][0]", "b_U = bias[1][1]"]
        assert "hU⟨3⟩ = h⟨2⟩·U[1] + b_U" in source and "dbias1 = " in source
    else:
        assert slices == ["U_zr = U[1][:, :8]", "U_h = U[1][:, 8:]"]
        assert "hU⟨3⟩ = h⟨2⟩·U_zr" in source and re.search(r"add_\d+ = xW_z⟨3⟩ \+ hU_z⟨3⟩", source)


def test_penalties_and_constraints_are_keras(keras):
    """The three weights' regularizers add Keras's penalties; their constraints hold after each update as in Keras."""
    x, y = regression_data()
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()

    def make(ls):
        return [ls.GRU(3, kernel_regularizer="l2", recurrent_regularizer="l1", bias_regularizer="l2",
                       kernel_constraint="non_neg", recurrent_constraint="unit_norm",
                       bias_constraint={"class_name": "MaxNorm", "config": {"max_value": 0.5, "axis": 0}}),
                ls.Dense(1)]

    km = keras.Sequential([keras.Input((7, 3)), *make(keras.layers)])
    gm = gk.Sequential([gk.Input((7, 3)), *make(layers)])
    gm.set_weights(km.get_weights())
    expected = sum(float(keras.ops.convert_to_numpy(loss)) for loss in km.losses)
    assert sum(float(loss.numpy()) for loss in gm.losses) == pytest.approx(expected, rel=1e-5)
    same_config(km.layers[0].get_config(), gm.layers[0].get_config())
    for model, optimizers in ((km, keras.optimizers), (gm, gk.optimizers)):
        model.compile(optimizer=optimizers.SGD(0.05), loss="mse")
        model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert (gm.get_weights()[0] >= 0).all()


# ----- errors ----------------------------------------------------------------------------------------------------
def test_wrong_rank_names_the_layer_the_layout_and_the_shape():
    with pytest.raises(ValueError, match=r"LSTM 'lstm' expects inputs of rank 3 \(batch, timesteps, features\), "
                                         r"received shape \(32, 10\); .*x.reshape\(\(32, 10, 1\)\)"):
        layers.LSTM(4)(np.zeros((32, 10), dtype="float32"))
    with pytest.raises(ValueError, match=r"GRU 'gru' expects inputs of rank 3 \(batch, timesteps, features\), "
                                         r"received shape \(2, 3, 4, 5\)"):
        layers.GRU(2)(np.zeros((2, 3, 4, 5), dtype="float32"))
    with pytest.raises(ValueError, match=r"SimpleRNN 'simple_rnn' expects inputs of rank 3 .*\(None, 28\)"):
        gk.Sequential([gk.Input((28,)), layers.SimpleRNN(3)])
    layer = layers.LSTM(2)
    layer(np.zeros((1, 4, 3), dtype="float32"))
    with pytest.raises(ValueError, match=r"last dimension 3, received shape \(1, 4, 5\)"):
        layer(np.zeros((1, 4, 5), dtype="float32"))


def test_unsupported_and_invalid_arguments_are_refused():
    with pytest.raises(NotImplementedError, match=r"LSTM 'lstm': stateful=True is not supported.*stateful=False"):
        layers.LSTM(3, stateful=True)
    with pytest.raises(ValueError, match=r"expected a positive integer, got 0"):
        layers.GRU(0)
    with pytest.raises(ValueError, match=r"`dropout` must be a float.*'a lot'"):
        layers.LSTM(2, dropout="a lot")
    layer = layers.LSTM(2)
    with pytest.raises(ValueError, match=r"LSTM 'lstm_\d+' needs at least one timestep in its inputs \(batch, "
                                         r"timesteps, features\), received shape \(1, 0, 3\)"):
        layer(np.zeros((1, 0, 3), dtype="float32"))
    with pytest.raises(ValueError, match=r"mask of shape \(batch, timesteps\) = \(1, 4\), received .*\(1, 3\)"):
        layer(np.zeros((1, 4, 3), dtype="float32"), mask=np.ones((1, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"initial_state as 2 tensor\(s\) of shapes \[\(1, 2\), \(1, 2\)\]"):
        layer(np.zeros((1, 4, 3), dtype="float32"), initial_state=[np.zeros((1, 2))])


def test_initial_state_starts_the_recurrence(keras):
    keras_layer, glass_layer = keras_and_glassnet(keras, "LSTM", {"units": 3, "return_sequences": True})
    x, mask = sequences(batch=4), ragged_mask()
    states = [np.random.default_rng(2).normal(size=(4, 3)).astype("float32") for _ in range(2)]
    expected = keras.ops.convert_to_numpy(keras_layer(x, initial_state=states, mask=mask))
    np.testing.assert_allclose(glass_layer(x, initial_state=states, mask=mask).numpy(), expected, **TOLERANCE)


def test_states_come_out_of_a_functional_model_as_in_keras(keras):
    """Called on keras.Input, return_state gives the output's and each state's symbolic tensor, as in Keras."""
    x = sequences(batch=4)
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()

    def build(k):
        inputs = k.Input((6, 4))
        outputs, h, c = k.layers.LSTM(3, return_state=True, return_sequences=True, go_backwards=True)(inputs)
        last, h_gru = k.layers.GRU(2, return_state=True)(outputs)
        return k.Model(inputs, [outputs, h, c, last, h_gru])

    km, gm = build(keras), build(gk)
    assert [tuple(t.shape) for t in gm.outputs] == [tuple(t.shape) for t in km.outputs]
    gm.set_weights(km.get_weights())
    for got, expected in zip(gm(x), km(x)):
        np.testing.assert_allclose(got.numpy(), keras.ops.convert_to_numpy(expected), **TOLERANCE)

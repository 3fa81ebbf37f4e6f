"""Conv1D and Conv2D: the same program in Keras 3 and glassnet from the same weights (outputs, parameter counts,
output shapes, summary rows, configs), the im2col gathers, a convnet that trains and whose written-out step is the
eager step, what inspect counts, and the errors a user meets."""


import numpy as np
import pytest

import glassnet as gk
from glassnet import inspect, kernels, layers, ops
from glassnet.autodiff import Tensor, gradcheck
from tests.layers.keras_peer import round_trips, same_program

CONFIG_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation",
               "use_bias")

CONV2D = {
    "default": {"filters": 4, "kernel_size": 3},
    "strided-same-relu": {"filters": 5, "kernel_size": (2, 3), "strides": 2, "padding": "same", "activation": "relu"},
    "uneven-strides": {"filters": 3, "kernel_size": (3, 2), "strides": (2, 1)},
    "dilated-same-no-bias": {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "same", "use_bias": False},
    "dilated-one-axis": {"filters": 4, "kernel_size": (2, 3), "dilation_rate": (2, 1), "activation": "tanh"},
    "odd-same-split": {"filters": 3, "kernel_size": 4, "strides": 3, "padding": "SAME"},  # pads (0, 1) and (1, 1)
    "pointwise": {"filters": 6, "kernel_size": 1},
}
CONV1D = {
    "default": {"filters": 4, "kernel_size": 3},
    "strided-same-relu": {"filters": 2, "kernel_size": 4, "strides": 2, "padding": "same", "activation": "relu"},
    "causal-dilated": {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "padding": "causal"},
    "strided-no-bias": {"filters": 5, "kernel_size": 2, "strides": 3, "use_bias": False},
}


@pytest.mark.parametrize("config", CONV2D.values(), ids=CONV2D.keys())
def test_conv2d_is_keras_conv2d(keras, config):
    x = np.random.default_rng(0).normal(size=(2, 9, 8, 3)).astype("float32")
    km, gm = same_program(keras, (9, 8, 3), lambda ls: [ls.Conv2D(**config)], x)
    k_config, g_config = km.layers[0].get_config(), gm.layers[0].get_config()
    assert {k: g_config[k] for k in CONFIG_KEYS} == {k: k_config[k] for k in CONFIG_KEYS}
    again = layers.deserialize(layers.serialize(gm.layers[0]))
    assert again.get_config() == g_config


@pytest.mark.parametrize("config", CONV1D.values(), ids=CONV1D.keys())
def test_conv1d_is_keras_conv1d(keras, config):
    x = np.random.default_rng(1).normal(size=(3, 11, 3)).astype("float32")
    km, gm = same_program(keras, (11, 3), lambda ls: [ls.Conv1D(**config)], x)
    k_config, g_config = km.layers[0].get_config(), gm.layers[0].get_config()
    assert {k: g_config[k] for k in CONFIG_KEYS} == {k: k_config[k] for k in CONFIG_KEYS}


def test_a_convnet_is_the_keras_convnet(keras):
    """Book-style stacks: convolutions, poolings, a global pooling and a dense head, same weights, same outputs
    (the 'same' average pooling pads one column after: with 2-wide windows Keras-on-torch's replicated edge gives
    TensorFlow's mean too, see test_pooling)."""
    x = np.random.default_rng(2).normal(size=(4, 16, 15, 2)).astype("float32")
    same_program(keras, (16, 15, 2), lambda ls: [
        ls.Conv2D(8, 3, activation="relu"), ls.MaxPooling2D(), ls.Conv2D(6, (2, 3), padding="same", strides=2),
        ls.AveragePooling2D(2, padding="same"), ls.Conv2D(4, 2, dilation_rate=2, padding="same", activation="relu"),
        ls.GlobalMaxPooling2D(), ls.Dense(3, activation="softmax"),
    ], x)
    same_program(keras, (20, 4), lambda ls: [
        ls.Conv1D(8, 5, activation="relu", padding="causal"), ls.MaxPooling1D(3, strides=2, padding="same"),
        ls.Conv1D(4, 3), ls.GlobalAveragePooling1D(), ls.Dense(1),
    ], np.random.default_rng(7).normal(size=(4, 20, 4)).astype("float32"))


def test_kernel_shape_and_weights_follow_keras_layout():
    layer = layers.Conv2D(8, (3, 2), name="c")
    out = layer(np.zeros((2, 10, 9, 5), dtype="float32"))
    assert out.shape == (2, 8, 8, 8)
    assert [v.name for v in layer.weights] == ["c/kernel", "c/bias"]
    assert layer.kernel.shape == (3, 2, 5, 8) and layer.bias.shape == (8,)
    assert layer.count_params() == 3 * 2 * 5 * 8 + 8
    assert layer.compute_output_shape((None, 10, 9, 5)) == (None, 8, 8, 8)
    assert layer.compute_output_shape((None, None, 9, 5)) == (None, None, 8, 8)
    assert layers.Conv1D(2, 3, use_bias=False).compute_output_shape((4, 7, 1)) == (4, 5, 2)


# ----- the ops and their gathers ---------------------------------------------------------------------------------
def test_conv_is_the_sum_it_states():
    """Z(n,i,j,o) = Σ_{p,q,c} X(n, i·s+p·d, j·s+q·d, c)·W(p,q,c,o) + b(o), written as loops."""
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 7, 6, 3)), rng.normal(size=(2, 3, 3, 4)), rng.normal(size=4)
    s, d = (2, 1), (1, 2)
    z = ops.conv(x, w, strides=s, dilation_rate=d, bias=b).numpy()
    expected = np.zeros((2, 3, 2, 4))
    for n, i, j, o in np.ndindex(*expected.shape):
        expected[n, i, j, o] = b[o] + sum(x[n, i * s[0] + p * d[0], j * s[1] + q * d[1], c] * w[p, q, c, o]
                                          for p, q, c in np.ndindex(2, 3, 3))
    np.testing.assert_allclose(z, expected, rtol=1e-12)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv_gradients_by_central_differences(padding):
    rng = np.random.default_rng(4)
    gradcheck(lambda x, w, b: ops.conv(x, w, strides=2, padding=padding, bias=b),
              [rng.normal(size=(2, 5, 6, 2)), rng.normal(size=(3, 2, 2, 3)), rng.normal(size=3)])
    gradcheck(lambda x, w: ops.conv(x, w, dilation_rate=2, padding=padding),
              [rng.normal(size=(2, 7, 2)), rng.normal(size=(3, 2, 2))])


def test_tf_same_padding_puts_the_odd_pixel_after():
    assert kernels.same_padding(5, 2, 2) == (0, 1)  # 3 outputs need 6 inputs
    assert kernels.same_padding(28, 3, 1) == (1, 1)
    assert kernels.same_padding(8, 4, 3) == (1, 1)
    assert kernels.same_padding(9, 4, 3) == (0, 1)
    assert kernels.same_padding(7, 3, 1, dilation=2) == (2, 2)
    assert kernels.same_padding(10, 1, 4) == (0, 0)


@pytest.mark.parametrize("window, strides, dilation, pads", [
    ((3, 3), (1, 1), (1, 1), [(0, 0), (0, 0)]), ((2, 3), (2, 1), (1, 2), [(0, 1), (2, 2)]),
    ((4,), (3,), (1,), [(1, 2)]),
])
def test_col2im_is_the_adjoint_of_im2col(window, strides, dilation, pads):
    """⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for every x and c: col2im sends each window entry back where it was read."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, *(9,) * len(window), 3))
    cols = kernels.im2col(x, window, strides, dilation, pads)
    c = rng.normal(size=cols.shape)
    back = kernels.col2im(c, x.shape, window, strides, dilation, pads)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)


# ----- training -------------------------------------------------------------------------------------------------
def tiny_data():
    """Noise images, the left half brighter in class 1."""
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, size=48)
    x = rng.random((48, 8, 8, 1)).astype("float32")
    x[y == 1, :, :4] += 0.5
    return x, y


def tiny_convnet(run_eagerly: bool) -> gk.Sequential:
    layers.reset_uids()
    gk.utils.set_random_seed(3)
    model = gk.Sequential([gk.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(),
                           layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=gk.optimizers.RMSprop(0.01), loss="sparse_categorical_crossentropy",
                  run_eagerly=run_eagerly)
    return model


def test_a_tiny_convnet_learns():
    x, y = tiny_data()
    history = tiny_convnet(False).fit(x, y, batch_size=16, epochs=8, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]


def test_fits_written_out_step_is_the_eager_step():
    x, y = tiny_data()
    eager, written = tiny_convnet(True), tiny_convnet(False)
    for a, b in zip(eager.get_weights(), written.get_weights()):
        np.testing.assert_array_equal(a, b)
    for model in (eager, written):  # 3 steps: the first recorded, the next replayed from the written-out step
        model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(eager.get_weights(), written.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    source = written.step_source()
    assert "conv2d_conv2d_bias.forward(X, " in source and "max_pooling2d_max_pool_relu2d.backward(" in source
    namespace = dict(source.bindings)
    exec(source, namespace)  # the text fit runs: its gradients are the eager walk's
    batch, labels = x[16:32], y[16:32].astype("float32")
    loss_value, _ = namespace["forward"](batch, labels)
    grads = namespace["backward"](np.ones((), dtype="float32"))
    for v in written.trainable_weights:
        v.grad = None
    loss = gk.losses.get("sparse_categorical_crossentropy")(labels, written(batch))
    loss.backward()
    assert float(loss_value) == pytest.approx(float(loss.numpy()), rel=1e-6)
    for g, v in zip(grads, written.trainable_weights):
        np.testing.assert_allclose(g, v.grad, rtol=1e-5, atol=1e-7)


# ----- inspect --------------------------------------------------------------------------------------------------
def test_inspect_counts_a_convolution():
    model = tiny_convnet(False)
    x, y = tiny_data()
    report = inspect.cost(model, batch_size=16)
    conv = next(c for c in report.layers if c.name == "conv2d")
    outputs = 16 * 6 * 6 * 4
    assert conv.params == 3 * 3 * 1 * 4 + 4
    assert conv.forward_flops == 2 * 3 * 3 * 1 * outputs + outputs  # X ⋆ W + b; its relu is the pooling's
    pooling = next(c for c in report.layers if c.name == "max_pooling2d")
    assert pooling.forward_flops == outputs  # a compare per input (from relu's 0 up: the fused MaxPoolRelu2d)
    graph = inspect.trace(model, x[:16], y[:16])
    node = next(n for n in graph.nodes if n.op == "Conv2dBias")
    assert node.backward_flops == 2 * 9 * outputs + outputs  # dW (and db; X needs no gradient)
    pool = next(n for n in graph.nodes if n.op == "MaxPoolRelu2d")
    assert pool.flops == outputs  # one compare per window element: the 2×2 windows tile the input
    text = str(inspect.explain(model, x[:4], y[:4]))
    assert "⋆" in text and "Σ_{p,q,c}" in text and "im2col(X)ᵀ" in text


# ----- errors ---------------------------------------------------------------------------------------------------
def test_wrong_rank_names_the_layer_the_layout_and_a_reshape():
    with pytest.raises(ValueError, match=r"Conv2D 'conv2d' expects inputs of rank 4 \(batch, height, width, "
                                         r"channels\), received shape \(32, 28, 28\); .*"
                                         r"x.reshape\(\(32, 28, 28, 1\)\)"):
        layers.Conv2D(8, 3)(np.zeros((32, 28, 28), dtype="float32"))
    with pytest.raises(ValueError, match=r"Conv1D 'conv1d' expects inputs of rank 3 \(batch, steps, channels\), "
                                         r"received shape \(4, 5, 6, 7\); reshape"):
        layers.Conv1D(2, 3)(np.zeros((4, 5, 6, 7), dtype="float32"))
    with pytest.raises(ValueError, match=r"expects inputs of rank 4 .* received shape \(None, 28, 28\).*"
                                         r"\(-1, 28, 28, 1\)"):
        gk.Sequential([gk.Input((28, 28)), layers.Conv2D(8, 3)])
    layer = layers.Conv2D(2, 3)
    layer(np.zeros((1, 5, 5, 3), dtype="float32"))
    with pytest.raises(ValueError, match=r"last dimension 3, received shape \(1, 5, 5, 1\)"):
        layer(np.zeros((1, 5, 5, 1), dtype="float32"))


def test_a_kernel_larger_than_the_input_is_refused_when_built():
    with pytest.raises(ValueError, match=r"Conv2D 'conv2d_1': kernel_size=\(5, 5\) is larger than the input's spatial "
                                         r"size \(1, 2\) with padding='valid'"):
        gk.Sequential([gk.Input((3, 4, 1)), layers.Conv2D(2, 3), layers.Conv2D(2, 5)])  # never reaches fit
    with pytest.raises(ValueError, match=r"spanning \(5,\) with dilation_rate=\(2,\)"):
        layers.Conv1D(2, 3, dilation_rate=2).build((None, 4, 1))
    assert layers.Conv2D(2, 5, padding="same").compute_output_shape((None, 3, 4, 1)) == (None, 3, 4, 2)
    with pytest.raises(ValueError, match=r"conv: the window \(3, 3\).*larger than the input's spatial size \(2, 2\)"):
        ops.conv(np.zeros((1, 2, 2, 1)), np.zeros((3, 3, 1, 1)))


def test_unsupported_arguments_are_refused_clearly():
    with pytest.raises(NotImplementedError, match="'channels_last' only.*transpose"):
        layers.Conv2D(2, 3, data_format="channels_first")
    with pytest.raises(NotImplementedError, match=r"groups=2"):
        layers.Conv2D(4, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        layers.Conv2D(4, 3, groups=0)
    with pytest.raises(ValueError, match=r"strides > 1.*dilation_rate > 1"):
        layers.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"filters=0"):
        layers.Conv2D(0, 3)
    with pytest.raises(ValueError, match=r"kernel_size.*Received kernel_size=\(3, 3, 3\)"):
        layers.Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match=r"padding.*'valid', 'same'\. Received padding='causal'"):
        layers.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match=r"kernel of shape \(\*kernel_size, 3, filters\).*\(3, 3, 2, 4\)"):
        ops.conv(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 2, 4)))
    with pytest.raises(ValueError, match=r"conv expects inputs of rank 3 .* or 4 .*received shape \(5, 5\)"):
        ops.conv(np.zeros((5, 5)), np.zeros((3, 3)))
    with pytest.raises(NotImplementedError, match="channels_last"):
        ops.conv(Tensor(np.zeros((1, 3, 5, 5))), np.zeros((3, 3, 3, 1)), data_format="channels_first")


# ----- files ----------------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # no optimizer state is written
def test_a_convnet_round_trips_through_keras_files(keras, tmp_path):
    pytest.importorskip("h5py", reason="Keras .keras files need the 'keras-files' extra (h5py)")
    model = tiny_convnet(False)
    x, _ = tiny_data()
    round_trips(keras, model, x, tmp_path)


def test_weight_penalties_are_keras_penalties(keras):
    x = np.random.default_rng(8).normal(size=(2, 6, 6, 2)).astype("float32")

    def make(ls):
        return [ls.Conv2D(3, 2, kernel_regularizer="l2", bias_regularizer="l1", bias_initializer="ones")]

    km, gm = same_program(keras, (6, 6, 2), make, x)
    expected = sum(float(keras.ops.convert_to_numpy(loss)) for loss in km.losses)
    assert sum(float(loss.numpy()) for loss in gm.losses) == pytest.approx(expected, rel=1e-6)
    kernel, bias = gm.get_weights()
    assert expected == pytest.approx(0.01 * np.sum(kernel**2) + 0.01 * np.sum(np.abs(bias)), rel=1e-6)

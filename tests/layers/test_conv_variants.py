"""DepthwiseConv1D/2D, SeparableConv1D/2D, Conv1DTranspose/Conv2DTranspose: the same program in Keras 3 and
glassnet from the same weights (outputs, gradients, parameter counts, output shapes, summary rows, configs, weight
names), their two ops against PyTorch and central differences, the sums they state, and the errors a user meets."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import glassnet as gk
from glassnet import layers, ops
from glassnet.autodiff import Tensor, gradcheck
from glassnet.autodiff import ops_conv as cv
from tests.layers.keras_peer import TOLERANCE, round_trips, same_program

DEPTHWISE = {
    "default": {"kernel_size": 3},
    "multiplier-strided-same": {"kernel_size": (2, 3), "strides": 2, "padding": "same", "depth_multiplier": 2,
                                "activation": "relu"},
    "dilated-no-bias": {"kernel_size": 2, "dilation_rate": (2, 1), "use_bias": False, "depth_multiplier": 3},
}
SEPARABLE = {
    "default": {"filters": 4, "kernel_size": 3},
    "multiplier-same": {"filters": 5, "kernel_size": (3, 2), "padding": "same", "depth_multiplier": 2,
                        "activation": "tanh"},
    "strided-no-bias": {"filters": 3, "kernel_size": 2, "strides": (2, 1), "use_bias": False},
    "dilated": {"filters": 2, "kernel_size": 3, "dilation_rate": 2},
}
TRANSPOSE = {
    "default": {"filters": 4, "kernel_size": 3},
    "strided": {"filters": 3, "kernel_size": 3, "strides": 2},
    "strides-wider-than-kernel": {"filters": 2, "kernel_size": 2, "strides": 3},
    "same": {"filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
    "same-strided-odd": {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},  # pads 0 before
    "same-strided-even": {"filters": 2, "kernel_size": (4, 2), "strides": 2, "padding": "same"},
    "output-padding": {"filters": 2, "kernel_size": 3, "strides": (2, 3), "output_padding": (1, 2)},
    "same-output-padding": {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 1},
    "dilated-no-bias": {"filters": 3, "kernel_size": 2, "dilation_rate": 2, "use_bias": False},
}
ONE_D = [("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same"}),
         ("SeparableConv1D", {"filters": 3, "kernel_size": 4, "dilation_rate": 2}),
         ("Conv1DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}),
         ("Conv1DTranspose", {"filters": 2, "kernel_size": 4, "strides": 3, "output_padding": 2})]
CASES = ([("DepthwiseConv2D", c) for c in DEPTHWISE.values()] + [("SeparableConv2D", c) for c in SEPARABLE.values()]
         + [("Conv2DTranspose", c) for c in TRANSPOSE.values()] + ONE_D)
IDS = ([f"depthwise-{k}" for k in DEPTHWISE] + [f"separable-{k}" for k in SEPARABLE]
       + [f"transpose-{k}" for k in TRANSPOSE] + [f"{name}-{i}" for i, (name, _) in enumerate(ONE_D)])


def comparable(config: dict) -> dict:
    """A config without name/trainable/dtype, initializers by class name (Keras's GlorotUniform also stores its
    newer input_axes/output_axes arguments, which glassnet's initializers do not take)."""
    return {key: (value["class_name"] if isinstance(value, dict) and "class_name" in value else value)
            for key, value in config.items() if key not in ("name", "trainable", "dtype")}


def keras_gradients(keras, model, x, upstream):
    """d(Σ upstream·model(x))/d(x, weights) in Keras on torch: the input's gradient, then one per weight."""
    xt = torch.tensor(x, requires_grad=True)
    out = model(xt, training=False)
    (out * torch.tensor(upstream)).sum().backward()
    return [xt.grad.numpy()] + [w.value.grad.numpy() for w in model.trainable_weights]


def glassnet_gradients(model, x, upstream):
    xt = Tensor(x, requires_grad=True)
    for w in model.trainable_weights:
        w.grad = None
    (model(xt, training=False) * upstream).sum().backward()
    return [xt.grad] + [w.grad for w in model.trainable_weights]


@pytest.mark.parametrize("name, config", CASES, ids=IDS)
def test_layer_is_the_keras_layer_with_its_gradients(keras, name, config):
    rank = 1 if name.endswith("1D") or name == "Conv1DTranspose" else 2
    input_shape = (9, 3) if rank == 1 else (9, 8, 3)
    rng = np.random.default_rng(len(IDS))
    x = rng.normal(size=(2, *input_shape)).astype("float32")
    km, gm = same_program(keras, input_shape, lambda ls: [getattr(ls, name)(**config)], x, random_weights=True)
    assert [w.name for w in gm.weights] == [w.path.split("/", 1)[1] for w in km.weights]
    k_config, g_config = comparable(km.layers[0].get_config()), comparable(gm.layers[0].get_config())
    assert g_config == k_config
    rebuilt = layers.deserialize(layers.serialize(gm.layers[0]))
    assert rebuilt.get_config() == gm.layers[0].get_config()
    upstream = rng.normal(size=km.layers[0].output.shape[1:]).astype("float32")
    for got, expected in zip(glassnet_gradients(gm, x, upstream), keras_gradients(keras, km, x, upstream)):
        np.testing.assert_allclose(got, expected, **TOLERANCE)


def test_weights_follow_keras_layout():
    depthwise = layers.DepthwiseConv2D(3, depth_multiplier=2, name="d")
    assert depthwise(np.zeros((1, 6, 5, 4), "float32")).shape == (1, 4, 3, 8)
    assert [(v.name, v.shape) for v in depthwise.weights] == [("d/kernel", (3, 3, 4, 2)), ("d/bias", (8,))]
    separable = layers.SeparableConv2D(7, 2, depth_multiplier=3, name="s")
    assert separable(np.zeros((1, 6, 5, 4), "float32")).shape == (1, 5, 4, 7)
    assert [(v.name, v.shape) for v in separable.weights] == [
        ("s/depthwise_kernel", (2, 2, 4, 3)), ("s/pointwise_kernel", (1, 1, 12, 7)), ("s/bias", (7,))]
    transpose = layers.Conv2DTranspose(5, (3, 2), strides=2, name="t")
    assert transpose(np.zeros((1, 6, 5, 4), "float32")).shape == (1, 13, 10, 5)
    assert [(v.name, v.shape) for v in transpose.weights] == [("t/kernel", (3, 2, 5, 4)), ("t/bias", (5,))]
    assert transpose.compute_output_shape((None, None, 5, 4)) == (None, None, 10, 5)
    assert layers.DepthwiseConv2D(3).compute_output_shape((2, 7, 7, 3)) == (2, 5, 5, 3)


ALIASES = ["Convolution1D", "Convolution2D", "Convolution1DTranspose", "Convolution2DTranspose",
           "SeparableConvolution1D", "SeparableConvolution2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D"]


def test_keras_other_names_are_the_same_classes(keras):
    """keras.layers.MaxPool2D is MaxPooling2D, and so on: the same class (saved under its own name) in both."""
    for alias in ALIASES:
        assert getattr(layers, alias).__name__ == getattr(keras.layers, alias).__name__
        assert getattr(layers, alias) is getattr(layers, getattr(keras.layers, alias).__name__)
    assert layers.serialize(layers.MaxPool2D())["class_name"] == "MaxPooling2D"


# ----- the ops: the sums they state, PyTorch, central differences ---------------------------------------------------
def test_depthwise_conv_is_the_per_channel_sum():
    """Z(n,i,j,c·M+m) = Σ_{p,q} X(n, i·s+p·d, j·s+q·d, c)·W(p,q,c,m), written as loops."""
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(2, 7, 6, 3)), rng.normal(size=(2, 3, 3, 2))
    s, d = (2, 1), (1, 2)
    z = cv.DepthwiseConv2d.apply(x, w, strides=s, dilation=d, padding="valid").numpy()
    expected = np.zeros((2, 3, 2, 6))
    for n, i, j, c, m in np.ndindex(2, 3, 2, 3, 2):
        expected[n, i, j, c * 2 + m] = sum(x[n, i * s[0] + p * d[0], j * s[1] + q * d[1], c] * w[p, q, c, m]
                                           for p, q in np.ndindex(2, 3))
    np.testing.assert_allclose(z, expected, rtol=1e-12)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides, dilation", [((1, 1), (1, 1)), ((2, 3), (1, 1)), ((1, 1), (2, 1))])
def test_conv_transpose_is_the_adjoint_of_conv(padding, strides, dilation):
    """⟨X ⋆ᵀ W, Y⟩ = ⟨X, Y ⋆ W⟩ for the Y of the transposed convolution's output shape: its forward is the
    convolution's backward to its input."""
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(2, 4, 5, 3)), rng.normal(size=(3, 2, 4, 3))
    z = cv.ConvTranspose2d.apply(x, w, strides=strides, dilation=dilation, padding=padding).numpy()
    y = rng.normal(size=z.shape)
    conv_y = ops.conv(y, w, strides, padding, dilation_rate=dilation).numpy()
    assert conv_y.shape == x.shape
    np.testing.assert_allclose(np.sum(z * y), np.sum(x * conv_y), rtol=1e-12)


def torch_depthwise(x, w, strides, dilation, padding):
    """F.conv2d with groups = channels, the weight (c·M, 1, *window); 'same' padded explicitly as TF pads."""
    rank = x.dim() - 2
    pads = cv.paddings(x.shape[1:-1], w.shape[:rank], strides, dilation, padding)
    xt = F.pad(x.movedim(-1, 1), [p for pair in reversed(pads) for p in pair])
    wt = w.permute(rank, rank + 1, *range(rank)).reshape(-1, 1, *w.shape[:rank])  # (c·M, 1, *window)
    conv = F.conv1d if rank == 1 else F.conv2d
    return conv(xt, wt, stride=strides, dilation=dilation, groups=x.shape[-1]).movedim(1, -1)


def torch_transpose(x, w, strides, dilation, padding, output_padding):
    """F.conv_transpose with no padding (the whole scatter), then the output window Keras's padding chooses: TF's
    'same' drops ⌊(span − size)/2⌋ positions before; output_padding adds zeros after."""
    rank = x.dim() - 2
    conv = F.conv_transpose1d if rank == 1 else F.conv_transpose2d
    full = conv(x.movedim(-1, 1), w.permute(rank + 1, rank, *range(rank)), stride=strides, dilation=dilation)
    extra = output_padding or (None,) * rank
    for axis, (n, k, s, d, e) in enumerate(zip(x.shape[1:-1], w.shape[:rank], strides, dilation, extra)):
        size = cv.transpose_output_length(n, k, s, d, padding, e)
        before = 0 if padding == "valid" else max(full.shape[2 + axis] - size, 0) // 2
        kept = full.narrow(2 + axis, before, min(size, full.shape[2 + axis] - before))
        widths = [0, 0] * rank
        widths[2 * (rank - 1 - axis) + 1] = size - kept.shape[2 + axis]
        full = F.pad(kept, widths)
    return full.movedim(1, -1)


OP_CASES = [  # (rank, strides, dilation, padding, output_padding)
    (2, (1, 1), (1, 1), "valid", None), (2, (2, 1), (1, 1), "same", None), (2, (1, 1), (2, 2), "same", None),
    (2, (2, 3), (1, 1), "valid", (1, 2)), (2, (3, 2), (1, 1), "same", (2, 0)), (1, (2,), (1,), "same", None),
    (1, (1,), (3,), "valid", None), (1, (3,), (1,), "valid", (1,)),
]


@pytest.mark.parametrize("rank, strides, dilation, padding, output_padding", OP_CASES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_ops_match_torch_forward_and_backward(rank, strides, dilation, padding, output_padding, dtype):
    """Each op without and with its fused bias (the torch twin adds b and sums db itself)."""
    rng = np.random.default_rng(3)
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == "float64" else {"rtol": 1e-5, "atol": 1e-5}
    spatial, window = (7, 6)[:rank], (3, 2)[:rank]
    x = rng.normal(size=(2, *spatial, 3)).astype(dtype)
    cases = [(cv.DEPTHWISE_OPS, rng.normal(size=(*window, 3, 2)).astype(dtype), {},
              lambda xt, wt: torch_depthwise(xt, wt, strides, dilation, padding))]
    if max(strides) == 1 or max(dilation) == 1:
        cases.append((cv.TRANSPOSE_OPS, rng.normal(size=(*window, 4, 3)).astype(dtype),
                      {"output_padding": output_padding},
                      lambda xt, wt: torch_transpose(xt, wt, strides, dilation, padding, output_padding)))
    for table, w, extra, reference in cases:
        for bias in (False, True):
            b = rng.normal(size=w.shape[-2] * w.shape[-1] if table is cv.DEPTHWISE_OPS else w.shape[-2]).astype(dtype)
            arrays = [x, w, b] if bias else [x, w]
            ours = [Tensor(a, requires_grad=True) for a in arrays]
            z = table[rank, bias].apply(*ours, strides=strides, dilation=dilation, padding=padding, **extra)
            theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
            expected = reference(*theirs[:2]) + (theirs[2] if bias else 0)
            assert z.shape == tuple(expected.shape) and z.numpy().dtype == np.dtype(dtype)
            np.testing.assert_allclose(z.numpy(), expected.detach().numpy(), **tol)
            upstream = rng.normal(size=z.shape).astype(dtype)
            (z * upstream).sum().backward()
            (expected * torch.tensor(upstream)).sum().backward()
            for got, want in zip(ours, theirs):
                np.testing.assert_allclose(got.grad, want.grad.numpy(), **tol)


@pytest.mark.parametrize("rank, strides, dilation, padding, output_padding", OP_CASES)
def test_ops_gradients_by_central_differences(rank, strides, dilation, padding, output_padding):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, *(8, 5)[:rank], 2))
    window, params = (3, 2)[:rank], {"strides": strides, "dilation": dilation, "padding": padding}
    gradcheck(lambda x, w: cv.DEPTHWISE_OPS[rank, False].apply(x, w, **params), [x, rng.normal(size=(*window, 2, 2))])
    gradcheck(lambda x, w, b: cv.DEPTHWISE_OPS[rank, True].apply(x, w, b, **params),
              [x, rng.normal(size=(*window, 2, 2)), rng.normal(size=4)])
    gradcheck(lambda x, w: cv.TRANSPOSE_OPS[rank, False].apply(x, w, output_padding=output_padding, **params),
              [x, rng.normal(size=(*window, 3, 2))])
    gradcheck(lambda x, w, b: cv.TRANSPOSE_OPS[rank, True].apply(x, w, b, output_padding=output_padding, **params),
              [x, rng.normal(size=(*window, 3, 2)), rng.normal(size=3)])


# ----- training and the written-out step ---------------------------------------------------------------------------
def tiny_model(run_eagerly: bool) -> gk.Sequential:
    layers.reset_uids()
    gk.utils.set_random_seed(4)
    model = gk.Sequential([gk.Input((8, 8, 2)), layers.SeparableConv2D(4, 3, depth_multiplier=2, activation="relu"),
                           layers.Conv2DTranspose(3, 2, strides=2, padding="same"),
                           layers.DepthwiseConv2D(3, strides=2), layers.Flatten(),
                           layers.Dense(2, activation="softmax")])
    model.compile(optimizer=gk.optimizers.RMSprop(0.01), loss="sparse_categorical_crossentropy",
                  run_eagerly=run_eagerly)
    return model


def test_the_written_out_step_is_the_eager_step_and_learns():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, size=32)
    x = rng.random((32, 8, 8, 2)).astype("float32")
    x[y == 1, :, :4] += 0.5
    eager, written = tiny_model(True), tiny_model(False)
    histories = [model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0) for model in (eager, written)]
    for a, b in zip(eager.get_weights(), written.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert histories[1].history["loss"][-1] < histories[1].history["loss"][0]
    source = written.step_source()
    assert "depthwise_conv2d_bias.forward(" in source and "conv_transpose2d_bias.backward(" in source
    assert "Z3 = depthwise_conv2d_depthwise_conv2d_bias.forward(Z2, W3, b3)" in source  # b fused: one line
    text = str(gk.inspect.explain(written, x[:4], y[:4]))
    assert "⊛" in text and "⋆ᵀ" in text


# ----- errors --------------------------------------------------------------------------------------------------------
def test_bad_arguments_get_keras_messages():
    with pytest.raises(ValueError, match=r"`depth_multiplier`. Expected a strictly positive value. Received "
                                         r"depth_multiplier=0"):
        layers.DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match=r"`filters`.*Received filters=-1"):
        layers.SeparableConv2D(-1, 3)
    with pytest.raises(ValueError, match=r"`output_padding` must be strictly less than `strides`.*At dimension 1, "
                                         r"`output_padding` is 2 but `strides` is 2"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=(1, 2))
    with pytest.raises(ValueError, match=r"strides > 1.*dilation_rate > 1"):
        layers.Conv2DTranspose(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"padding.*Received padding='causal'"):
        layers.DepthwiseConv1D(3, padding="causal")
    with pytest.raises(NotImplementedError, match="channels_last"):
        layers.SeparableConv2D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match=r"DepthwiseConv2D 'depthwise_conv2d' expects inputs of rank 4 .*received "
                                         r"shape \(2, 5, 5\)"):
        layers.DepthwiseConv2D(3)(np.zeros((2, 5, 5), "float32"))
    with pytest.raises(ValueError, match=r"SeparableConv2D 'separable_conv2d_1': kernel_size=\(5, 5\) is larger than"):
        gk.Sequential([gk.Input((4, 4, 1)), layers.SeparableConv2D(2, 5)])
    assert layers.Conv2DTranspose(2, 5)(np.zeros((1, 2, 2, 1), "float32")).shape == (1, 6, 6, 2)


# ----- files ---------------------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # no optimizer state is written
def test_the_new_layers_round_trip_through_keras_files(keras, tmp_path):
    pytest.importorskip("h5py", reason="Keras .keras files need the 'keras-files' extra (h5py)")
    model = tiny_model(False)
    x = np.random.default_rng(7).random((3, 8, 8, 2)).astype("float32")
    round_trips(keras, model, x, tmp_path)

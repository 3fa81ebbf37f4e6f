"""Pooling layers: the same program in Keras 3 and glassnet (outputs, shapes, summary rows, configs), TensorFlow's
'same' average, where a max pooling sends its gradient, Flatten on any rank, and the errors a user meets."""


import math

import numpy as np
import pytest

import glassnet as gk
from glassnet import backend, kernels, layers, ops
from glassnet.autodiff import Tensor, gradcheck
from tests.layers.keras_peer import same_layer, same_program

# Keras on torch pads an uneven 'same' average by replicating the edge (TensorFlow leaves the padding out of the
# mean): the 2-D and 1-D averages here pad evenly, or by one after a 2-wide window, where both rules agree
POOLING_2D = {
    "max-default": ("MaxPooling2D", {}),
    "max-same-strided": ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}),
    "max-uneven": ("MaxPooling2D", {"pool_size": (2, 3), "strides": (1, 2)}),
    "max-same-4": ("MaxPooling2D", {"pool_size": 4, "padding": "same"}),
    "average-2": ("AveragePooling2D", {"pool_size": 2}),
    "average-overlapping": ("AveragePooling2D", {"pool_size": (3, 2), "strides": 1}),
    "average-same-even": ("AveragePooling2D", {"pool_size": 3, "strides": 1, "padding": "same"}),
    "average-same-2": ("AveragePooling2D", {"pool_size": 2, "padding": "same"}),
    "global-average": ("GlobalAveragePooling2D", {}),
    "global-average-keepdims": ("GlobalAveragePooling2D", {"keepdims": True}),
    "global-max": ("GlobalMaxPooling2D", {}),
}
POOLING_1D = {
    "max-default": ("MaxPooling1D", {}),
    "max-same-strided": ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}),
    "average-3": ("AveragePooling1D", {"pool_size": 3}),
    "average-same-even": ("AveragePooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}),
    "average-strided": ("AveragePooling1D", {"pool_size": 4, "strides": 2}),
    "global-average": ("GlobalAveragePooling1D", {}),
    "global-max-keepdims": ("GlobalMaxPooling1D", {"keepdims": True}),
}


@pytest.mark.parametrize("name, config", POOLING_2D.values(), ids=POOLING_2D.keys())
def test_2d_pooling_is_keras_pooling(keras, name, config):
    x = np.random.default_rng(0).normal(size=(2, 9, 8, 3)).astype("float32")
    same_layer(keras, (9, 8, 3), name, config, x)


@pytest.mark.parametrize("name, config", POOLING_1D.values(), ids=POOLING_1D.keys())
def test_1d_pooling_is_keras_pooling(keras, name, config):
    x = np.random.default_rng(1).normal(size=(3, 11, 2)).astype("float32")
    same_layer(keras, (11, 2), name, config, x)


def test_defaults_are_keras_defaults():
    pool = layers.MaxPooling2D()
    assert (pool.pool_size, pool.strides, pool.padding, pool.data_format) == ((2, 2), (2, 2), "valid",
                                                                               "channels_last")
    assert layers.MaxPooling1D().pool_size == (2,)
    assert layers.AveragePooling2D(3, strides=1).strides == (1, 1)
    assert layers.GlobalAveragePooling1D().keepdims is False
    assert layers.MaxPooling2D().compute_output_shape((None, 28, 28, 32)) == (None, 14, 14, 32)
    assert layers.MaxPooling2D(padding="same").compute_output_shape((None, 7, None, 3)) == (None, 4, None, 3)
    assert layers.GlobalMaxPooling2D(keepdims=True).compute_output_shape((5, 7, 7, 3)) == (5, 1, 1, 3)


# ----- what the math says -----------------------------------------------------------------------------------------
def test_same_average_leaves_the_padding_out_of_the_mean():
    """TensorFlow's rule, written as loops: each window's mean over the input positions it really covers."""
    x = np.random.default_rng(2).normal(size=(1, 9, 8, 1))
    got = layers.AveragePooling2D(3, strides=2, padding="same", dtype="float64")(x).numpy()
    pads = (1, 0)  # 9 rows: 5 windows of 3 need 11, 1 before, 1 after; 8 columns: 4 windows need 9, 0 before
    expected = np.zeros((1, 5, 4, 1))
    for i, j in np.ndindex(5, 4):
        rows = range(max(i * 2 - pads[0], 0), min(i * 2 - pads[0] + 3, 9))
        cols = range(max(j * 2 - pads[1], 0), min(j * 2 - pads[1] + 3, 8))
        expected[0, i, j, 0] = np.mean([x[0, r, c, 0] for r in rows for c in cols])
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_max_pool_sends_the_gradient_to_the_first_maximum_and_adds_overlaps():
    x = Tensor(np.array([[1.0, 3.0, 3.0, 0.0, 2.0, 2.0]])[..., None], requires_grad=True)  # (1, 6, 1)
    out = ops.max_pool(x, 3, strides=1)  # windows x[0:3] = [1 3 3], x[1:4] = [3 3 0], x[2:5], x[3:6] = [0 2 2]
    np.testing.assert_array_equal(out.numpy()[0, :, 0], [3.0, 3.0, 3.0, 2.0])
    out.backward(np.array([[1.0, 10.0, 100.0, 1000.0]])[..., None])
    # each window's first maximum: x[1], x[1], x[2], x[4]; x[1] gets the gradients of two windows
    np.testing.assert_array_equal(x.grad[0, :, 0], [0.0, 11.0, 100.0, 0.0, 1000.0, 0.0])


def test_max_pool_same_padding_never_wins():
    x = -np.ones((1, 3, 3, 1))  # every value below the zero a zero padding would add
    np.testing.assert_array_equal(ops.max_pool(x, 2, padding="same").numpy(), -np.ones((1, 2, 2, 1)))


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_gradients_by_central_differences(padding):
    rng = np.random.default_rng(3)
    x = rng.permutation(2 * 5 * 7 * 2).reshape(2, 5, 7, 2) / 10.0  # distinct values: max is differentiable
    gradcheck(lambda t: ops.max_pool(t, (2, 3), strides=(2, 1), padding=padding), [x])
    gradcheck(lambda t: ops.average_pool(t, 3, strides=2, padding=padding), [x])
    gradcheck(lambda t: ops.average_pool(t, 2, padding=padding), [x[:, :, 0]])


POOL_WINDOWS = [((2, 2), (2, 2), [(0, 0), (0, 0)]), ((3, 2), (1, 2), [(1, 1), (0, 1)]), ((3,), (2,), [(1, 1)]),
                ((2,), (2,), [(0, 1)]), ((3, 3), (3, 3), [(0, 0), (0, 0)]),  # tiles, with an uncovered margin
                ((2, 2), (2, 2), [(0, 1), (0, 1)]),  # tiles, with 'same' padding after
                ((12, 12), (12, 12), [(0, 0), (0, 0)])]  # 144 offsets: more than an int8 holds


def max_pool_by_kernels(x, window, strides, pads, dz):
    z, found = kernels.window_max(x, window, strides, pads, -np.inf)
    return z, kernels.route_to_max(dz, found, x.shape, window, strides, pads)


@pytest.mark.parametrize("window, strides, pads", POOL_WINDOWS)
def test_pooling_kernels_are_their_im2col_definitions(window, strides, pads):
    """window_max, route_to_max and window_sum read the windows in place; im2col copies them out: same numbers."""
    rng = np.random.default_rng(5)
    x = rng.integers(-2, 3, size=(2, *(max(7, max(window) + 2),) * len(window), 3)).astype(np.float64)  # many ties
    rank, ones = len(window), (1,) * len(window)
    cols = kernels.im2col(x, window, strides, ones, pads, fill=-np.inf)  # (n, *outputs, window·channels)
    flat = cols.reshape(*cols.shape[:1 + rank], -1, x.shape[-1])
    dz = rng.normal(size=flat.max(axis=-2).shape)
    z, dx = max_pool_by_kernels(x, window, strides, pads, dz)
    np.testing.assert_array_equal(z, flat.max(axis=-2))
    onehot = np.zeros(flat.shape)
    np.put_along_axis(onehot, np.argmax(flat, axis=-2)[..., None, :], dz[..., None, :], axis=-2)  # first maximum
    np.testing.assert_allclose(dx, kernels.col2im(onehot.reshape(cols.shape), x.shape, window, strides, ones, pads))
    sums = kernels.im2col(x, window, strides, ones, pads).reshape(flat.shape).sum(axis=-2)
    np.testing.assert_array_equal(kernels.window_sum(x, window, strides, pads), sums)


@pytest.mark.fast_kernels
@pytest.mark.parametrize("window, strides, pads", POOL_WINDOWS)
def test_compiled_max_pooling_is_the_numpy_max_pooling(window, strides, pads):
    """The fast kernels' compiled loops give the NumPy path's maxima and its gradients, ties included (where windows
    overlap, an input's gradients are added in another order: equal to float32's rounding)."""
    rng = np.random.default_rng(6)
    x = rng.integers(-2, 3, size=(3, *(max(9, max(window) + 2),) * len(window), 4)).astype(np.float32)
    dz = None
    results = {}
    try:
        for mode in ("numpy", "fast"):
            backend.set_kernels(mode)
            if dz is None:
                dz = rng.normal(size=kernels.window_max(x, window, strides, pads, -np.inf)[0].shape)
            results[mode] = max_pool_by_kernels(x, window, strides, pads, dz.astype(np.float32))
    finally:
        backend.set_kernels("fast")
    np.testing.assert_array_equal(results["fast"][0], results["numpy"][0])
    np.testing.assert_allclose(results["fast"][1], results["numpy"][1], rtol=1e-6, atol=1e-6)
    assert np.array_equal(results["fast"][1] != 0, results["numpy"][1] != 0)  # the same winners


def test_global_pooling_is_a_mean_or_max_over_the_spatial_axes():
    x = np.random.default_rng(4).normal(size=(2, 4, 5, 3)).astype("float32")
    np.testing.assert_allclose(layers.GlobalAveragePooling2D()(x).numpy(), x.mean(axis=(1, 2)), rtol=1e-6)
    np.testing.assert_allclose(layers.GlobalMaxPooling2D(keepdims=True)(x).numpy(), x.max(axis=(1, 2),
                               keepdims=True))
    np.testing.assert_allclose(layers.GlobalAveragePooling1D()(x[:, 0]).numpy(), x[:, 0].mean(axis=1), rtol=1e-6)


# ----- masks: Keras's GlobalAveragePooling1D averages the kept steps only ------------------------------------------
WORDS = np.array([[3, 5, 7, 0, 0, 0], [1, 0, 0, 0, 0, 0], [4, 4, 9, 2, 6, 8], [2, 0, 5, 0, 1, 0]])


@pytest.mark.filterwarnings("ignore:Layer 'global_max_pooling1d'.*does not support masking")  # Keras's, for max
@pytest.mark.parametrize("pooling", [{"name": "GlobalAveragePooling1D"},
                                     {"name": "GlobalAveragePooling1D", "keepdims": True},
                                     {"name": "GlobalMaxPooling1D"}], ids=["average", "average-keepdims", "max"])
@pytest.mark.parametrize("masked_by", ["embedding", "masking"])
def test_global_pooling_reads_the_mask_as_keras_does(keras, pooling, masked_by):
    """Embedding(mask_zero=True) or Masking before the pooling: the same outputs (the mean of the kept steps; the
    max over every step, as Keras 3's GlobalMaxPooling1D ignores masks) and the same gradients as Keras."""
    config = {k: v for k, v in pooling.items() if k != "name"}
    if masked_by == "embedding":
        x, input_shape = WORDS, (6,)

        def first(ls):
            return ls.Embedding(10, 3, mask_zero=True)
    else:
        x = np.random.default_rng(9).normal(size=(4, 6, 3)).astype("float32")
        x[WORDS == 0] = 0.0
        input_shape = (6, 3)

        def first(ls):
            return ls.Masking(0.0)
    km, gm = same_program(keras, input_shape, lambda ls: [first(ls), getattr(ls, pooling["name"])(**config),
                                                          ls.Dense(2)], x, random_weights=True)
    torch = pytest.importorskip("torch")
    out = km(torch.tensor(x), training=False)
    out.sum().backward()
    for w in gm.trainable_weights:
        w.grad = None
    gm(x, training=False).sum().backward()
    for g, k in zip(gm.trainable_weights, km.trainable_weights):
        np.testing.assert_allclose(g.grad, k.value.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_masked_average_is_the_mean_of_the_kept_steps():
    x = np.random.default_rng(10).normal(size=(4, 6, 3))
    kept = WORDS != 0
    z = layers.GlobalAveragePooling1D(dtype="float64")(x, mask=Tensor(kept)).numpy()
    for n in range(4):
        np.testing.assert_allclose(z[n], x[n][kept[n]].mean(axis=0), rtol=1e-12)
    assert getattr(layers.GlobalAveragePooling1D()(x, mask=Tensor(kept)), "_keras_mask", None) is None
    gradcheck(lambda x: layers.GlobalAveragePooling1D(dtype="float64")(x, mask=Tensor(kept)), [x])


def test_a_masked_average_trains_the_same_on_replayed_steps():
    words = np.random.default_rng(3).integers(0, 10, size=(16, 6))  # each batch masks other steps
    words[:, 0] = 1 + np.arange(16) % 9

    def run(run_eagerly):
        layers.reset_uids()
        gk.utils.set_random_seed(2)
        model = gk.Sequential([gk.Input((6,)), layers.Embedding(10, 3, mask_zero=True),
                               layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])
        model.compile("rmsprop", "binary_crossentropy", run_eagerly=run_eagerly)
        model.fit(words, np.arange(16) % 2, batch_size=4, epochs=2, shuffle=False, verbose=0)
        return model.get_weights()

    for a, b in zip(run(True), run(False)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_flatten_takes_any_rank():
    x = np.arange(2 * 3 * 4 * 5 * 2, dtype="float32").reshape(2, 3, 4, 5, 2)
    flat = layers.Flatten()
    np.testing.assert_array_equal(flat(x).numpy(), x.reshape(2, -1))
    assert flat.compute_output_shape((None, 3, 4, 5, 2)) == (None, 120)
    assert flat.compute_output_shape((None, 7, 7, 64)) == (None, 3136)
    assert layers.Flatten()(x[:, 0, 0, 0, 0]).shape == (2, 1)


@pytest.mark.parametrize("data_format", [None, "channels_last", "channels_first"])
@pytest.mark.parametrize("input_shape", [(5,), (4, 3), (3, 4, 2), (2, 3, 4, 2)], ids=["rank2", "rank3", "rank4",
                                                                                       "rank5"])
def test_flatten_is_keras_flatten(keras, input_shape, data_format):
    """Any rank, both layouts: channels_first moves axis 1 last before flattening, as Keras does."""
    x = np.arange(2 * math.prod(input_shape), dtype="float32").reshape(2, *input_shape)
    km, gm = same_layer(keras, input_shape, "Flatten", {"data_format": data_format}, x)
    assert gm.layers[0].get_config()["data_format"] == km.layers[0].get_config()["data_format"]
    np.testing.assert_array_equal(layers.Flatten(data_format)(x[:, None]).numpy(),
                                  keras.ops.convert_to_numpy(keras.layers.Flatten(data_format)(x[:, None])))


def test_flatten_refuses_an_unknown_data_format():
    with pytest.raises(ValueError, match=r"`data_format` argument must be one of .*Received: data_format=rows"):
        layers.Flatten("rows")


# ----- errors -----------------------------------------------------------------------------------------------------
def test_wrong_rank_names_the_layer_the_layout_and_a_reshape():
    with pytest.raises(ValueError, match=r"MaxPooling2D 'max_pooling2d' expects inputs of rank 4 \(batch, height, "
                                         r"width, channels\), received shape \(32, 28, 28\); .*x\[\.\.\., None\]"):
        layers.MaxPooling2D()(np.zeros((32, 28, 28), dtype="float32"))
    with pytest.raises(ValueError, match=r"GlobalAveragePooling1D 'global_average_pooling1d' expects inputs of rank 3 "
                                         r"\(batch, steps, channels\), received shape \(2, 3, 4, 5\)"):
        layers.GlobalAveragePooling1D()(np.zeros((2, 3, 4, 5), dtype="float32"))
    with pytest.raises(ValueError, match=r"max_pool expects inputs of rank 3 .* or 4 .*received shape \(4, 4\)"):
        ops.max_pool(np.zeros((4, 4)), 2)


def test_a_pool_larger_than_the_input_is_refused_when_built():
    with pytest.raises(ValueError, match=r"MaxPooling2D 'max_pooling2d': pool_size=\(4, 4\) is larger than the "
                                         r"input's spatial size \(3, 5\) with padding='valid'.*padding='same'"):
        gk.Sequential([gk.Input((3, 5, 2)), layers.MaxPooling2D(4)])
    assert gk.Sequential([gk.Input((3, 5, 2)), layers.MaxPooling2D(4, padding="same")]).output_shape == (
        None, 1, 2, 2)
    with pytest.raises(ValueError, match=r"pool: the window \(5,\).*\(3,\)"):
        ops.average_pool(np.zeros((1, 3, 1)), 5)


def test_unsupported_arguments_are_refused_clearly():
    with pytest.raises(NotImplementedError, match="'channels_last' only"):
        layers.MaxPooling2D(data_format="channels_first")
    with pytest.raises(NotImplementedError, match="'channels_last' only"):
        layers.GlobalAveragePooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match=r"padding.*Received padding='causal'"):
        layers.MaxPooling1D(padding="causal")
    with pytest.raises(ValueError, match=r"pool_size.*Received pool_size=0"):
        layers.AveragePooling2D(0)
    with pytest.raises(ValueError, match=r"strides.*Received strides=\(1, 2, 3\)"):
        layers.MaxPooling2D(strides=(1, 2, 3))

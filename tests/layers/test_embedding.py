"""Embedding: the same layer as Keras 3 (outputs from identical tables, weights, configs, parameter counts, summary
rows, masks), the same training run through fit's replayed step, its gather op against PyTorch and central
differences, Keras files both ways, and the errors a user meets (an index outside the vocabulary first)."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import glassnet as gk
from glassnet import initializers, layers
from glassnet.autodiff import Variable, gradcheck, ops_gather
from glassnet.kernels.gather import scatter_add_rows
from glassnet.layers.embedding import Embedding
from tests.layers.keras_peer import TOLERANCE, round_trips, same_layer

RNG = np.random.default_rng(18)
WORDS = RNG.integers(0, 20, size=(4, 7))
WORDS[:, 5:] = 0  # padding at the end of each sequence
WORDS[1, 2:] = 0

CASES = {
    "default": ((7,), {"input_dim": 20, "output_dim": 3}, WORDS),
    "mask-zero": ((7,), {"input_dim": 20, "output_dim": 4, "mask_zero": True}, WORDS),
    "initializer": ((7,), {"input_dim": 25, "output_dim": 2, "embeddings_initializer": "random_normal"}, WORDS),
    "regularizer": ((7,), {"input_dim": 20, "output_dim": 2, "embeddings_regularizer": "l2"}, WORDS),
    "constraint": ((7,), {"input_dim": 20, "output_dim": 2, "embeddings_constraint": "unit_norm"}, WORDS),
    "two-axes": ((2, 7), {"input_dim": 20, "output_dim": 3}, np.stack([WORDS, WORDS[::-1]], axis=1)),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_layer_is_the_keras_layer(keras, case):
    input_shape, config, x = CASES[case]
    km, gm = same_layer(keras, input_shape, "Embedding", config, x)
    assert [w.shape for w in gm.weights] == [(config["input_dim"], config["output_dim"])]


def test_float_indices_are_truncated_as_keras_casts_them(keras):
    x = WORDS.astype("float32") + 0.75
    km, gm = same_layer(keras, (7,), "Embedding", {"input_dim": 21, "output_dim": 3}, x)
    np.testing.assert_array_equal(gm(x).numpy(), gm(WORDS).numpy())


def test_default_initializer_is_keras_uniform(keras):
    layer = Embedding(1000, 8)
    assert isinstance(layer.embeddings_initializer, initializers.RandomUniform)
    assert layer.get_config()["embeddings_initializer"] == {
        "class_name": "RandomUniform", "config": {"minval": -0.05, "maxval": 0.05, "seed": None}}
    layer.build((None, 5))
    values = layer.embeddings.numpy()
    assert values.min() >= -0.05 and values.max() <= 0.05 and values.std() > 0.02
    keras_config = keras.layers.Embedding(1000, 8).get_config()["embeddings_initializer"]["config"]
    assert {k: keras_config[k] for k in ("minval", "maxval")} == {"minval": -0.05, "maxval": 0.05}


def test_output_is_the_table_rows_and_integers_stay_integers():
    layer = Embedding(6, 2, weights=np.arange(12, dtype="float32").reshape(6, 2))
    for x in (np.array([[5, 0, 3]]), np.array([[5, 0, 3]], dtype="int32"), [[5, 0, 3]]):
        out = layer(x)
        np.testing.assert_array_equal(out.numpy(), [[[10, 11], [0, 1], [6, 7]]])
        assert out.dtype == np.float32
    assert layer._as_input_tensor(np.array([1, 2], dtype="int64")).dtype == np.int64


def test_weights_argument_sets_the_table():
    table = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    for weights in (table, [table]):
        np.testing.assert_array_equal(Embedding(4, 3, weights=weights).get_weights()[0], table)


def test_input_length_warns_as_keras_3_does(keras):
    with pytest.warns(UserWarning, match="Argument `input_length` is deprecated. Just remove it."):
        layer = Embedding(10, 2, input_length=5)
    assert "input_length" not in layer.get_config()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras.layers.Embedding(10, 2, input_length=5)
    assert "Argument `input_length` is deprecated. Just remove it." in str(caught[0].message)


# ----- masks ---------------------------------------------------------------------------------------------------
def test_mask_zero_gives_keras_mask(keras):
    kl, gl = keras.layers.Embedding(20, 3, mask_zero=True), Embedding(20, 3, mask_zero=True)
    expected = keras.ops.convert_to_numpy(kl.compute_mask(WORDS))
    np.testing.assert_array_equal(gl.compute_mask(WORDS).numpy(), expected)
    np.testing.assert_array_equal(gl(WORDS)._keras_mask.numpy(), keras.ops.convert_to_numpy(kl(WORDS)._keras_mask))
    assert expected.dtype == bool and not expected.all()
    assert Embedding(20, 3).compute_mask(WORDS) is None and keras.layers.Embedding(20, 3).compute_mask(WORDS) is None
    assert gl.supports_masking and not Embedding(20, 3).supports_masking


def test_mask_reaches_the_layers_that_use_it(keras):
    """Embedding(mask_zero=True) → BatchNormalization in training: only the words, not the padding, count in the
    batch statistics (as Keras)."""
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km = keras.Sequential([keras.Input((7,)), keras.layers.Embedding(20, 3, mask_zero=True),
                           keras.layers.BatchNormalization()])
    gm = gk.Sequential([gk.Input((7,)), Embedding(20, 3, mask_zero=True), layers.BatchNormalization()])
    gm.set_weights(km.get_weights())
    expected = keras.ops.convert_to_numpy(km(WORDS, training=True))
    np.testing.assert_allclose(gm(WORDS, training=True).numpy(), expected, **TOLERANCE)
    for got, want in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, want, **TOLERANCE)


def test_mask_reaches_a_recurrent_layer(keras):
    """Embedding(mask_zero=True) → LSTM → Dense: the padded steps are skipped as in Keras, at inference and through
    fit's replayed steps (the mask is recomputed from each batch)."""
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    rng = np.random.default_rng(8)
    x = rng.integers(1, 20, size=(32, 7))
    for row, length in enumerate(rng.integers(1, 8, size=32)):
        x[row, length:] = 0
    y = rng.normal(size=(32, 1)).astype("float32")

    def make(ls):
        return [ls.Embedding(20, 3, mask_zero=True), ls.LSTM(5), ls.Dense(1)]

    km = keras.Sequential([keras.Input((7,)), *make(keras.layers)])
    gm = gk.Sequential([gk.Input((7,)), *make(layers)])
    gm.set_weights(km.get_weights())
    np.testing.assert_allclose(gm(x).numpy(), keras.ops.convert_to_numpy(km(x)), **TOLERANCE)
    km.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    gm.compile(optimizer=gk.optimizers.SGD(0.5), loss="mse")
    km.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    gm.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    (entry,) = gm._cached_step.plans.values()
    assert entry != "eager" and entry.verified
    for got, want in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, want, **TOLERANCE)


# ----- training ------------------------------------------------------------------------------------------------
def test_fit_is_keras_fit(keras):
    """Embedding → GlobalAveragePooling1D → Dense trained by fit (replayed steps) equals Keras's, repeated words
    included (their gradients add up)."""
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 12, size=(48, 6)), rng.normal(size=(48, 1)).astype("float32")

    def make(ls):
        return [ls.Embedding(12, 4), ls.GlobalAveragePooling1D(), ls.Dense(1)]

    km = keras.Sequential([keras.Input((6,)), *make(keras.layers)])
    gm = gk.Sequential([gk.Input((6,)), *make(layers)])
    gm.set_weights(km.get_weights())
    km.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    gm.compile(optimizer=gk.optimizers.SGD(0.5), loss="mse")
    km.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    gm.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    (entry,) = gm._cached_step.plans.values()
    assert entry != "eager" and entry.verified
    for got, want in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, want, **TOLERANCE)
    lines = [line for line in gm.step_source().splitlines() if "embedding_gather" in line]
    assert [line.split("#")[1].strip() for line in lines] == ["Z[1] = onehot(X)·embeddings[1]",
                                                              "dembeddings[1] = onehot(X)ᵀ·dZ[1]"]
    assert lines[0].split("#")[0].strip() == "Z1 = embedding_gather.forward(X, embeddings1)"


def test_a_bad_index_is_refused_naming_the_layer():
    layer = Embedding(10, 2)
    with pytest.raises(ValueError, match=r"Embedding 'embedding' received index 12 at position \(1, 0\) of its input "
                                         r"\(shape \(2, 2\)\), outside \[0, input_dim=10\)"):
        layer(np.array([[1, 2], [12, 3]]))
    with pytest.raises(ValueError, match=r"received index -1 at position \(0, 1\)"):
        layer(np.array([[1, -1]]))


def test_a_bad_index_anywhere_in_the_data_is_refused_before_training():
    """fit, evaluate and predict check all the data an Embedding reads first, so an index out of range in the
    second batch stops fit before its first step and names the sample (not a place in a shuffled batch); a
    functional model's named input is checked the same way; train_on_batch's later batch is refused at the lookup,
    before the update."""
    model = gk.Sequential([gk.Input((3,)), Embedding(10, 2), layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.random.default_rng(4).integers(0, 10, size=(32, 3)), np.zeros((32, 1), dtype="float32")
    x[20, 1] = 10
    before = model.get_weights()
    for run in (lambda: model.fit(x, y, batch_size=16, verbose=0), lambda: model.evaluate(x, y, verbose=0),
                lambda: model.predict(x.astype("float32"), verbose=0)):
        with pytest.raises(ValueError, match=r"Embedding 'embedding' received index 10 at position \(20, 1\) of "
                                             r"its input \(shape \(32, 3\)\), outside \[0, input_dim=10\)"):
            run()
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    model.train_on_batch(x[:16], y[:16])
    trained = model.get_weights()
    with pytest.raises(ValueError, match=r"Embedding 'embedding' received index 10 at position \(4, 1\)"):
        model.train_on_batch(x[16:], y[16:])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), trained))

    words, other = gk.Input((3,), name="words"), gk.Input((2,), name="other")
    pooled = layers.GlobalAveragePooling1D()(Embedding(10, 2, name="vectors")(words))
    functional = gk.Model([words, other], layers.Dense(1)(layers.Concatenate()([pooled, other])))
    functional.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"Embedding 'vectors' received index 10 at position \(20, 1\)"):
        functional.fit({"other": np.zeros((32, 2)), "words": x}, y, verbose=0)


# ----- the op: PyTorch and central differences -----------------------------------------------------------------
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 1e-6)], ids=["float64", "float32"])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)], ids=["1d", "2d", "3d"])
def test_gather_op_is_torch_embedding(shape, dtype, tolerance):
    """z = table[indices] and its scatter-add gradient against torch.nn.functional.embedding (repeats included)."""
    rng = np.random.default_rng(len(shape))
    indices, table = rng.integers(0, 6, size=shape), rng.normal(size=(6, 3)).astype(dtype)
    dz = rng.normal(size=(*shape, 3)).astype(dtype)
    weights = Variable(table, dtype=dtype)
    out = ops_gather.Gather.apply(indices, weights)
    out.backward(dz)
    t_table = torch.tensor(table, requires_grad=True)
    t_out = F.embedding(torch.tensor(indices), t_table)
    t_out.backward(torch.tensor(dz))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(weights.grad, t_table.grad.numpy(), rtol=tolerance, atol=tolerance)
    assert out.dtype == dtype and weights.grad.dtype == dtype


@pytest.mark.fast_kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_scatter_add_kernel_is_numpy_add_at(dtype):
    """The compiled scatter-add equals np.add.at, repeated rows, any index dtype and trailing shape included."""
    rng = np.random.default_rng(7)
    for rows in (rng.integers(0, 50, size=(30, 20)), rng.integers(0, 3, size=500).astype("int32")):
        values = rng.normal(size=(*rows.shape, 4, 2)).astype(dtype)
        expected = np.zeros((50, 4, 2), dtype=dtype)
        np.add.at(expected, rows.reshape(-1), values.reshape(-1, 4, 2))
        got = scatter_add_rows(rows, values, (50, 4, 2))
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    # a gradient that is a transposed view (an LSTM's time-major copy of the embeddings): read in memory order
    rows = rng.integers(0, 50, size=(6, 9))
    values = np.ascontiguousarray(rng.normal(size=(9, 6, 3)).astype(dtype)).transpose(1, 0, 2)
    expected = np.zeros((50, 3), dtype=dtype)
    np.add.at(expected, rows.reshape(-1), values.reshape(-1, 3))
    np.testing.assert_allclose(scatter_add_rows(rows, values, (50, 3)), expected, rtol=1e-6)


def test_gather_gradcheck():
    indices = np.array([[0, 3, 3], [2, 0, 1]])
    table = np.random.default_rng(5).normal(size=(5, 2))
    assert gradcheck(lambda t: ops_gather.Gather.apply(indices, t), [table])


# ----- files and errors ----------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.filterwarnings("ignore:Layer 'flatten' .* does not support masking")  # Keras: Flatten drops the mask
def test_model_round_trips_through_keras_files(keras, tmp_path):
    pytest.importorskip("h5py", reason="Keras .keras files need the 'keras-files' extra (h5py)")
    model = gk.Sequential([gk.Input((7,)), Embedding(20, 3, mask_zero=True, embeddings_regularizer="l2"),
                           layers.Flatten(), layers.Dense(2)])
    round_trips(keras, model, WORDS, tmp_path)


@pytest.mark.parametrize("make, error, message", [
    (lambda: Embedding(0, 3), ValueError, r"`input_dim` must be a positive integer. Received: input_dim=0 "
                                          r"\(of type int\)."),
    (lambda: Embedding(10, 2.5), ValueError, r"`output_dim` must be a positive integer. Received: output_dim=2.5 "
                                             r"\(of type float\)."),
    (lambda: Embedding(True, 2), ValueError, "`input_dim` must be a positive integer"),
    (lambda: Embedding(10, 2, lora_rank=4), NotImplementedError, "LoRA"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_an_int_input_model_replays_its_step():
    """Data cast to an Input's integer dtype goes through a Cast op, so fit replays the recorded step (a cast
    outside the graph would freeze the first batch and leave the step eager)."""
    import glassnet as gk

    inputs = gk.Input((20,), dtype="int32")
    outputs = gk.layers.Dense(1, activation="sigmoid")(gk.layers.Flatten()(gk.layers.Embedding(100, 8)(inputs)))
    model = gk.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    rng = np.random.default_rng(0)
    model.fit(rng.integers(0, 100, (64, 20)), rng.integers(0, 2, (64, 1)).astype("float32"), batch_size=16,
              verbose=0)
    (entry,) = model._cached_step.plans.values()
    assert entry != "eager" and entry.verified

"""Bidirectional and TimeDistributed: the same programs in Keras 3 and glassnet from the same weights (outputs,
merge modes, masks, states, weight order and names, parameter counts, summary rows, configs) and their errors."""

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers
from tests.layers.keras_peer import TOLERANCE, comparable, same_program
from tests.layers.test_recurrent import ragged_mask, same_config, sequences


def random_weights(keras_layer, glass_layer, seed=4):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in keras_layer.get_weights()]
    keras_layer.set_weights(weights)
    glass_layer.set_weights(weights)


def both(keras, make, input_shape=(None, 6, 4)):
    """The same wrapper in both libraries, built, with the same random weights."""
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    keras_layer, glass_layer = make(keras.layers), make(layers)
    keras_layer.build(input_shape)
    glass_layer.build(input_shape)
    random_weights(keras_layer, glass_layer)
    return keras_layer, glass_layer


def numpy_list(outputs, convert=np.asarray):
    return [convert(t) for t in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


BIDIRECTIONAL = {
    "concat-lstm": lambda ls: ls.Bidirectional(ls.LSTM(3)),
    "sum-gru-sequences": lambda ls: ls.Bidirectional(ls.GRU(3, return_sequences=True), merge_mode="sum"),
    "mul-simple-rnn": lambda ls: ls.Bidirectional(ls.SimpleRNN(2, return_sequences=True), merge_mode="mul"),
    "ave-gru-reset-before": lambda ls: ls.Bidirectional(ls.GRU(2, reset_after=False), merge_mode="ave"),
}


@pytest.mark.parametrize("make", BIDIRECTIONAL.values(), ids=BIDIRECTIONAL.keys())
def test_bidirectional_is_keras_bidirectional(keras, make):
    km, gm = same_program(keras, (6, 4), lambda ls: [make(ls)], sequences(), random_weights=True)
    assert [w.name for w in gm.weights] == [w.path.split("/", 1)[1] for w in km.weights]  # forward, then backward
    k_config, g_config = km.layers[0].get_config(), gm.layers[0].get_config()
    assert g_config["merge_mode"] == k_config["merge_mode"]
    for key in ("layer", "backward_layer"):
        assert g_config[key]["class_name"] == k_config[key]["class_name"]
        assert g_config[key]["config"]["name"] == k_config[key]["config"]["name"]
        same_config(k_config[key]["config"], g_config[key]["config"])
    rebuilt = layers.deserialize(layers.serialize(gm.layers[0]))
    assert rebuilt.get_config() == g_config


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("merge_mode", ["concat", None])
def test_bidirectional_masks_and_states_as_in_keras(keras, return_sequences, merge_mode):
    """A masked sequence through both directions (Keras zeroes the masked outputs of sequences), with the final
    states of the forward then the backward layer after the output."""
    def make(ls):
        return ls.Bidirectional(ls.LSTM(3, return_sequences=return_sequences, return_state=True),
                                merge_mode=merge_mode)

    keras_layer, glass_layer = both(keras, make)
    x, mask = sequences(batch=4), ragged_mask()
    expected = numpy_list(keras_layer(x, mask=mask), keras.ops.convert_to_numpy)
    got = numpy_list(glass_layer(x, mask=mask), lambda t: t.numpy())
    assert len(got) == len(expected) == (2 if merge_mode is None else 1) + 4
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, **TOLERANCE)
    k_shapes = keras_layer.compute_output_shape((None, 6, 4))
    assert [tuple(s) for s in glass_layer.compute_output_shape((None, 6, 4))] == [tuple(s) for s in k_shapes]


def test_bidirectional_starts_from_given_states(keras):
    keras_layer, glass_layer = both(keras, lambda ls: ls.Bidirectional(ls.GRU(3, return_sequences=True)))
    x = sequences(batch=4)
    states = [np.random.default_rng(k).normal(size=(4, 3)).astype("float32") for k in range(2)]  # forward, backward
    expected = keras.ops.convert_to_numpy(keras_layer(x, initial_state=states, mask=ragged_mask()))
    got = glass_layer(x, initial_state=states, mask=ragged_mask()).numpy()
    np.testing.assert_allclose(got, expected, **TOLERANCE)


def test_a_given_backward_layer_is_used(keras):
    def make(ls):
        return ls.Bidirectional(ls.GRU(3, return_sequences=True),
                                backward_layer=ls.SimpleRNN(2, return_sequences=True, go_backwards=True))

    keras_layer, glass_layer = both(keras, make)
    assert [w.shape for w in glass_layer.weights] == [tuple(w.shape) for w in keras_layer.weights]
    x = sequences()
    np.testing.assert_allclose(glass_layer(x).numpy(), keras.ops.convert_to_numpy(keras_layer(x)), **TOLERANCE)
    # Keras reads the shape off the forward layer alone (twice its width), and so does glassnet
    assert glass_layer.compute_output_shape((None, 6, 4)) == keras_layer.compute_output_shape((None, 6, 4))


TIME_DISTRIBUTED = {
    "dense": lambda ls: [ls.TimeDistributed(ls.Dense(3, activation="relu"))],
    "dense-then-lstm": lambda ls: [ls.TimeDistributed(ls.Dense(5)), ls.LSTM(2)],
    "conv-over-frames": lambda ls: [ls.Reshape((6, 2, 2)), ls.TimeDistributed(ls.Conv1D(3, 2)),
                                    ls.TimeDistributed(ls.Flatten())],
}


@pytest.mark.parametrize("make", TIME_DISTRIBUTED.values(), ids=TIME_DISTRIBUTED.keys())
def test_time_distributed_is_keras_time_distributed(keras, make):
    km, gm = same_program(keras, (6, 4), make, sequences(), random_weights=True)
    assert [w.name for w in gm.weights] == [w.path.split("/", 1)[1] for w in km.weights]
    k_config, g_config = km.layers[0].get_config(), gm.layers[0].get_config()
    if "layer" in k_config:
        assert comparable(g_config["layer"]["config"]) == {
            k: v for k, v in comparable(g_config["layer"]["config"]).items() if k in comparable(k_config["layer"]
                                                                                                 ["config"])}
        assert g_config["layer"]["class_name"] == k_config["layer"]["class_name"]
        rebuilt = layers.deserialize(layers.serialize(gm.layers[0]))
        assert rebuilt.get_config() == g_config


def test_time_distributed_shares_one_set_of_weights():
    inner = layers.Dense(2, use_bias=False)
    layer = layers.TimeDistributed(inner, name="td")
    x = sequences(batch=2, timesteps=5, features=3)
    y = layer(x).numpy()
    assert [w.name for w in layer.weights] == ["td/dense/kernel"] and layer.count_params() == 6
    for t in range(5):
        np.testing.assert_allclose(y[:, t], x[:, t] @ inner.kernel.numpy(), rtol=1e-6)


def test_a_bidirectional_lstm_model_trains_in_fit_as_in_keras(keras):
    x = sequences(batch=12, timesteps=5, features=3, seed=9)
    y = x.mean(axis=(1, 2))[:, None]
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()

    def make(ls):
        return [ls.Bidirectional(ls.LSTM(3, return_sequences=True)), ls.TimeDistributed(ls.Dense(2)),
                ls.GRU(2), ls.Dense(1)]

    km = keras.Sequential([keras.Input((5, 3)), *make(keras.layers)])
    gm = gk.Sequential([gk.Input((5, 3)), *make(layers)])
    gm.set_weights(km.get_weights())
    km.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    gm.compile(optimizer=gk.optimizers.SGD(0.1), loss="mse")
    km.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    gm.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for got, expected in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_embedded_padded_text_trains_as_in_keras(keras):
    """The book's text model: Embedding(mask_zero=True) hands its mask to a Bidirectional LSTM and a GRU, so padded
    positions carry the states; predictions and 8 SGD steps from the same weights equal Keras's."""
    rng = np.random.default_rng(12)
    x = rng.integers(1, 20, size=(16, 8))
    x[:5, 5:] = 0  # padded at the end
    x[5:9, :3] = 0  # and at the start
    y = rng.normal(size=(16, 1)).astype("float32")
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()

    def make(ls):
        return [ls.Embedding(20, 4, mask_zero=True), ls.Bidirectional(ls.LSTM(3, return_sequences=True)),
                ls.GRU(2), ls.Dense(1)]

    km = keras.Sequential([keras.Input((8,), dtype="int32"), *make(keras.layers)])
    gm = gk.Sequential([gk.Input((8,), dtype="int32"), *make(layers)])
    gm.set_weights(km.get_weights())
    np.testing.assert_allclose(gm(x).numpy(), keras.ops.convert_to_numpy(km(x)), **TOLERANCE)
    km.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    gm.compile(optimizer=gk.optimizers.SGD(0.1), loss="mse")
    km.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    gm.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for got, expected in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_wrapper_errors_name_what_was_received():
    with pytest.raises(ValueError, match=r"Invalid merge mode. Received: 'max'"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match=r"initialize `Bidirectional` layer with a `keras.layers.Layer` instance"):
        layers.Bidirectional("lstm")
    with pytest.raises(ValueError, match=r"different `go_backwards` value"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2))
    with pytest.raises(ValueError, match=r'same value for attribute "return_sequences"'):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2, go_backwards=True, return_sequences=True))
    with pytest.raises(NotImplementedError, match=r"recurrent layers .* received Dense"):
        layers.Bidirectional(layers.Dense(2))
    with pytest.raises(ValueError, match=r"TimeDistributed 'time_distributed' expects inputs of rank 3 or more "
                                         r"\(batch, timesteps, \.\.\.\), received shape \(4, 3\)"):
        layers.TimeDistributed(layers.Dense(2))(np.zeros((4, 3), dtype="float32"))
    with pytest.raises(ValueError, match=r"Bidirectional .* expects inputs of rank 3|LSTM 'forward_lstm.*rank 3"):
        layers.Bidirectional(layers.LSTM(2))(np.zeros((4, 3), dtype="float32"))


def test_symbolic_calls_give_keras_output_tensors(keras):
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()

    def outputs(k):
        inputs = k.Input((6, 4))
        return [*k.layers.Bidirectional(k.layers.LSTM(3, return_state=True, return_sequences=True),
                                        merge_mode=None)(inputs),
                k.layers.TimeDistributed(k.layers.Dense(5))(inputs)]

    assert [tuple(t.shape) for t in outputs(gk)] == [tuple(t.shape) for t in outputs(keras)]

"""The functional API against Keras 3: the same graph built in both, glassnet's weights set from Keras's, gives
the same outputs, layers, parameter counts, summary (with its "Connected to" column) and errors."""

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers
from tests.layers.keras_peer import TOLERANCE, summary_text

RNG = np.random.default_rng(0)
XA = RNG.normal(size=(6, 4)).astype("float32")
XB = RNG.normal(size=(6, 3)).astype("float32")


def two_in_two_out(k):
    """Chollet's ch. 7 shape of model: two inputs, a merge, two heads."""
    a = k.Input(shape=(4,), name="a")
    b = k.Input(shape=(3,), name="b")
    x = k.layers.Dense(5, activation="relu", name="da")(a)
    y = k.layers.Dense(5, name="db")(b)
    z = k.layers.Concatenate(name="cat")([x, y])
    o1 = k.layers.Dense(1, name="out1")(z)
    o2 = k.layers.Dense(2, activation="softmax", name="out2")(z)
    return k.Model(inputs=[a, b], outputs=[o1, o2], name="two")


def predictions(model, x):
    out = model(x, training=False)
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


def keras_predictions(keras, model, x):
    out = model(x, training=False)
    outs = out if isinstance(out, (list, tuple)) else [out]
    return [keras.ops.convert_to_numpy(o) for o in outs]


def same_model(keras, make, x):
    """``make(keras)`` and ``make(glassnet)`` with Keras's weights: same layers, counts, summary and outputs."""
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km, gm = make(keras), make(gk)
    assert [layer.name for layer in gm.layers] == [layer.name for layer in km.layers]
    assert [w.shape for w in gm.get_weights()] == [tuple(w.shape) for w in km.get_weights()]
    gm.set_weights([RNG.normal(size=w.shape).astype("float32") for w in gm.get_weights()])
    km.set_weights(gm.get_weights())
    for got, expected in zip(predictions(gm, x), keras_predictions(keras, km, x), strict=True):
        np.testing.assert_allclose(got, expected, **TOLERANCE)
    assert gm.count_params() == km.count_params()
    assert summary_text(gm) == summary_text(km)
    return km, gm


def test_two_inputs_two_outputs_match_keras(keras):
    km, gm = same_model(keras, two_in_two_out, [XA, XB])
    assert "Connected to" in summary_text(gm) and "da[0][0]," in summary_text(gm)
    assert [t.shape for t in gm.inputs] == [tuple(t.shape) for t in km.inputs]
    assert [t.shape for t in gm.outputs] == [tuple(t.shape) for t in km.outputs]
    assert gm.get_layer("cat") is gm.layers[4] and gm.get_layer(index=0).name == "a"


def test_a_chain_prints_no_connected_to_column_like_keras(keras):
    def chain(k):
        inputs = k.Input(shape=(4,), name="x")
        hidden = k.layers.Dense(8, activation="relu", name="h")(inputs)
        return k.Model(inputs, k.layers.Dense(1, name="o")(hidden), name="chain")

    _, gm = same_model(keras, chain, XA)
    assert "Connected to" not in summary_text(gm) and "x (InputLayer)" in summary_text(gm)


def test_shared_layer_counts_its_weights_once(keras):
    def siamese(k):
        a, b = k.Input(shape=(4,), name="left"), k.Input(shape=(4,), name="right")
        shared = k.layers.Dense(3, activation="tanh", name="shared")
        merged = k.layers.Subtract(name="diff")([shared(a), shared(b)])
        return k.Model([a, b], k.layers.Dense(1, name="score")(merged), name="siamese")

    _, gm = same_model(keras, siamese, [XA, XA[::-1].copy()])
    assert gm.count_params() == 4 * 3 + 3 + 3 + 1
    assert "shared[0][0]," in summary_text(gm) and "shared[1][0]" in summary_text(gm)


def test_a_model_used_as_a_layer(keras):
    def nested(k):
        inner_in = k.Input(shape=(4,), name="inner_in")
        inner = k.Model(inner_in, k.layers.Dense(3, name="inner_dense")(inner_in), name="inner")
        outer_in = k.Input(shape=(4,), name="outer_in")
        return k.Model(outer_in, k.layers.Dense(2, name="head")(inner(outer_in)), name="outer")

    km, gm = same_model(keras, nested, XA)
    assert [type(layer).__name__ for layer in gm.layers] == ["InputLayer", "Functional", "Dense"]


@pytest.mark.parametrize("name, config", [
    ("Add", {}), ("Subtract", {}), ("Multiply", {}), ("Average", {}), ("Maximum", {}), ("Minimum", {}),
    ("Concatenate", {}), ("Concatenate", {"axis": 1}), ("Dot", {"axes": 1}), ("Dot", {"axes": 1, "normalize": True}),
])
def test_merging_layers_match_keras(keras, name, config):
    def merged(k):
        a, b = k.Input(shape=(4,), name="a"), k.Input(shape=(4,), name="b")
        return k.Model([a, b], getattr(k.layers, name)(name="merge", **config)([a, b]), name="merged")

    km, gm = same_model(keras, merged, [XA, XA[::-1] * 0.5])
    assert {k: v for k, v in gm.layers[2].get_config().items() if k in config} == config


def test_dot_of_sequences_matches_keras(keras):
    x, y = RNG.normal(size=(2, 3, 4)).astype("float32"), RNG.normal(size=(2, 5, 4)).astype("float32")

    def attention_scores(k):
        a, b = k.Input(shape=(3, 4), name="a"), k.Input(shape=(5, 4), name="b")
        return k.Model([a, b], k.layers.Dot(axes=(2, 2), name="scores")([a, b]), name="scores")

    same_model(keras, attention_scores, [x, y])


def test_merge_errors_match_keras(keras):
    for k in (keras, gk):
        with pytest.raises(ValueError, match="should be called on a list of"):
            k.layers.Add()(k.Input(shape=(3,)))
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        gk.layers.Concatenate(axis=1)([gk.Input((2, 3)), gk.Input((4, 5))])


def test_inputs_by_name_and_count_errors():
    layers.reset_uids()
    model = two_in_two_out(gk)
    by_position = predictions(model, [XA, XB])
    by_name = predictions(model, {"a": XA, "b": XB})
    for p, q in zip(by_position, by_name):
        np.testing.assert_array_equal(p, q)
    with pytest.raises(ValueError, match=r"expects 2 input\(s\) \(a, b\), but it received 1"):
        model(XA)
    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        model({"a": XA})


def test_graph_disconnected_is_named(keras):
    for k in (keras, gk):
        a, b = k.Input(shape=(3,), name="a"), k.Input(shape=(3,), name="b")
        out = k.layers.Add()([a, b])
        with pytest.raises(ValueError, match="Output with path `` is not connected to `inputs`"):
            k.Model(a, out)


def test_layer_input_and_output_are_the_first_call(keras):
    for k in (keras, gk):
        dense = k.layers.Dense(2)
        first, second = k.Input(shape=(3,)), k.Input(shape=(3,))
        out = dense(first)
        dense(second)
        assert dense.input is first and dense.output is out
        with pytest.raises(AttributeError, match="input_shape"):
            _ = dense.input_shape


def test_get_layer_errors_match_keras(keras):
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km, gm = two_in_two_out(keras), two_in_two_out(gk)
    for args in ({"name": "nope"}, {"index": 40}):
        with pytest.raises(ValueError) as expected:
            km.get_layer(**args)
        with pytest.raises(ValueError) as got:
            gm.get_layer(**args)
        assert str(got.value) == str(expected.value)


def test_config_round_trip_predicts_the_same():
    layers.reset_uids()
    model = two_in_two_out(gk)
    clone = gk.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    for p, q in zip(predictions(model, [XA, XB]), predictions(clone, [XA, XB])):
        np.testing.assert_array_equal(p, q)


def test_config_has_keras_layout(keras):
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    kc, gc = two_in_two_out(keras).get_config(), two_in_two_out(gk).get_config()
    assert gc["input_layers"] == [list(r) for r in kc["input_layers"]]
    assert gc["output_layers"] == [list(r) for r in kc["output_layers"]]
    k_nodes = {e["name"]: [[a["config"]["keras_history"] for a in gk.layers.symbolic.flatten(n["args"])
                            if isinstance(a, dict)] for n in e["inbound_nodes"]] for e in kc["layers"]}
    g_nodes = {e["name"]: [[a["config"]["keras_history"] for a in gk.layers.symbolic.flatten(n["args"])
                            if isinstance(a, dict)] for n in e["inbound_nodes"]] for e in gc["layers"]}
    assert g_nodes == k_nodes


def test_symbolic_tensors_refuse_to_be_data():
    x = gk.Input(shape=(3,))
    with pytest.raises(TypeError, match="no value"):
        np.asarray(x)
    with pytest.raises(ValueError, match="must be KerasTensors"):
        gk.Model(x, np.ones(3))


def test_tensors_passed_as_call_arguments_join_the_graph(keras):
    """An encoder's states handed to a decoder as ``initial_state`` (Chollet's seq2seq): the encoder's weights are
    the model's, the outputs, summary and config round trip match Keras."""
    x = [RNG.normal(size=(2, 5, 3)).astype("float32"), RNG.normal(size=(2, 4, 2)).astype("float32")]

    def seq2seq(k):
        source, target = k.Input(shape=(5, 3), name="source"), k.Input(shape=(4, 2), name="target")
        _, h, c = k.layers.LSTM(6, return_state=True, name="encoder")(source)
        decoded = k.layers.LSTM(6, return_sequences=True, name="decoder")(target, initial_state=[h, c])
        return k.Model([source, target], k.layers.Dense(2, name="out")(decoded), name="seq2seq")

    _, gm = same_model(keras, seq2seq, x)
    assert "encoder[0][1]," in summary_text(gm) and len(gm.weights) == 8
    clone = gk.Model.from_config(gm.get_config())
    clone.set_weights(gm.get_weights())
    np.testing.assert_array_equal(clone.predict(x, verbose=0), gm.predict(x, verbose=0))

"""Models of several inputs and outputs, trained in Keras 3 and in glassnet from the same weights on the same
batches: the same losses per output, metrics, History keys, evaluate results, predictions and final weights."""

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers
from tests.layers.keras_peer import TOLERANCE, same_logs
from tests.models.test_functional import two_in_two_out

RNG = np.random.default_rng(3)
N = 24
X = [RNG.normal(size=(N, 4)).astype("float32"), RNG.normal(size=(N, 3)).astype("float32")]
Y = [RNG.normal(size=(N, 1)).astype("float32"), RNG.integers(0, 2, size=N)]


def twins(keras, make=two_in_two_out):
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km, gm = make(keras), make(gk)
    gm.set_weights([RNG.normal(size=w.shape).astype("float32") * 0.5 for w in gm.get_weights()])
    km.set_weights(gm.get_weights())
    return km, gm


def trained(keras, compile_args, x=X, y=Y, make=two_in_two_out, epochs=2):
    km, gm = twins(keras, make)
    histories = []
    for k, model in ((keras, km), (gk, gm)):
        model.compile(optimizer=k.optimizers.SGD(0.05), **compile_args)
        histories.append(model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0).history)
    for got, expected in zip(gm.get_weights(), km.get_weights(), strict=True):
        np.testing.assert_allclose(got, expected, **TOLERANCE)
    same_logs(histories[1], histories[0])
    return km, gm


def test_a_loss_and_metrics_per_output_by_position(keras):
    km, gm = trained(keras, dict(loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.5],
                                 metrics=[["mae"], ["accuracy"]]))
    np.testing.assert_allclose(gm.evaluate(X, Y, verbose=0), km.evaluate(X, Y, verbose=0), rtol=1e-5)
    k_logs, g_logs = km.evaluate(X, Y, verbose=0, return_dict=True), gm.evaluate(X, Y, verbose=0, return_dict=True)
    assert list(g_logs) == list(k_logs) == ["loss", "out1_loss", "out1_mae", "out2_accuracy", "out2_loss"]
    for got, expected in zip(gm.predict(X, verbose=0), km.predict(X, verbose=0), strict=True):
        np.testing.assert_allclose(got, expected, **TOLERANCE)


def test_losses_and_labels_by_output_name(keras):
    by_name = {"out1": Y[0], "out2": Y[1]}
    trained(keras, dict(loss={"out1": "mse", "out2": "sparse_categorical_crossentropy"},
                        loss_weights={"out1": 2.0, "out2": 1.0}, metrics={"out2": "accuracy"}), y=by_name)


def test_dict_inputs_by_input_name(keras):
    """Chollet's ch. 7 style: inputs and labels given as dicts keyed by the Input and output names."""
    by_name = {"a": X[0], "b": X[1]}
    trained(keras, dict(loss=["mse", "sparse_categorical_crossentropy"]), x=by_name)


def test_one_output_of_a_two_input_model_trains_like_keras(keras):
    def first_head(k):
        model = two_in_two_out(k)
        return k.Model(model.inputs, model.outputs[0], name="first")

    trained(keras, dict(loss="mse", metrics=["mae"]), y=Y[0], make=first_head)


def test_several_outputs_errors_match_keras(keras):
    km, gm = twins(keras)
    with pytest.raises(ValueError) as expected:
        km.compile(optimizer="sgd", loss={"nope": "mse"})
        km.evaluate(X, Y, verbose=0)
    with pytest.raises(ValueError) as got:
        gm.compile(optimizer="sgd", loss={"nope": "mse"})
    assert str(got.value) == str(expected.value)
    with pytest.raises(ValueError, match="Invalid `metrics`. `metrics` should contain metrics objects"):
        gm.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    with pytest.raises(ValueError, match=r"needs 2 entries, one per output; received 1"):
        gm.compile(optimizer="sgd", loss=["mse"])
    gm.compile(optimizer="sgd", loss=["mse", "sparse_categorical_crossentropy"])
    with pytest.raises(ValueError, match=r"`y` has 1 arrays, but the model has 2 outputs"):
        gm.fit(X, [Y[0]], verbose=0)


def test_one_loss_for_every_output(keras):
    y = [Y[0], RNG.normal(size=(N, 2)).astype("float32")]
    trained(keras, dict(loss="mse"), y=y)


def test_weighted_metrics_and_vector_results_match_keras(keras):
    """compile(weighted_metrics=...) gives the sample weights to those metrics (a name also in `metrics` is logged
    as weighted_<name>); a metric with one value per class keeps its array in the logs."""
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    x = RNG.normal(size=(N, 4)).astype("float32")
    y = (RNG.random(size=(N, 1)) > 0.5).astype("float32")
    sw = RNG.random(size=N).astype("float32")
    results = []
    for k in (keras, gk):
        model = k.Sequential([k.Input((4,)), k.layers.Dense(1, activation="sigmoid", name="out")])
        model.set_weights([np.full((4, 1), 0.3, "float32"), np.zeros(1, "float32")])
        model.compile(loss="binary_crossentropy", metrics=["accuracy", k.metrics.F1Score(average=None,
                                                                                          threshold=0.5)],
                      weighted_metrics=["accuracy", "mae"])
        results.append(model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True))
        assert model.metrics_names == ["loss", "compile_metrics"]
    expected, got = results
    assert sorted(got) == sorted(expected) == ["accuracy", "f1_score", "loss", "mae", "weighted_accuracy"]
    for key in expected:
        np.testing.assert_allclose(got[key], keras.ops.convert_to_numpy(expected[key]), rtol=1e-5)

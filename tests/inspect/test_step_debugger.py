"""inspect.step: one training step's every value under step_source's names, and explain(unit=…) with numbers."""

import re

import numpy as np
import pytest

import glassnet
from glassnet.inspect import explain, step


def _model(activation="sigmoid", optimizer=None):
    model = glassnet.Sequential([glassnet.Input((3,)), glassnet.layers.Dense(2, activation=activation),
                                 glassnet.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizer or glassnet.optimizers.SGD(0.1), loss="binary_crossentropy")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((4, 3)).astype("float32"), np.array([[1], [0], [1], [0]], "float32")


def test_values_are_named_as_step_source_names_them_and_follow_the_math():
    model, (x, y) = _model(), _data()
    values = step(model, x, y)
    assigned = set(re.findall(r"^    (\w+) = ", values.source, re.M)) | {"X", "Y", "dJ"}
    assigned |= {n.strip() for line in re.findall(r"^    (.+?) = \w+\.backward", values.source, re.M)
                 for n in line.split(",") if n.strip() != "_"}
    assert assigned <= set(values)
    w1, b1, w2, b2 = (values[n] for n in ("W1", "b1", "W2", "b2"))
    np.testing.assert_allclose(values["Z1"], x @ w1 + b1, rtol=1e-6)
    np.testing.assert_allclose(values["A1"], 1 / (1 + np.exp(-values["Z1"])), rtol=1e-6)
    np.testing.assert_allclose(values["dZ2"], (values["A2"] - y) / len(x), rtol=1e-5, atol=1e-7)  # dZ = A − Y, /m
    np.testing.assert_allclose(values["dW2"], values["A1"].T @ values["dZ2"], rtol=1e-5)
    np.testing.assert_allclose(values.delta("W2"), -0.1 * values["dW2"], rtol=1e-4, atol=1e-7)  # SGD: ΔW = −α·dW
    np.testing.assert_allclose(model.get_weights()[2], w2 - 0.1 * values["dW2"], rtol=1e-5)  # the update happened
    assert values.loss == pytest.approx(float(values["J"]))
    assert "dW[2] = A[1]ᵀ·dZ[2]" in str(values)


def test_step_updates_as_keras_3_does(keras):
    model, (x, y) = _model(optimizer="adam"), _data()
    peer = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="sigmoid"),
                             keras.layers.Dense(1, activation="sigmoid")])
    peer.compile(optimizer="adam", loss="binary_crossentropy")
    peer.set_weights(model.get_weights())
    logs = peer.train_on_batch(x, y, return_dict=True)
    values = step(model, x, y)
    assert values.loss == pytest.approx(logs["loss"], rel=1e-5)
    for name, expected in zip(("W1", "b1", "W2", "b2"), peer.get_weights()):
        np.testing.assert_allclose(values.updated[name], expected, atol=1e-5)


def test_the_optimizers_state_before_and_after_follows_rmsprops_rule():
    """v ← ρ·v + (1 − ρ)·dW², then W ← W − α·dW / √(v + ε) (Keras's RMSprop): the step's own velocity, read before
    and after."""
    model, (x, y) = _model(optimizer=glassnet.optimizers.RMSprop(0.01)), _data()
    model.train_on_batch(x, y)  # a velocity that is not zero any more
    values = step(model, x, y)
    for name in ("W1", "b1", "W2", "b2"):
        v0, v1, grad = values.state[name]["velocity"], values.updated_state[name]["velocity"], values[f"d{name}"]
        assert np.any(v0 != 0)
        np.testing.assert_allclose(v1, 0.9 * v0 + 0.1 * grad ** 2, rtol=1e-5)
        np.testing.assert_allclose(values.delta(name), -0.01 * grad / np.sqrt(v1 + 1e-7), rtol=1e-4, atol=1e-8)
    assert re.search(r"W2 .* velocity [\d.e-]+ → [\d.e-]+", str(values))
    assert step(_model(), x, y).state["W1"] == {}  # plain SGD keeps no state


def test_explain_unit_fills_the_lecture_equations_with_one_samples_numbers():
    model, (x, y) = _model(), _data()
    before = [w.copy() for w in model.get_weights()]
    text = str(explain(model, x[:1], y[:1], unit=0, layer=2))
    hidden = str(explain(model, x[:1], y[:1], unit=1, layer=1))
    values = step(model, x[:1], y[:1])  # the same step, now kept: explain undid its update
    for a, b in zip(before, values.weights.values()):
        np.testing.assert_array_equal(a, b)
    z, a2 = float(values["Z2"][0, 0]), float(values["A2"][0, 0])
    terms = re.search(r"z = (.+) = (\S+)$", text, re.M)
    numbers = [float(t.replace("−", "-").strip("()")) for t in re.split(r" \+ |·", terms.group(1))]
    w, a, b = numbers[0:4:2], numbers[1:4:2], numbers[4]
    assert float(np.dot(w, a) + b) == pytest.approx(z, abs=1e-3)
    assert float(terms.group(2).replace("−", "-")) == pytest.approx(z, abs=1e-3)
    assert f"σ({z:.4g}".replace("-", "−") in text
    assert f"dZ[2] = 1 · ({a2:.4g} − 1) = {a2 - 1:.4g}".replace("-", "−") in text
    da = float(values["dZ2"][0, 0] * values["W2"][1, 0])  # dA[1] = dZ[2]·W[2]ᵀ, one unit of the next layer
    assert "dA[1] = dZ[2]·W[2]ᵀ" in hidden and f"= {da:.4g}".replace("-", "−") in hidden
    assert float(values["dA1"][0, 1]) == pytest.approx(da, rel=1e-5)


def test_explain_unit_errors_name_what_was_received():
    model, (x, y) = _model(), _data()
    with pytest.raises(ValueError, match=r"argument `unit` must be an integer in \[0, 2\).*received 5"):
        explain(model, x[:1], y[:1], unit=5, layer=1)
    with pytest.raises(ValueError, match="argument `layer` must be one of the step's layers \\[1, 2\\], received 7"):
        explain(model, x[:1], y[:1], unit=0, layer=7)
    with pytest.raises(ValueError, match="needs the sample"):
        explain(model, unit=0)
    uncompiled = glassnet.Sequential([glassnet.Input((3,)), glassnet.layers.Dense(1)])
    with pytest.raises(ValueError, match="has not been compiled"):
        step(uncompiled, x, y)
    with pytest.raises(TypeError, match="received int"):
        step(3, x, y)


def test_epoch_view_reads_each_epochs_weights_and_leaves_the_model_as_it_was():
    from glassnet.inspect.scrub import epoch_view

    model, (x, y) = _model(), _data()
    snapshots = []
    for _ in range(3):
        model.fit(x, y, epochs=1, verbose=0)
        snapshots.append([w.copy() for w in model.get_weights()])
    final = model.get_weights()
    view = epoch_view(model, snapshots, 0, layer=1, unit=1, x=x, y=y)
    np.testing.assert_array_equal(view["W"], snapshots[0][0][:, 1])
    np.testing.assert_allclose(view["Z"], x @ snapshots[0][0][:, 1] + snapshots[0][1][1], rtol=1e-5)
    assert view["dW"].shape == (3,) and view["A"].shape == (4,)
    for a, b in zip(final, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"`epoch` must be an integer in \[0, 3\), received 3"):
        epoch_view(model, snapshots, 3, 1, 0, x, y)


def test_scrub_epochs_widget_redraws_on_the_slider():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from glassnet.inspect.scrub import scrub_epochs

    model, (x, y) = _model(), _data()
    snapshots = [[w.copy() for w in model.get_weights()]]
    model.fit(x, y, epochs=1, verbose=0)
    snapshots.append([w.copy() for w in model.get_weights()])
    box = scrub_epochs(model, snapshots, x, y)
    epoch, layer, unit = box.children[0].children
    assert (epoch.max, list(layer.options), unit.max) == (1, [1, 2], 1)
    layer.value = 2
    assert unit.max == 0  # the output layer has one unit
    epoch.value = 1  # redraws without error


def test_explain_unit_on_softmax_convolution_and_two_inputs():
    rng = np.random.default_rng(1)
    soft = glassnet.Sequential([glassnet.Input((5,)), glassnet.layers.Dense(4, activation="tanh"),
                                glassnet.layers.Dense(3, activation="softmax")])
    soft.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = rng.random((2, 5)).astype("float32")
    text = str(explain(soft, x[:1], np.array([2]), unit=1, layer=2))
    row = step(soft, x[:1], np.array([2]))["Z2"][0]
    assert "A[2] = softmax([" + ", ".join(f"{v:.4g}".replace("-", "−") for v in row) + "])" in text  # the whole row
    conv = glassnet.Sequential([glassnet.Input((6, 6, 1)), glassnet.layers.Conv2D(2, 3, activation="relu"),
                                glassnet.layers.Flatten(), glassnet.layers.Dense(1, activation="sigmoid")])
    conv.compile(optimizer="sgd", loss="binary_crossentropy")
    xc = rng.random((1, 6, 6, 1)).astype("float32")
    text = str(explain(conv, xc, np.ones((1, 1), "float32"), unit=0, layer=1))
    assert "Z[1][0, …, 0]: 16 values" in text and "dW1[…, 0] = [" in text
    a, b = glassnet.Input((4,)), glassnet.Input((2,))
    joined = glassnet.layers.Concatenate()([glassnet.layers.Dense(3)(a), b])
    two = glassnet.Model([a, b], glassnet.layers.Dense(1, activation="sigmoid")(joined))
    two.compile(optimizer="sgd", loss="binary_crossentropy")
    values = step(two, [rng.random((3, 4)).astype("float32"), rng.random((3, 2)).astype("float32")],
                  np.ones((3, 1), "float32"))
    assert {"X1", "X2", "Z1", "Z2", "dW1", "dW2"} <= set(values)


def test_a_step_that_cannot_be_read_leaves_the_model_as_it_was():
    model, (x, y) = _model(), _data()
    model.compile(optimizer=glassnet.optimizers.SGD(0.1), loss="binary_crossentropy", run_eagerly=True)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="run_eagerly=True"):
        step(model, x, y)
    with pytest.raises(ValueError):
        step(_model(), x[:, :2], y)  # the model's own shape error
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0

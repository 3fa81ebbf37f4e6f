"""explain: the course's equations, read off the recorded graph, with real shapes and (with data) real values."""

import re
import sys

import numpy as np
import pytest

from glassnet import losses, ops
from glassnet.inspect.explain import explain
from glassnet.layers import Dense
from tests.example_models import Stack, example, net_2_3_1

SIX_BACKWARD = [
    ("dZ[2]", "A[2] − Y", "(m, 1) = (m, 1) − (m, 1)"),
    ("dW[2]", "A[1]ᵀ·dZ[2] / m", "(3, 1) = (m, 3)ᵀ·(m, 1) / m"),
    ("db[2]", "Σ dZ[2] / m", "(1,) = Σ (m, 1) / m"),
    ("dA[1]", "dZ[2]·W[2]ᵀ", "(m, 3) = (m, 1)·(3, 1)ᵀ"),
    ("dZ[1]", "dA[1] · A[1](1 − A[1])", "(m, 3) = (m, 3) · (m, 3)(1 − (m, 3))"),  # g'(Z) = σ(Z)(1 − σ(Z))
    ("dW[1]", "Xᵀ·dZ[1] / m", "(2, 3) = (m, 2)ᵀ·(m, 3) / m"),
    ("db[1]", "Σ dZ[1] / m", "(3,) = Σ (m, 3) / m"),
]


def test_2_3_1_forward_and_backward_equations_with_shapes():
    e = explain(net_2_3_1())
    forward = [(q.lhs, q.rhs, q.shapes) for q in e.forward]
    assert forward[:4] == [
        ("Z[1]", "X·W[1] + b[1]", "(m, 3) = (m, 2)·(2, 3) + (3,)"),
        ("A[1]", "σ(Z[1])", "(m, 3) = σ((m, 3))"),
        ("Z[2]", "A[1]·W[2] + b[2]", "(m, 1) = (m, 3)·(3, 1) + (1,)"),
        ("A[2]", "σ(Z[2])", "(m, 1) = σ((m, 1))"),
    ]
    assert [(q.lhs, q.rhs, q.shapes) for q in e.backward] == SIX_BACKWARD
    text = str(e)
    assert "Z = W·X + b" in text and "transpose" in text
    for lhs, rhs, _ in SIX_BACKWARD:
        assert f"{lhs} = {rhs}" in text


def test_values_follow_the_course_formulas():
    model = net_2_3_1()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 2)).astype("float32")
    y = (rng.random((5, 1)) > 0.5).astype("float32")
    e = explain(model, x, y)
    values = {q.lhs: q.values for q in e.forward + e.backward}
    w1, b1, w2, b2 = (np.asarray(v.numpy(), dtype=np.float64) for layer in model.layers for v in layer.weights)
    z1 = x @ w1 + b1
    a1 = 1 / (1 + np.exp(-z1))
    z2 = a1 @ w2 + b2
    a2 = 1 / (1 + np.exp(-z2))
    per_sample = -(y * np.log(a2) + (1 - y) * np.log(1 - a2))
    dz2 = a2 - y
    da1 = dz2 @ w2.T
    dz1 = da1 * a1 * (1 - a1)
    expected = {"Z[1]": z1, "A[1]": a1, "Z[2]": z2, "A[2]": a2, "L1": per_sample, "L": per_sample[:, 0],
                "J": per_sample.mean(), "dZ[2]": dz2, "dW[2]": a1.T @ dz2 / 5, "db[2]": dz2.sum(0) / 5,
                "dA[1]": da1, "dZ[1]": dz1, "dW[1]": x.T @ dz1 / 5, "db[1]": dz1.sum(0) / 5}
    assert sorted(values) == sorted(expected)
    for name, want in expected.items():
        np.testing.assert_allclose(values[name], want, atol=1e-5, err_msg=name)
    # the text shows the same numbers to 4 decimals under each equation (dW[1] in full: 2×3; J, a scalar)
    text = str(e)
    shown = text.split("dW[1] = Xᵀ·dZ[1] / m")[1].split("db[1] =")[0]
    np.testing.assert_allclose([float(v) for v in re.findall(r"-?\d+\.\d+", shown)], (x.T @ dz1 / 5).ravel(),
                               atol=5.1e-5)
    cost_line = text.split("J = (1/m) Σ L")[1].splitlines()[1]
    assert float(cost_line.split("=")[1]) == pytest.approx(per_sample.mean(), abs=5.1e-5)


Cube = example("custom_activation").Cube  # a custom Function: a = z³, backward dz = da · 3z²


def _built(model, n_in=2):
    model(np.zeros((1, n_in), dtype="float32"))
    return model


def test_custom_activation_shows_its_own_derivative():
    model = _built(Stack([Dense(3, activation=Cube.apply), Dense(1, activation="sigmoid")],
                         losses.BinaryCrossentropy()))
    e = explain(model)
    assert ("A[1]", "Z[1]³") in [(q.lhs, q.rhs) for q in e.forward]
    assert ("dZ[1]", "dA[1] · 3Z[1]²") in [(q.lhs, q.rhs) for q in e.backward]


def test_composed_activation_shows_as_its_chain():
    swish = lambda z: ops.multiply(z, ops.sigmoid(z))  # noqa: E731 - a custom activation from ops, no backward
    model = _built(Stack([Dense(3, activation=swish), Dense(1, activation="sigmoid")], losses.BinaryCrossentropy()))
    e = explain(model)
    assert [(q.lhs, q.rhs) for q in e.forward][1:3] == [("H[1]", "σ(Z[1])"), ("A[1]", "Z[1] · H[1]")]
    backward = [(q.lhs, q.rhs) for q in e.backward]
    assert ("dH[1]", "dA[1] · Z[1]") in backward
    assert ("dZ[1]", "dA[1] · H[1] + dH[1] · H[1](1 − H[1])") in backward  # product rule, then σ'


def test_relu_and_softmax_output():
    model = _built(Stack([Dense(4, activation="relu"), Dense(3, activation="softmax")],
                         losses.CategoricalCrossentropy()))
    backward = [(q.lhs, q.rhs) for q in explain(model).backward]
    assert backward[0] == ("dZ[2]", "A[2] − Y")
    assert ("dZ[1]", "dA[1] · [Z[1] > 0]") in backward


def test_a_sequence_model_of_any_length_reads_layer_by_layer_and_step_by_step():
    """Input((None,)) gets a short example sequence; the cast of the word indices joins the Embedding (layer 1);
    the LSTM (layer 2) reads every step's x·W + b in one product, then step by step z = xW + h·U, its gates and
    states under step_source's names (a⟨1⟩, c⟨1⟩, h⟨1⟩)."""
    import glassnet as keras
    from glassnet import layers

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((None,), dtype="int64"), layers.Embedding(50, 4), layers.LSTM(3),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    lines = [f"{q.lhs} = {q.rhs}" for q in explain(model).forward]
    assert lines[:2] == ["H[1] = cast(X)", "Z[1] = onehot(H[1])·embeddings[1]"]
    inputs = [i for i, line in enumerate(lines) if line.endswith("·W[2] + b[2]")]
    recurrent = [i for i, line in enumerate(lines) if "·U[2]" in line]
    assert lines[inputs[0]] == "xW_all = x_all·W[2] + b[2]" and len(recurrent) == 3  # a sequence of 3 steps
    shapes = {q.lhs: q.shapes for q in explain(model).forward}
    assert shapes["H[2]"] == "(3, m, 4) = transpose((m, 3, 4))"  # time-major: the samples on the second axis
    assert shapes["x_all"] == "(3m, 4) = reshape((3, m, 4))"  # the steps' rows one block of m after the other
    assert "xW⟨3⟩ = xW_all[2m:3m]" in lines and shapes["xW⟨3⟩"] == "(m, 12) = xW_all[2m:3m]"
    assert inputs[0] < recurrent[0] < recurrent[1] < recurrent[2]
    assert lines[-5:-3] == ["Z[3] = h⟨3⟩·W[3] + b[3]", "A[3] = σ(Z[3])"]
    step_1 = [line for line in lines if "⟨1⟩ = " in line]
    assert step_1 == ["xW⟨1⟩ = xW_all[0:m]", "z⟨1⟩ = xW⟨1⟩ + h⟨0⟩·U[2]",
                      "a⟨1⟩ = [σ(z_i⟨1⟩), σ(z_f⟨1⟩), tanh(z_c⟨1⟩), σ(z_o⟨1⟩)]", "c⟨1⟩ = f⟨1⟩ ⊙ c⟨0⟩ + i⟨1⟩ ⊙ c̃⟨1⟩",
                      "h⟨1⟩ = o⟨1⟩ ⊙ tanh(c⟨1⟩)"]  # the zero states h⟨0⟩, c⟨0⟩


def test_a_long_sequence_reads_block_by_block_in_m(monkeypatch):
    """A sequence longer than a block (BLOCK_ROWS rows; one timestep here) projects its inputs one block at a time:
    the blocks and their steps' rows are written in m, as the single product's are."""
    import glassnet as keras
    from glassnet import layers
    from glassnet.layers import recurrent

    monkeypatch.setattr(recurrent, "BLOCK_ROWS", 1)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((None,), dtype="int64"), layers.Embedding(50, 4), layers.LSTM(3)])
    model.compile(optimizer="rmsprop", loss="mse")
    forward = explain(model).forward
    lines = [f"{q.lhs} = {q.rhs}" for q in forward]
    shapes = {q.lhs: q.shapes for q in forward}
    assert "xW_all" not in "\n".join(lines)
    assert lines.index("x⟨2:2⟩ = x_all[m:2m]") < lines.index("xW⟨2:2⟩ = x⟨2:2⟩·W[2] + b[2]") < lines.index(
        "xW⟨2⟩ = xW⟨2:2⟩[0:m]") < lines.index("z⟨2⟩ = xW⟨2⟩ + h⟨1⟩·U[2]")
    assert shapes["xW⟨2:2⟩"] == "(m, 12) = (m, 4)·(4, 12) + (12,)"


def test_the_shapes_column_waits_for_equations_up_to_the_limit_only(monkeypatch):
    """Lines keep their shapes in a column after ALIGN_LIMIT characters of equation; a longer equation (an LSTM's
    gate gradients put back side by side) has them four spaces after it."""
    import glassnet as keras
    from glassnet import layers
    monkeypatch.setattr(sys.modules["glassnet.inspect.explain"], "ALIGN_LIMIT", 40)
    model = keras.Sequential([keras.Input((2,), dtype="int64"), layers.Embedding(20, 4),
                              layers.LSTM(3, recurrent_activation="hard_sigmoid")])  # each gate its own op
    model.compile(optimizer="sgd", loss="mse")
    e = explain(model)
    lines = e.text().splitlines()
    scattered = [q for q in e.backward if q.rhs.endswith("put back at their indexed places")]
    assert [q.rhs for q in scattered[:2]] == [f"{gates} put back at their indexed places" for gates in (
        "dz_i⟨2⟩, dz_f⟨2⟩, dz_c⟨2⟩, dz_o⟨2⟩", "dz_i⟨1⟩, dz_f⟨1⟩, dz_c⟨1⟩, dz_o⟨1⟩")]  # step 2 first, gates in order
    assert any(len(str(q)) > 40 for q in e.forward + e.backward) and any(len(str(q)) < 40 for q in e.forward)
    for q in e.forward + e.backward:
        line = next(line for line in lines if line.startswith(f"  {q} ") and f"{q.lhs}: {q.shapes}" in line)
        assert line.index(f"{q.lhs}: {q.shapes}", len(str(q)) + 2) == 2 + max(len(str(q)), 40) + 4

"""explain, trace, cost and step_source open every kind of model the same way: Sequential, functional with two
inputs and two outputs, and subclassed."""

import numpy as np
import pytest

import glassnet as gk
from glassnet import inspect, layers

RNG = np.random.default_rng(2)
X = [RNG.normal(size=(8, 4)).astype("float32"), RNG.normal(size=(8, 3)).astype("float32")]
Y = [RNG.integers(0, 2, size=(8, 1)).astype("float32"), RNG.integers(0, 3, size=8)]


def two_headed():
    layers.reset_uids()
    a, b = gk.Input(shape=(4,), name="a"), gk.Input(shape=(3,), name="b")
    merged = layers.Concatenate()([layers.Dense(5, activation="relu")(a), layers.Dense(5)(b)])
    model = gk.Model([a, b], [layers.Dense(1, activation="sigmoid", name="p")(merged),
                              layers.Dense(3, activation="softmax", name="d")(merged)])
    model.compile(optimizer="sgd", loss=["binary_crossentropy", "sparse_categorical_crossentropy"])
    return model


class Subclassed(gk.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(6, activation="tanh")
        self.out = layers.Dense(1, activation="sigmoid")

    def call(self, inputs):
        return self.out(self.hidden(inputs))


def test_explain_names_each_input_and_both_heads():
    text = str(inspect.explain(two_headed(), X, Y))
    assert "X1·W" in text and "X2·W" in text and "(m, 3)·(3, 5)" in text and "(m, 4)·(4, 5)" in text
    assert "softmax(Z[4])" in text and "σ(Z[3])" in text


def test_trace_has_every_input_and_label():
    graph = inspect.trace(two_headed(), X, Y)
    assert sorted(n.name for n in graph.nodes if n.op in ("Input", "Labels")) == ["x1", "x2", "y1", "y2"]
    assert graph.loss_id is not None


def test_cost_counts_every_parameter():
    model = two_headed()
    report = inspect.cost(model, 16)
    assert sum(layer.params for layer in report.layers) == model.count_params() == 4 * 5 + 5 + 3 * 5 + 5 + 11 + 33


def test_step_source_of_a_two_input_model_names_its_inputs():
    model = two_headed()
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    source = model.step_source()
    assert "X1 (8, 4)" in source and "X2 (8, 3)" in source and "Y2 (8,)" in source


@pytest.mark.parametrize("what", ["explain", "trace", "step_source"])
def test_a_subclassed_model_opens_like_a_sequential(what):
    layers.reset_uids()
    model = Subclassed()
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x, y = X[0], Y[0]
    model.fit(x, y, batch_size=8, verbose=0)
    if what == "step_source":
        assert "dW[2] = A[1]ᵀ·dZ[2]" in model.step_source()
    elif what == "explain":
        assert "A[2] = σ(Z[2])" in str(inspect.explain(model, x, y))
    else:
        assert {n.layer for n in inspect.trace(model, x, y).ops} >= {"dense", "dense_1"}


def test_explain_writes_an_lstm_one_op_per_line():
    """Every op of an unrolled LSTM gets a name, so no equation inlines the earlier timesteps (each right-hand side
    is one op on named values)."""
    layers.reset_uids()
    model = gk.Sequential([gk.Input((4, 3)), layers.LSTM(2), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    explanation = inspect.explain(model)
    steps = [eq.lhs for eq in explanation.forward if "⟨" in eq.lhs]
    assert steps == [f"{value}⟨{t}⟩" for t in range(1, 5)
                     for value in ("xW", "z", "a", "c", "h")]  # its block of xW_all, then the textbook's four
    assert max(len(eq.rhs) for eq in explanation.forward) < 60
    assert any(eq.rhs.startswith("σ(") for eq in explanation.forward)  # the Dense output's
    assert sum(eq.rhs.startswith("[σ(z_i⟨") for eq in explanation.forward) == 4  # the gates, once a step


def test_explain_writes_a_gru_as_its_two_equations_a_step():
    """A GRU step (reset_after=True) is its slice of xW_all, hU = h·U + b_U, the gates a = [z, r, h̃] and
    h = z ⊙ h_prev + (1 − z) ⊙ h̃; backward, each gradient is written after those it reads (dhU, then dxW)."""
    layers.reset_uids()
    model = gk.Sequential([gk.Input((3, 2)), layers.GRU(4), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    explanation = inspect.explain(model)
    forward = {eq.lhs: eq.rhs for eq in explanation.forward}
    assert [eq.lhs for eq in explanation.forward if "⟨" in eq.lhs] == [
        f"{value}⟨{t}⟩" for t in range(1, 4) for value in ("xW", "hU", "a", "h")]
    assert forward["hU⟨2⟩"] == "h⟨1⟩·U[1] + b_U"
    assert forward["a⟨2⟩"] == "[σ(xW_z⟨2⟩ + hU_z⟨2⟩), σ(xW_r⟨2⟩ + hU_r⟨2⟩), tanh(xW_h⟨2⟩ + r⟨2⟩ ⊙ hU_h⟨2⟩)]"
    assert forward["h⟨2⟩"] == "z⟨2⟩ ⊙ h⟨1⟩ + (1 − z⟨2⟩) ⊙ h̃⟨2⟩"
    backward = [eq.lhs for eq in explanation.backward]
    assert backward.index("dhU⟨2⟩") + 1 == backward.index("dxW⟨2⟩")
    assert next(eq.rhs for eq in explanation.backward if eq.lhs == "dxW⟨2⟩").startswith("[dhU_z⟨2⟩, dhU_r⟨2⟩, ")


@pytest.mark.parametrize("layer", ["LSTM", "SimpleRNN"])
def test_explain_writes_m_for_the_rows_of_the_zero_states_terms(layer):
    """h⟨0⟩ is a constant, but it has a row per sample: z⟨1⟩ = xW⟨1⟩ + h⟨0⟩·U reads (m, …), not the batch size the
    explanation happened to trace (4)."""
    layers.reset_uids()
    model = gk.Sequential([gk.Input((3, 2)), getattr(layers, layer)(5), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    shapes = {eq.lhs: eq.shapes for eq in inspect.explain(model).forward}
    width = 20 if layer == "LSTM" else 5
    assert shapes["z⟨1⟩"] == f"(m, {width}) = (m, {width}) + h⟨0⟩·(5, {width})"
    assert shapes["z⟨2⟩"] == f"(m, {width}) = (m, {width}) + (m, 5)·(5, {width})"
    assert "(4," not in "".join(shapes.values())  # m wherever the rows are samples

"""model.step_source(): the text of the step fit runs, with the course's names and equations, run as written."""

import re

import numpy as np
import pytest

import glassnet as keras
from glassnet import inspect, layers
from glassnet.autodiff.step_source import NamedExpressions


def two_layer(seed: int = 0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((2,)), layers.Dense(3, activation="sigmoid"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    return model


def xor_batch(m: int = 16):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((m, 2)).astype("float32")
    return x, (x[:, :1] * x[:, 1:] > 0).astype("float32")


def run_text(source, x, y):
    """Execute the returned text in the namespace of its bindings: (loss, predictions, gradients)."""
    namespace = dict(source.bindings)
    exec(str(source), namespace)
    loss, y_pred = namespace["forward"](x, y)
    grads = namespace["backward"](np.ones((), dtype=np.float32))
    return loss, y_pred, grads


def test_the_text_is_the_step_fit_ran_bit_for_bit():
    model = two_layer()
    x, y = xor_batch()
    initial = model.get_weights()
    history = model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    fit_grads = [v.grad.copy() for v in model.trainable_weights]
    source = model.step_source()
    model.set_weights(initial)  # the weights that fit's one step started from
    loss, y_pred, grads = run_text(source, x, y)
    assert float(loss) == history.history["loss"][0]
    by_name = dict(zip(re.search(r"return \[(.*)\]\n$", source).group(1).split(", "), grads))
    for v, fit_grad, name in zip(model.trainable_weights, fit_grads, ["dW1", "db1", "dW2", "db2"]):
        assert np.array_equal(by_name[name], fit_grad), v.name
    np.testing.assert_array_equal(y_pred, model.predict(x, verbose=0))


def test_two_layer_text_holds_the_lecture_equations_in_order():
    model = two_layer()
    d1, d2 = (layer.name for layer in model.layers)
    source = str(model.step_source(batch_size=8))
    forward, backward = source.split("def backward")
    for line in [f"Z1 = {d1}_affine.forward(X, W1, b1)", "# Z[1] = X·W[1] + b[1]", f"A1 = {d1}_sigmoid.forward(Z1)",
                 "# A[1] = σ(Z[1])", "# Z[2] = A[1]·W[2] + b[2]", "# A[2] = σ(Z[2])"]:
        assert line in forward
    equations = ["dZ[2] = dL1 · (A[2] − Y)", "dW[2] = A[1]ᵀ·dZ[2]", "db[2] = Σ dZ[2]", "dZ[1] = dA[1] · A[1](1 − A[1])",
                 "dW[1] = Xᵀ·dZ[1]", "db[1] = Σ dZ[1]"]
    positions = [backward.index(e) for e in equations]
    assert positions == sorted(positions)
    assert f"dA1, dW2, db2 = {d2}_affine.backward(dZ2)" in backward
    assert f"_, dW1, db1 = {d1}_affine.backward(dZ1)" in backward
    assert "return [dW1, db1, dW2, db2]" in backward
    assert f"# Weights: W1 = {d1}/kernel, b1 = {d1}/bias, W2 = {d2}/kernel, b2 = {d2}/bias." in source


def test_inspect_step_source_is_the_models_and_names_the_batch():
    model = two_layer()
    text = inspect.step_source(model, batch_size=4)
    assert text == model.step_source(batch_size=4)
    assert "recorded on X (4, 2) float32, Y (4, 1) float32" in text
    # the fused cross-entropy reads the logits Z2, not the sigmoid's output A2
    assert "L1 = loss_sigmoid_cross_entropy.forward(Y, Z2)" in text


def test_a_fresh_trace_is_the_plan_fit_then_replays():
    model = two_layer()
    text = model.step_source(batch_size=4)
    x, y = xor_batch(4)
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert model.step_source() is text  # the same recorded plan: fit ran it rather than a new trace


def test_dropout_and_relu_name_their_values():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(5, activation="relu"), layers.Dropout(0.5),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    d1, dropout, d2 = (layer.name for layer in model.layers)
    text = model.step_source(batch_size=4)
    assert f"H1 = {d1}_relu.forward(Z1)" in text
    assert f"A1 = {dropout}_dropout.forward(H1)" in text and "# A[1] = H[1] · mask / (1 − rate)" in text
    assert f"dA1, dW2, db2 = {d2}_affine.backward(dZ2)" in text
    assert re.search(r"_, dZ2 = loss_sparse_softmax_cross_entropy\.backward\(dL\d\); del dL\d +# dZ\[2\] = dL\d · "
                     r"\(A\[2\] − onehot\(L1\)\)", text)  # L1: the labels Y as a vector


@pytest.mark.parametrize("stage, message", [
    ("uncompiled", r"has not been compiled.*Call `model\.compile\(optimizer=\.\.\., loss=\.\.\.\)` first"),
    ("unbuilt", r"has not been built.*Call `model\.build\(input_shape\)`"),
    ("eager", r"run_eagerly=True, so fit runs the eager tape"),
])
def test_step_source_says_what_to_call_first(stage, message):
    model = keras.Sequential([layers.Dense(1)])
    if stage != "uncompiled":
        model.compile(optimizer="sgd", loss="mse", run_eagerly=stage == "eager")
    if stage == "eager":
        model.build((None, 3))
    with pytest.raises(ValueError, match=message):
        model.step_source()


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "32"])
def test_bad_batch_size_is_named(bad):
    with pytest.raises(ValueError, match=rf"`batch_size` must be a positive integer, received {re.escape(repr(bad))}"):
        two_layer().step_source(batch_size=bad)


def test_inspect_step_source_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match="expects a compiled glassnet model.*received ndarray"):
        inspect.step_source(np.zeros(3))


def test_an_lstms_slices_are_written_with_their_indices_and_names_are_never_cut_into():
    """Each slice's comment shows its own index (a timestep's block of xW_all, a gate's columns of z⟨t⟩, with an
    activation other than sigmoid/tanh, so each gate is its own op), and a value's name replaces an expression only
    where it stands whole: ``get_item`` never appears inside ``get_item_5``; the layer's last step is named as its
    other steps are."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,), dtype="int32"), layers.Embedding(50, 4),
                              layers.LSTM(2, recurrent_activation="hard_sigmoid"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    text = model.step_source(batch_size=4)
    comments = [line.split("  # ", 1)[1] for line in text.splitlines() if ".forward(" in line]
    assert "xW_all = x_all·W[2] + b[2]" in comments and "xW⟨2⟩ = xW_all[4:8]" in comments
    assert [c for c in comments if c.startswith("z_i⟨1⟩ =")] == ["z_i⟨1⟩ = z⟨1⟩[:, 0:2]"]
    assert "i⟨1⟩ = clip / 6" in comments and "add_2 = z_f⟨1⟩ + 3" in comments  # hard σ(z) = clip(z + 3, 0, 6) / 6
    assert "c̃⟨3⟩ = tanh(z_c⟨3⟩)" in comments and "z⟨1⟩ = xW⟨1⟩ + h⟨0⟩·U[2]" in comments
    assert "mul = f⟨1⟩ · c⟨0⟩" in comments  # the initial states are h⟨0⟩ and c⟨0⟩
    assert not re.search(r"xW⟨\d⟩_\d|get_item_\d+_\d+", text)  # no name glued onto another's
    # the last step is written like the others: its values are not the layer's Z[2], H…[2], A[2]
    assert "z⟨3⟩ = xW⟨3⟩ + h⟨2⟩·U[2]" in comments and "h⟨3⟩ = o⟨3⟩ · tanh_3" in comments
    assert not re.search(r"\b(?:Z|H\d*|A)\[2\]", text) and "Z[3] = h⟨3⟩·W[3] + b[3]" in comments


def test_an_lstm_with_sigmoid_and_tanh_is_written_as_its_gates_and_two_states():
    """The default LSTM's step is the textbook's: z⟨t⟩ = xW⟨t⟩ + h⟨t−1⟩·U, the four gates of z⟨t⟩ as one line,
    then c⟨t⟩ and h⟨t⟩, and backward the gates' gradients side by side (autodiff/ops_recurrent.py), the cell state's
    three blocks added in place into the da that the output's backward made (its o block), and the step's sum and
    product as one line."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,), dtype="int32"), layers.Embedding(50, 4), layers.LSTM(2),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    comments = [line.split("  # ", 1)[1] for line in model.step_source(batch_size=4).splitlines() if "  # " in line]
    assert comments[comments.index("z⟨2⟩ = xW⟨2⟩ + h⟨1⟩·U[2]") + 1:][:3] == [
        "a⟨2⟩ = [σ(z_i⟨2⟩), σ(z_f⟨2⟩), tanh(z_c⟨2⟩), σ(z_o⟨2⟩)]", "c⟨2⟩ = f⟨2⟩ ⊙ c⟨1⟩ + i⟨2⟩ ⊙ c̃⟨2⟩",
        "h⟨2⟩ = o⟨2⟩ ⊙ tanh(c⟨2⟩)"]
    assert ("da⟨2⟩ = [0, 0, 0, dh⟨2⟩ ⊙ tanh(c⟨2⟩)]; dc⟨2⟩ = dh⟨2⟩ ⊙ o⟨2⟩ ⊙ (1 − tanh²(c⟨2⟩))" in comments
            and "da⟨2⟩ += [dc⟨2⟩ ⊙ c̃⟨2⟩, dc⟨2⟩ ⊙ c⟨1⟩, dc⟨2⟩ ⊙ i⟨2⟩, 0]; dc⟨1⟩ = dc⟨2⟩ ⊙ f⟨2⟩  (the sum over paths, "
                "in place)" in comments
            and "dz⟨2⟩ = da⟨2⟩ ⊙ [i⟨2⟩(1 − i⟨2⟩), f⟨2⟩(1 − f⟨2⟩), 1 − c̃⟨2⟩², o⟨2⟩(1 − o⟨2⟩)]" in comments
            and "dxW⟨2⟩ = dz⟨2⟩; dh⟨1⟩ = dz⟨2⟩·U[2]ᵀ; dU[2] = h⟨1⟩ᵀ·dz⟨2⟩" in comments)


def test_named_expressions_replace_in_naming_order_only_where_whole():
    names = NamedExpressions()
    names.add("σ(Z[2])", "A[2]")
    names.add("tanh(A[2])", "H")          # holds the first one's name: replaced after it
    names.add("get_item", "x⟨0⟩")
    names.add("get_item", "x⟨1⟩")          # renamed: keeps its place in the order
    assert names.replace("tanh(σ(Z[2])) + get_item·get_item_5") == "H + x⟨1⟩·get_item_5"
    assert names.replace("1 − σ(Z[2])") == "1 − A[2]"
    assert names.replace("σ(Z[2]⟨1⟩)") == "σ(Z[2]⟨1⟩)"
    names.add("−1", "minus_one")          # an expression whose only word is short is still found
    assert names.replace("a·−1") == "a·minus_one"


def test_an_lstm_over_many_steps_tries_each_expression_only_on_texts_holding_its_words():
    model = keras.Sequential([keras.Input((60,), dtype="int32"), layers.Embedding(50, 4), layers.LSTM(4),
                              layers.Dense(1, activation="sigmoid")])
    model.compile("rmsprop", "binary_crossentropy")
    tried = []
    original = NamedExpressions.candidates

    def counted(self, text, after=-1):
        found = original(self, text, after)
        tried.append(len(found))
        return found

    NamedExpressions.candidates = counted
    try:
        model.train_on_batch(np.arange(120).reshape(2, 60) % 50, np.array([[0.0], [1.0]]))
    finally:
        NamedExpressions.candidates = original
    source = model.step_source()
    equations = source.count("  # ")
    # each equation tries the few expressions of its own words, not every one named so far (thousands here)
    assert equations > 60 * 12  # 12 lines a timestep: 5 forward, 7 backward (3 of them sums over paths)
    assert sum(tried) < 10 * equations

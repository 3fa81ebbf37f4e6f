"""keras.utils.plot_model without Graphviz: SVG text and PNG through matplotlib, for Sequential and functional
models, with Keras 3's signature and messages."""

import inspect
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import glassnet
from glassnet.utils import plot_model

SVG = "{http://www.w3.org/2000/svg}"


def _sequential():
    return glassnet.Sequential([glassnet.Input((3,)), glassnet.layers.Dense(2, activation="relu", name="hidden"),
                                glassnet.layers.Dense(1, activation="sigmoid", name="out")])


def _functional():
    a, b = glassnet.Input((4,), name="a"), glassnet.Input((2,), name="b")
    h = glassnet.layers.Dense(3, activation="tanh", name="d1")(a)
    joined = glassnet.layers.Concatenate(name="join")([h, b])
    return glassnet.Model([a, b], glassnet.layers.Dense(1, name="o")(joined))


def _svg(model, path, **options):
    plot_model(model, path, **options)
    root = ET.parse(path).getroot()
    boxes = {g.get("data-name"): [t.text for t in g.iter(f"{SVG}text")] for g in root.iter(f"{SVG}g")}
    edges = {(e.get("data-source"), e.get("data-target")) for e in root.iter(f"{SVG}polyline")}
    return boxes, edges


def test_the_signature_is_keras_3s(keras):
    ours, theirs = inspect.signature(plot_model), inspect.signature(keras.utils.plot_model)
    assert [(p.name, p.default) for p in ours.parameters.values()] == [
        (p.name, p.default) for p in theirs.parameters.values()]


def test_sequential_boxes_as_keras_labels_them(tmp_path):
    boxes, edges = _svg(_sequential(), tmp_path / "m.svg", show_shapes=True, show_layer_names=True,
                        show_layer_activations=True, show_dtype=True, show_trainable=True)
    assert boxes["hidden"] == ["hidden (Dense)", "Activation: relu", "Input shape: (None, 3)",
                               "Output shape: (None, 2)", "Output dtype: float32", "Trainable"]
    assert boxes["out"][2:4] == ["Input shape: (None, 2)", "Output shape: (None, 1)"]
    assert edges == {("hidden", "out")}
    plain, _ = _svg(_sequential(), tmp_path / "plain.svg")
    assert plain["hidden"] == ["Dense"]  # Keras 3's defaults: the class name alone


def test_functional_edges_follow_the_layers_calls(tmp_path):
    model = _functional()
    boxes, edges = _svg(model, tmp_path / "f.svg", show_shapes=True, show_layer_names=True)
    assert set(boxes) == {"a", "b", "d1", "join", "o"}
    assert edges == {("a", "d1"), ("d1", "join"), ("b", "join"), ("join", "o")}
    assert boxes["join"][1:] == ["Input shape: [(None, 3), (None, 2)]", "Output shape: (None, 5)"]
    assert boxes["a"][1:] == ["Output shape: (None, 4)"]  # an InputLayer has no input shape


def test_expand_nested_draws_the_inner_layers(tmp_path):
    inner = glassnet.Sequential([glassnet.layers.Dense(3, name="in1"), glassnet.layers.Dense(2, name="in2")],
                                name="block")
    x = glassnet.Input((4,), name="x")
    model = glassnet.Model(x, glassnet.layers.Dense(1, name="head")(inner(x)))
    _, collapsed = _svg(model, tmp_path / "c.svg", show_layer_names=True)
    assert collapsed == {("x", "block"), ("block", "head")}
    boxes, edges = _svg(model, tmp_path / "e.svg", show_layer_names=True, expand_nested=True)
    assert {"in1", "in2"} <= set(boxes) and "block" not in boxes
    assert edges == {("x", "in1"), ("in1", "in2"), ("in2", "head")}


def test_png_through_matplotlib_at_the_asked_dpi(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    for dpi in (100, 200):
        plot_model(_functional(), tmp_path / f"m{dpi}.png", show_shapes=True, rankdir="LR", dpi=dpi)
    small, large = Image.open(tmp_path / "m100.png"), Image.open(tmp_path / "m200.png")
    assert large.size[0] == pytest.approx(2 * small.size[0], abs=2)
    assert large.size[0] > large.size[1]  # left to right: wider than tall
    pixels = np.asarray(small.convert("L"))
    assert pixels.min() == 0 and pixels.max() == 255  # black title rows on white


def test_bad_input_is_named(tmp_path):
    unbuilt = glassnet.Sequential([glassnet.layers.Dense(2)])
    with pytest.raises(ValueError, match="This model has not yet been built"):
        plot_model(unbuilt, tmp_path / "u.svg")
    with pytest.raises(ValueError, match="`rankdir` must be 'TB'.*received 'BT'"):
        plot_model(_sequential(), tmp_path / "m.svg", rankdir="BT")
    with pytest.raises(ValueError, match="extension must be one of svg, png.*received '.*m.gif'"):
        plot_model(_sequential(), tmp_path / "m.gif")
    with pytest.raises(OSError, match="cannot write '.*missing/m.svg'"):
        plot_model(_sequential(), tmp_path / "missing" / "m.svg")
    with pytest.raises(ValueError, match="Argument `layer_range` is no longer supported."):
        plot_model(_sequential(), tmp_path / "m.svg", layer_range=["a", "b"])
    with pytest.raises(TypeError, match="received int"):
        plot_model(3, tmp_path / "m.svg")
    assert not list(tmp_path.iterdir())  # nothing half-written


# ----- summary(show_flops=True) and profile's dense-versus-sparse counts (the cost model in the picture) ---------
def _mlp():
    return glassnet.Sequential([glassnet.Input((784,)), glassnet.layers.Dense(512, activation="relu", name="h"),
                                glassnet.layers.Dense(10, activation="softmax", name="out")])


def test_summary_shows_each_layers_flops_and_stays_as_it_was_without():
    model, lines = _mlp(), []
    model.summary(print_fn=lines.append, line_length=88)
    plain = lines.pop()
    model.summary(print_fn=lines.append, line_length=88, show_flops=False)
    assert lines.pop() == plain and "FLOPs" not in plain
    model.summary(print_fn=lines.append, line_length=88, show_flops=True)
    table = lines.pop()
    hidden = 2 * 784 * 512 + 512 + 512  # X·W, + b, max(z, 0) for one sample
    out = 2 * 512 * 10 + 10 + 5 * 10  # X·W, + b, softmax (max, subtract, exp, sum, divide)
    row = next(line for line in table.splitlines() if line.startswith("│ h (Dense)"))
    assert row.split("│")[-2].strip() == f"{hidden:,}"
    assert f" Total FLOPs: {hidden + out:,} per sample (forward)" in table


def test_summary_flops_of_an_unbuilt_model_say_so():
    with pytest.raises(ValueError, match="has not been built, so its FLOPs cannot be counted"):
        glassnet.Sequential([glassnet.layers.Dense(2)]).summary(show_flops=True)


@pytest.mark.fast_kernels
def test_profile_counts_the_nonzeros_work_of_a_multi_hot_input_beside_the_dense_product():
    rng = np.random.default_rng(0)
    x = (rng.random((128, 10000)) < 0.013).astype("float32")  # IMDB's multi-hot rows: 1.3% nonzeros
    y = (rng.random((128, 1)) < 0.5).astype("float32")
    model = glassnet.Sequential([glassnet.Input((10000,)), glassnet.layers.Dense(16, activation="relu"),
                                 glassnet.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    report = glassnet.inspect.profile(model, x, y, repeats=1)
    first = report.ops[0]
    nnz = int(np.count_nonzero(x))
    assert first.sparse.nonzeros == nnz
    assert first.flops == 2 * 128 * 10000 * 16 + 128 * 16
    assert first.sparse.forward_flops == 2 * nnz * 16 + 128 * 16
    assert 70 < first.flops / first.sparse.forward_flops < 85  # the issue's ~77×
    assert all(t.sparse is None for t in report.ops[1:])
    assert "the dense count is" in str(report)

"""trace: the 2-3-1 network's graph has the expected ops, shapes and FLOPs; it draws as valid SVG and DOT."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from glassnet.inspect import graph as graph_module
from glassnet.inspect.graph import trace
from tests.example_models import net_2_3_1

M = 4


@pytest.fixture
def traced():
    model = net_2_3_1()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((M, 2)).astype("float32")
    y = (rng.random((M, 1)) > 0.5).astype("float32")
    return model, x, y, trace(model, x, y)


def test_ops_layers_and_shapes(traced):
    model, _, _, g = traced
    names = [layer.name for layer in model.layers]
    got = [(n.op, n.layer, n.input_shapes, n.output_shape) for n in g.ops if n.layer != "loss"]
    assert got == [
        ("Affine", names[0], [(M, 2), (2, 3), (3,)], (M, 3)),
        ("Sigmoid", names[0], [(M, 3)], (M, 3)),
        ("Affine", names[1], [(M, 3), (3, 1), (1,)], (M, 1)),
        ("Sigmoid", names[1], [(M, 1)], (M, 1)),
    ]
    loss_ops = [n.op for n in g.ops if n.layer == "loss"]
    assert loss_ops[0] == "SigmoidCrossEntropy"  # the fused A − Y op, fed by Z[2], not by σ(Z[2])
    fused = next(n for n in g.ops if n.op == "SigmoidCrossEntropy")
    assert g.node(fused.inputs[-1]).op == "Affine" and g.node(fused.inputs[-1]).layer == names[1]
    variables = {n.name: n.output_shape for n in g.nodes if n.op == "Variable"}
    assert sorted(variables.values()) == [(1,), (2, 3), (3,), (3, 1)]
    assert all(n.dtype == "float32" for n in g.nodes)
    assert all(n.bytes == 4 * int(np.prod(n.output_shape)) for n in g.nodes)


def test_gradient_shapes_after_backward(traced):
    _, _, _, g = traced
    for n in g.nodes:
        if n.op == "Variable":
            assert n.grad_shape == n.output_shape
    # The output sigmoid is not on the loss's path (the loss reads its logits), so it gets no gradient.
    assert [n.grad_shape for n in g.ops if n.op == "Sigmoid"] == [(M, 3), None]


def test_grads_match_a_hand_backward(traced):
    model, x, y, g = traced
    w1, b1 = (np.asarray(v.numpy(), dtype=np.float64) for v in model.layers[0].weights)
    w2, b2 = (np.asarray(v.numpy(), dtype=np.float64) for v in model.layers[1].weights)
    a1 = 1 / (1 + np.exp(-(x @ w1 + b1)))
    a2 = 1 / (1 + np.exp(-(a1 @ w2 + b2)))
    dz2 = a2 - y
    dz1 = dz2 @ w2.T * a1 * (1 - a1)
    by_name = {g.tensors[n.id].name: g.grads[n.id] for n in g.nodes if n.op == "Variable"}
    k1, k2 = model.layers[0].kernel.name, model.layers[1].kernel.name
    np.testing.assert_allclose(by_name[k2], a1.T @ dz2 / M, atol=1e-6)
    np.testing.assert_allclose(by_name[k1], x.T @ dz1 / M, atol=1e-6)


def test_flops_equal_the_hand_count(traced):
    _, _, _, g = traced
    # Forward: X·W1 is 2·m·2·3, + b1 is m·3, σ is 4 per value; the same for layer 2; the loss is 7 per value
    # (max(z,0) − z·y + ln(1 + e^−|z|)), Keras's mean over the last axis 1 per value + 1 divide per sample, then
    # the batch mean: m adds and one divide.
    forward = (2 * M * 2 * 3 + M * 3 + 4 * M * 3) + (2 * M * 3 * 1 + M * 1 + 4 * M * 1) + 7 * M + (M + M) + M + 1
    assert g.total_flops == forward
    # Backward: dW1 = Xᵀ·dZ1 only (X needs no gradient), db1 = Σ dZ1 (m·3), σ' is 3 per value; layer 2 needs
    # dA1 and dW2 (2·m·3·1 each) and db2 (m); the output σ is off the loss path; the fused loss is 2 per value,
    # each mean's backward 1 per value (the per-sample one over m values, the batch one over m).
    backward = (2 * M * 2 * 3 + M * 3 + 3 * M * 3) + (2 * 2 * M * 3 * 1 + M * 1) + 2 * M + M + M
    assert g.total_backward_flops == backward


def test_collapse_gives_one_node_per_layer(traced):
    model, _, _, g = traced
    c = g.collapse()
    layer_nodes = [n for n in c.nodes if not n.is_leaf]
    assert [n.layer for n in layer_nodes] == [model.layers[0].name, model.layers[1].name, "loss"]
    assert [n.params for n in layer_nodes] == [2 * 3 + 3, 3 * 1 + 1, 0]
    assert c.total_flops == g.total_flops
    assert (layer_nodes[0].id, layer_nodes[1].id) in c.edges
    assert layer_nodes[0].input_shapes == [(M, 2)] and layer_nodes[1].output_shape == (M, 1)


def test_builtin_svg_is_valid_without_graphviz(traced, monkeypatch):
    _, _, _, g = traced
    monkeypatch.setattr(graph_module.shutil, "which", lambda name: None)  # as if Graphviz were not installed
    for graph in (g, g.collapse()):
        svg = graph.to_svg()
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert len(root.findall("{http://www.w3.org/2000/svg}line")) == len(graph.edges)
        assert any(t and "(4, 3)" in t for t in texts)
    assert g._repr_svg_() == g.to_svg(engine="builtin")
    with pytest.raises(RuntimeError, match="Graphviz"):
        g.to_svg(engine="graphviz")


def test_dot_and_text_forms(traced):
    _, _, _, g = traced
    dot = g.to_dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("->") == len(g.edges) and "subgraph cluster_" in dot
    text = str(g)
    assert "Affine" in text and "SigmoidCrossEntropy" in text and f"{g.total_flops:,} FLOPs forward" in text


def test_trace_without_labels_is_forward_only():
    model = net_2_3_1()
    g = trace(model, np.ones((3, 2), dtype="float32"))
    assert g.loss_id is None and g.total_backward_flops == 0
    assert [n.op for n in g.ops] == ["Affine", "Sigmoid", "Affine", "Sigmoid"]


def test_trace_restores_existing_gradients():
    model = net_2_3_1()
    kernel = model.layers[0].kernel
    marker = np.full(kernel.shape, 7.0, dtype="float32")
    kernel.grad = marker
    trace(model, np.ones((3, 2), dtype="float32"), np.ones((3, 1), dtype="float32"))
    assert kernel.grad is marker


def test_trace_a_compiled_sequential_and_explain_it():
    from glassnet.inspect import explain
    from glassnet.layers import Dense, Input
    from glassnet.models import Sequential

    model = Sequential([Input((2,)), Dense(3, activation="sigmoid"), Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")  # model.loss is the name here
    g = trace(model, np.ones((5, 2), dtype="float32"), np.ones((5, 1), dtype="float32"), collapse=True)
    assert [n.layer for n in g.nodes if not n.is_leaf] == [model.layers[0].name, model.layers[1].name, "loss"]
    assert [(q.lhs, q.rhs) for q in explain(model).backward][:2] == [("dZ[2]", "A[2] − Y"),
                                                                      ("dW[2]", "A[1]ᵀ·dZ[2] / m")]

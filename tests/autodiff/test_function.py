"""A custom layer with its own backward rule (a Function) passes gradcheck, as docs/custom_layers.md shows."""

import numpy as np
import pytest

from glassnet import ops
from glassnet.autodiff import Function, Variable, gradcheck
from glassnet.layers import Layer
from tests.example_models import example


class ScaledTanh(Function):
    """a = s·tanh(z).  Backward: dz = da · s(1 − tanh²(z)), ds = Σ da · tanh(z)."""

    def forward(self, z, s):
        t = np.tanh(z)
        self.save_for_backward(t, s)
        return s * t

    def backward(self, da):
        t, s = self.saved
        return da * s * (1 - t * t), np.sum(da * t)


class ScaledTanhLayer(Layer):
    """A layer whose trainable scale s has a hand-written gradient."""

    def build(self, input_shape):
        self.scale = self.add_weight((), "ones", name="scale")

    def call(self, x):
        return ScaledTanh.apply(x, self.scale)


def test_custom_function_passes_gradcheck():
    rng = np.random.default_rng(0)
    z0, upstream = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    gradcheck(lambda z, s: ScaledTanh.apply(z, s), [z0, np.array(1.7)])  # raises GradcheckError on a mismatch
    z, s = Variable(z0, dtype="float64"), Variable(np.array(1.7), dtype="float64")
    out = ScaledTanh.apply(z, s)
    np.testing.assert_allclose(out.numpy(), 1.7 * np.tanh(z0), rtol=1e-15)
    out.backward(upstream)
    np.testing.assert_allclose(z.grad, upstream * 1.7 / np.cosh(z0) ** 2, rtol=1e-12)  # 1 − tanh² = sech²
    np.testing.assert_allclose(s.grad, np.sum(upstream * np.tanh(z0)), rtol=1e-12)


def test_gradcheck_catches_a_wrong_rule():
    class Wrong(ScaledTanh):
        def backward(self, da):
            t, s = self.saved
            return da * s * (1 - t), np.sum(da * t)  # forgot the square

    result = gradcheck(lambda z, s: Wrong.apply(z, s), [np.full((2, 2), 0.5), np.array(1.0)], raise_exception=False)
    assert not result.ok
    # every z is 0.5, so at its worst element the wrong rule gives s(1 − t) where the truth is s(1 − t²): the
    # analytic value is the numeric one divided by 1 + t, t = tanh(0.5); ds = Σ da·t is right
    wrong_z, right_s = result.worst
    assert wrong_z.analytic / wrong_z.numeric == pytest.approx(1 / (1 + np.tanh(0.5)), rel=1e-6)
    assert right_s.abs_error < 1e-8


def test_custom_layer_trains_its_own_weight():
    layer = ScaledTanhLayer()
    x = np.linspace(-1, 1, 8, dtype="float32").reshape(4, 2)
    loss = ops.mean(ops.square(layer(x)))
    loss.backward()
    assert isinstance(layer.scale, Variable)
    np.testing.assert_allclose(layer.scale.grad, np.mean(2 * np.tanh(x) ** 2), rtol=1e-5)


def test_custom_activation_from_ops_needs_no_backward():
    swish = lambda z: ops.multiply(z, ops.sigmoid(z))  # noqa: E731
    z0 = np.linspace(-3, 3, 7)
    gradcheck(swish, [z0])  # raises GradcheckError on a mismatch
    z = Variable(z0, dtype="float64")
    ops.sum(swish(z)).backward()
    sig = 1 / (1 + np.exp(-z0))
    np.testing.assert_allclose(z.grad, sig + z0 * sig * (1 - sig), rtol=1e-12)  # (z·σ)' = σ + z·σ(1 − σ)


def test_two_layer_by_hand_matches_glassnet_and_learns(capsys):
    accuracy = example("two_layer_by_hand").main(steps=150)  # asserts equal gradients at every step
    costs = [float(line.split()[-1]) for line in capsys.readouterr().out.splitlines() if line.startswith("step")]
    assert costs == sorted(costs, reverse=True) and costs[-1] < costs[0] / 2
    assert accuracy > 0.9


def test_custom_activation_example_explains_both_kinds(capsys):
    example("custom_activation").main()
    out = capsys.readouterr().out
    assert "dZ[2] = dA[2] · 3Z[2]²" in out and "dZ[1] = dA[1] · H[1] + dH[1] · H[1](1 − H[1])" in out


def test_the_graph_is_walked_in_the_order_its_ops_ran():
    """topological_order lists the ops as the forward ran them (a depth-first walk would take an op's last input's
    graph first), so a written-out step reads in running order and the backward walks it in reverse."""
    from glassnet.autodiff.graph import topological_order

    x = Variable(np.ones(3))
    u = x * 2  # ran first
    v = x + 1  # ran second
    z = u * v
    w = ops.sum(z)
    assert [t.op is s.op for t, s in zip(topological_order(w), (u, v, z, w))] == [True] * 4
    w.backward()
    np.testing.assert_allclose(x.grad, 2 * (x.numpy() + 1) + 2 * x.numpy() * 1)  # d/dx (x + 1)·2x = 4x + 2


def test_every_ops_backward_rule_is_at_most_ten_lines():
    """autodiff/ops_*.py hold the math and its backward rule only (issue 14): every Function's backward, its
    docstring aside, is ten lines or fewer; anything longer belongs in a kernel."""
    import ast
    import importlib
    import inspect
    import pkgutil
    import textwrap

    import glassnet.autodiff as autodiff

    counted = {}
    for info in pkgutil.iter_modules(autodiff.__path__):
        if not info.name.startswith("ops_"):
            continue
        module = importlib.import_module(f"glassnet.autodiff.{info.name}")
        for name, cls in vars(module).items():
            if isinstance(cls, type) and issubclass(cls, Function) and cls.__module__ == module.__name__ \
                    and "backward" in cls.__dict__:
                definition = ast.parse(textwrap.dedent(inspect.getsource(cls.__dict__["backward"]))).body[0]
                body = definition.body[1:] if ast.get_docstring(definition) else definition.body
                counted[f"{info.name}.{name}"] = body[-1].end_lineno - body[0].lineno + 1
    assert len(counted) >= 50 and "ops_recurrent.LstmCellState" in counted  # every family was read
    assert {name: lines for name, lines in counted.items() if lines > 10} == {}


def test_every_ops_docstring_lists_its_gradients_in_the_order_of_its_inputs():
    """The step's text and explain pair a docstring's gradients with the op's inputs by position (the last ones):
    a rule that names its inputs' gradients (dx, dw, …) must list them in forward's argument order, or the step
    would print dy's equation next to dz (as SquaredError's did: 'dA[3] = −dY')."""
    import importlib
    import inspect
    import pkgutil

    import glassnet.autodiff as autodiff
    from glassnet.autodiff.equations import rule_of

    checked, misordered = 0, {}
    for info in pkgutil.iter_modules(autodiff.__path__):
        if not info.name.startswith("ops_"):
            continue
        module = importlib.import_module(f"glassnet.autodiff.{info.name}")
        for name, cls in vars(module).items():
            if not (isinstance(cls, type) and issubclass(cls, Function) and cls.__module__ == module.__name__):
                continue
            rule = rule_of(cls)
            inputs = [p.lower() for p in inspect.signature(cls.forward).parameters if p != "self"]
            named = [grad[1:].lower() for grad, _ in rule.grads] if rule else []
            if not named or sorted(named) != sorted(inputs[len(inputs) - len(named):]):
                continue  # a rule whose gradients are not named after the arguments (dxᵢ, dZ of relu(Z))
            checked += 1
            if named != inputs[len(inputs) - len(named):]:
                misordered[name] = (named, inputs)
    assert checked >= 40 and misordered == {}

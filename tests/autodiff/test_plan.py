"""A replayed Plan computes exactly what the eager engine computes, on new data, and redraws dropout masks."""

import re

import numpy as np
import pytest

from glassnet import Variable, ops
from glassnet.autodiff.plan import Plan


def make_params(rng):
    return [Variable(rng.normal(size=s), dtype=np.float64) for s in [(2, 8), (8,), (8, 1), (1,)]]


def step(params, x, y):
    w1, b1, w2, b2 = params
    z2 = ops.tanh(x @ w1 + b1) @ w2 + b2
    return ops.mean(ops.sigmoid_cross_entropy(y, z2)), z2


def tanh_chain():
    """x·w then 20 tanh layers, summed, on 512 × 512 float64 (2 MB arrays), and an input for it."""
    rng = np.random.default_rng(0)
    w = Variable(rng.normal(size=(512, 512)) * 0.1, dtype=np.float64)

    def deep(x):
        h = x * w
        for _ in range(20):
            h = ops.tanh(h)
        return ops.sum(h)

    return deep, rng.normal(size=(512, 512))


def test_replay_equals_eager_on_new_batches():
    rng = np.random.default_rng(0)
    params = make_params(rng)
    x0, y0 = rng.normal(size=(10, 2)), (rng.uniform(size=(10, 1)) > 0.5).astype(float)
    plan = Plan(lambda x, y: step(params, x, y), [x0, y0])
    for _ in range(3):
        x, y = rng.normal(size=(10, 2)), (rng.uniform(size=(10, 1)) > 0.5).astype(float)
        loss, z2 = plan(x, y)
        replayed = [p.grad.copy() for p in params]
        for p in params:
            p.grad = None
        eager_loss, eager_z2 = step(params, x, y)
        eager_loss.backward()
        assert loss == eager_loss.item() and np.array_equal(z2, eager_z2.numpy())
        for a, p in zip(replayed, params):
            assert np.array_equal(a, p.grad)
        for p in params:  # a plain SGD update between steps: the plan reads the Variables' new values
            p.assign_sub(0.1 * p.grad)


def test_replay_without_backward_leaves_grads_alone():
    rng = np.random.default_rng(1)
    params = make_params(rng)
    x0, y0 = rng.normal(size=(4, 2)), np.ones((4, 1))
    plan = Plan(lambda x, y: step(params, x, y), [x0, y0])
    x, y = rng.normal(size=(4, 2)), np.array([[1.0], [0.0], [0.0], [1.0]])
    loss, z2 = plan(x, y, backward=False)
    assert all(p.grad is None for p in params)
    w1, b1, w2, b2 = (p.numpy() for p in params)  # the forward on the new batch, by hand
    z = np.tanh(x @ w1 + b1) @ w2 + b2
    np.testing.assert_allclose(z2, z, rtol=1e-12)
    assert loss == pytest.approx(np.mean(np.log1p(np.exp(-z)) + (1 - y) * z), rel=1e-12)  # −[y ln σ + (1−y) ln(1−σ)]


def test_dropout_draws_a_new_mask_on_each_replay():
    rng = np.random.default_rng(2)
    w = Variable(np.ones((1, 1000)), dtype=np.float64)
    plan = Plan(lambda x: ops.sum(ops.dropout(x @ w, 0.5, rng)), [np.ones((1, 1))])
    (first_loss,) = plan(np.ones((1, 1)))
    first = w.grad.copy()
    (second_loss,) = plan(np.ones((1, 1)))
    assert not np.array_equal(first, w.grad)
    # x·w is 1 everywhere: the loss is Σ mask·2 and dL/dw the mask·2 itself, so forward and backward use one mask
    assert first_loss == first.sum() and second_loss == w.grad.sum()
    assert set(np.unique(first)) <= {0.0, 2.0} and 400 < np.count_nonzero(first) < 600  # Binomial(1000, ½): ±6σ


def test_a_value_used_twice_gets_both_gradients_and_an_unused_output_none():
    """x·x, a Variable read by two ops and an output the loss does not depend on: the written-out backward adds
    the two contributions where a value feeds two inputs and skips the ops no gradient reaches."""
    rng = np.random.default_rng(3)
    w = Variable(rng.normal(size=(3, 3)), dtype=np.float64)

    def fn(x):
        h = x @ w
        loss = ops.sum(h * h) + ops.sum(ops.tanh(h @ w))
        return loss, ops.exp(h)  # the second output: no gradient flows from it

    x0 = rng.normal(size=(4, 3))
    plan = Plan(fn, [x0])
    assert plan.source.count("# the sum over paths") == 3  # h feeds Mul twice and MatMul once; w feeds two MatMuls
    assert plan.source.count("del dmat_mul_part") == 1  # Mul's two parts share a name: deleted after the second
    x = rng.normal(size=(4, 3))
    loss, extra = plan(x)
    replayed = w.grad.copy()
    w.grad = None
    eager_loss, eager_extra = fn(x)
    eager_loss.backward()
    assert loss == eager_loss.item() and np.array_equal(extra, eager_extra.numpy())
    np.testing.assert_array_equal(replayed, w.grad)


def test_the_backward_walk_frees_each_gradient_once_used():
    """A written-out backward deletes each gradient after its op's backward has read it (``; del dH3``): through 20
    tanh layers of 2 MB values, the walk holds a few gradients at a time, not all 20 to the end."""
    import tracemalloc

    rng = np.random.default_rng(0)
    w = Variable(rng.normal(size=(512, 512)) * 0.1, dtype=np.float64)
    layers = 20

    def deep(x):
        h = x * w
        for _ in range(layers):
            h = ops.tanh(h)
        return ops.sum(h)

    x = rng.normal(size=(512, 512))
    plan = Plan(deep, [x])
    assert plan.source.count("; del d") == layers + 1  # every gradient but the loss's
    plan(x, backward=False)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        plan.backward()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    gradient_bytes = x.nbytes
    assert w.grad.shape == (512, 512)
    assert peak < 6 * gradient_bytes, f"the backward walk peaked at {peak / gradient_bytes:.1f} gradients' bytes"


def test_a_plan_keeps_the_graph_but_not_the_traced_batchs_values():
    """After a replay, a plan holds what its ops saved for the next backward (20 tanh outputs here), its copy of
    the traced input and the gradient: about 23 arrays of 2 MB. The traced batch's own 21 intermediate values are
    dropped (44 arrays were held before); the graph's shapes stay."""
    import gc
    import tracemalloc

    deep, x = tanh_chain()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        plan = Plan(deep, [x])
        plan(x + 1)
        gc.collect()
        held = (tracemalloc.get_traced_memory()[0] - before) / x.nbytes
    finally:
        tracemalloc.stop()
    assert 20 <= held < 26, f"the plan holds {held:.1f} arrays of the input's size"
    assert all(op.inputs[0].shape == (512, 512) for op in plan.ops[1:-1])  # the graph's shapes are still there


def test_tracing_peaks_at_the_forward_values_and_the_gradients_ahead():
    """Recording 20 tanh layers keeps their 20 outputs of 2 MB (saved for backward) and the input; the walk that
    writes the backward then holds only the gradients ahead of it (a few arrays), not one per tensor (20 more,
    as an eager backward that keeps every tensor's .grad would)."""
    import tracemalloc

    deep, x = tanh_chain()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        Plan(deep, [x])
        peak = (tracemalloc.get_traced_memory()[1] - before) / x.nbytes
    finally:
        tracemalloc.stop()
    assert 22 <= peak < 27, f"tracing peaked at {peak:.1f} arrays of the input's size"


def test_drop_saved_lets_go_of_the_activations_and_the_next_replay_saves_its_own():
    rng = np.random.default_rng(0)
    params = make_params(rng)
    x, y = rng.normal(size=(10, 2)), (rng.uniform(size=(10, 1)) > 0.5).astype(float)
    plan = Plan(lambda x, y: step(params, x, y), [x, y])
    plan(x, y)
    expected = [p.grad.copy() for p in params]
    plan.drop_saved()
    assert all(fn.saved == () for fn in plan.ops)
    plan(x, y)
    assert any(fn.saved for fn in plan.ops)
    for p, g in zip(params, expected):
        np.testing.assert_array_equal(p.grad, g)


def test_the_forward_deletes_values_no_op_keeps_for_backward():
    """A forward value read for the last time and saved by no op (an addition keeps nothing) is deleted on its last
    line, so 20 additions of 2 MB arrays peak at a few arrays; a value an op saved (tanh's output) is not
    deleted, since its memory stays anyway."""
    import tracemalloc

    rng = np.random.default_rng(0)
    w = Variable(rng.normal(size=(512, 512)), dtype=np.float64)

    def chain(x):
        h = x + w
        for _ in range(20):
            h = h + w
        return ops.sum(ops.tanh(h))

    x = rng.normal(size=(512, 512))
    plan = Plan(chain, [x])
    assert re.search(r"add_21 = op_add_21\.forward\(add_20, \w+\); del add_20  ", plan.source)
    assert "sum_2 = op_sum.forward(tanh)  " in plan.source  # tanh's output is saved for its backward: kept
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        plan(x, backward=False)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 5 * x.nbytes, f"the forward peaked at {peak / x.nbytes:.1f} arrays of the input's size"


def test_tracing_lets_go_of_the_values_no_name_holds_and_no_op_saved():
    """The trace's own forward keeps what the replay keeps: 20 additions of 2 MB arrays (an addition saves nothing)
    are recorded at a few arrays' peak, not 21, while a value a Python name still holds keeps its value (and the
    logits a cross-entropy reads behind a sigmoid: the test after this one)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    w = Variable(rng.normal(size=(512, 512)), dtype=np.float64)
    held, seen = [], []

    def chain(x):
        h = x + w
        held.append(h)
        for _ in range(20):
            h = h + w
        seen.append(held[0].numpy().copy())  # after 20 more ops: a name holds it, so its value is still there
        return ops.sum(ops.tanh(h))

    x = rng.normal(size=(512, 512))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        plan = Plan(chain, [x])
        peak = (tracemalloc.get_traced_memory()[1] - before) / x.nbytes
    finally:
        tracemalloc.stop()
    assert peak < 8, f"tracing peaked at {peak:.1f} arrays of the input's size"
    np.testing.assert_array_equal(seen[0], x + w.numpy())
    np.testing.assert_allclose(plan(x)[0], np.tanh(x + 21 * w.numpy()).sum())


def test_a_traced_cross_entropy_still_reads_the_logits_behind_its_sigmoid():
    """Once ``predict`` returns, only the graph holds the logits z behind a = σ(z); the binary cross-entropy on a
    reads them again (its fused form), so the trace keeps them while it lets go of everything else."""
    from glassnet import losses

    rng = np.random.default_rng(3)
    w = Variable(rng.normal(size=(4, 1)) * 3, dtype=np.float64)
    x, y = rng.normal(size=(16, 4)), (rng.uniform(size=(16, 1)) > 0.5).astype(float)

    def predict(x):
        return ops.sigmoid(x @ w)

    def traced(x, y):
        a = predict(x)
        other = x
        for _ in range(8):  # ops recorded in between, each a chance to let go of what no name holds
            other = other + 1.0
        return ops.mean(losses.binary_crossentropy(y, a)) + 0.0 * ops.sum(other)

    z = x @ w.numpy()
    expected = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    plan = Plan(traced, [x, y])
    np.testing.assert_allclose(plan.backward()[0], expected, rtol=1e-12)  # the trace's own forward
    np.testing.assert_allclose(plan(x, y)[0], expected, rtol=1e-12)


def test_a_value_is_kept_while_a_name_holds_it_even_where_discarded_ops_were():
    """An op whose result is thrown away (tanh(x·w), read by nothing) leaves no count of graph links behind for a
    new tensor to inherit with its freed id: each x·w a list holds keeps its value until it is read (when the trace
    let the discarded ops go, 4 of 40 came back as zeros)."""
    rng = np.random.default_rng(4)
    w = Variable(rng.normal(size=(8, 8)), dtype=np.float64)
    seen = []

    def chain(x):
        held = []
        for _ in range(40):
            ops.tanh(x * w)
            held.append(x * w)
        seen.extend(h.numpy().copy() for h in held)
        return ops.sum(held[-1])

    x = rng.normal(size=(8, 8))
    Plan(chain, [x])
    for value in seen:
        np.testing.assert_array_equal(value, x * w.numpy())


def test_a_traced_max_pool_still_reads_the_z_behind_its_relu():
    """Max pooling on relu(z) runs as one op on z (autodiff/fusions.py); once ``conv`` returns only the graph holds
    z, and ops recorded in between give the trace chances to let it go: it keeps z (``Relu.inputs_read_later``)."""
    rng = np.random.default_rng(5)
    w = Variable(rng.normal(size=(4, 4)), dtype=np.float64)
    x = rng.normal(size=(2, 4, 4, 4))

    def conv(x):
        return ops.relu(x @ w)

    def traced(x):
        a = conv(x)
        other = x
        for _ in range(8):
            other = other + 1.0
        return ops.sum(ops.max_pool(a, 2)) + 0.0 * ops.sum(other)

    a = np.maximum(x @ w.numpy(), 0)
    expected = a.reshape(2, 2, 2, 2, 2, 4).max(axis=(2, 4)).sum()
    plan = Plan(traced, [x])
    assert any(type(fn).__name__ == "MaxPoolRelu2d" for fn in plan.ops)
    np.testing.assert_allclose(plan.backward()[0], expected, rtol=1e-12)


def test_each_function_is_compiled_on_its_own_at_its_lines_of_the_source():
    """forward and backward are compiled one at a time (not holding both syntax trees beside the trace's values),
    each at its own line numbers in ``plan.source``: a traceback, or inspect.step reading the locals line by line,
    points at the line that ran."""
    rng = np.random.default_rng(0)
    w = Variable(rng.normal(size=(3, 2)))

    def loss(x):
        return ops.sum(ops.tanh(ops.matmul(x, w)))

    plan = Plan(loss, [rng.normal(size=(4, 3))])
    lines = plan.source.splitlines()
    for function in (plan._forward, plan._backward):
        first = function.__code__.co_firstlineno
        assert lines[first - 1].startswith(f"def {function.__name__}(")
        last = max(line for _, _, line in function.__code__.co_lines() if line is not None)
        assert lines[last - 1].lstrip().startswith("return [")

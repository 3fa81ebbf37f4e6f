"""The course's 2-3-1 network: the engine's gradients are the closed-form backward equations, to 1e-10.

Course (columns are samples): dZ2 = A2 − Y, dW2 = dZ2·A1ᵀ/m, db2 = Σ dZ2/m, dZ1 = W2ᵀdZ2 * σ'(Z1), ...
Here rows are samples, so every product is the transpose: dW2 = A1ᵀ·dZ2 / m, dZ1 = dZ2·W2ᵀ * σ'(Z1).
"""

import numpy as np

from glassnet import Variable, ops


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_engine_gradients_equal_the_course_equations():
    rng = np.random.default_rng(42)
    m = 7
    X = rng.normal(size=(m, 2))
    Y = (rng.uniform(size=(m, 1)) > 0.5).astype(np.float64)
    W1_0, b1_0, W2_0, b2_0 = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(3, 1)), rng.normal(size=1)

    # glassnet: forward records the tape, backward walks it
    W1, b1, W2, b2 = (Variable(v, dtype=np.float64) for v in (W1_0, b1_0, W2_0, b2_0))
    Z1 = X @ W1 + b1
    A1 = ops.sigmoid(Z1)
    Z2 = A1 @ W2 + b2
    A2 = ops.sigmoid(Z2)
    loss = ops.mean(ops.sigmoid_cross_entropy(Y, Z2))
    loss.backward(retain_graph=True)

    # by hand, the course's equations
    z1 = X @ W1_0 + b1_0
    a1 = sigmoid(z1)
    z2 = a1 @ W2_0 + b2_0
    a2 = sigmoid(z2)
    cost = -np.mean(Y * np.log(a2) + (1 - Y) * np.log(1 - a2))
    dZ2 = (a2 - Y) / m
    dW2 = a1.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dZ1 = dZ2 @ W2_0.T * a1 * (1 - a1)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)

    assert abs(loss.item() - cost) < 1e-12
    assert np.allclose(A2.numpy(), a2, atol=1e-12)
    assert np.allclose(Z2.grad, dZ2, atol=1e-10)  # dZ[2] = A[2] − Y (per-sample, /m from the mean)
    assert np.allclose(W2.grad, dW2, atol=1e-10)
    assert np.allclose(b2.grad, db2, atol=1e-10)
    assert np.allclose(Z1.grad, dZ1, atol=1e-10)
    assert np.allclose(W1.grad, dW1, atol=1e-10)
    assert np.allclose(b1.grad, db1, atol=1e-10)


def test_the_same_network_through_plain_log_terms_gives_the_same_gradients():
    """The unfused path (sigmoid, then −[y ln a + (1−y) ln(1−a)] from ops) agrees with the fused A − Y rule."""
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(5, 2)), (rng.uniform(size=(5, 1)) > 0.5).astype(float)
    params = [rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(3, 1)), rng.normal(size=1)]

    def grads(fused: bool):
        W1, b1, W2, b2 = (Variable(p, dtype=np.float64) for p in params)
        Z2 = ops.sigmoid(X @ W1 + b1) @ W2 + b2
        if fused:
            loss = ops.mean(ops.sigmoid_cross_entropy(Y, Z2))
        else:
            A2 = ops.sigmoid(Z2)
            loss = -ops.mean(Y * ops.log(A2) + (1 - Y) * ops.log(1 - A2))
        loss.backward()
        return [v.grad for v in (W1, b1, W2, b2)]

    for a, b in zip(grads(True), grads(False)):
        assert np.allclose(a, b, atol=1e-10)

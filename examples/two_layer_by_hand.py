"""The course's two-layer network written in plain NumPy, trained on the playground's circle data, with every
gradient checked against glassnet's at every step.

    Z[1] = X·W[1] + b[1]   A[1] = tanh(Z[1])   Z[2] = A[1]·W[2] + b[2]   A[2] = σ(Z[2])
    dZ[2] = A[2] − Y       dW[2] = A[1]ᵀ·dZ[2] / m   db[2] = Σ dZ[2] / m
    dA[1] = dZ[2]·W[2]ᵀ    dZ[1] = dA[1] * (1 − A[1]²)   dW[1] = Xᵀ·dZ[1] / m   db[1] = Σ dZ[1] / m

Rows are samples here (as in Keras); the course writes the transposes, Z = W·X + b with samples as columns.
Run: ``python examples/two_layer_by_hand.py``
"""

import numpy as np

from glassnet import ops
from glassnet.autodiff import Variable
from glassnet.datasets import toy2d


def by_hand(x, y, w1, b1, w2, b2):
    """Forward and backward with the course's equations; returns the cost and (dW1, db1, dW2, db2)."""
    m = len(x)
    a1 = np.tanh(x @ w1 + b1)
    a2 = 1 / (1 + np.exp(-(a1 @ w2 + b2)))
    cost = -np.mean(y * np.log(a2) + (1 - y) * np.log(1 - a2))
    dz2 = a2 - y
    dw2, db2 = a1.T @ dz2 / m, dz2.sum(axis=0) / m
    dz1 = (dz2 @ w2.T) * (1 - a1**2)
    dw1, db1 = x.T @ dz1 / m, dz1.sum(axis=0) / m
    return cost, (dw1, db1, dw2, db2)


def with_glassnet(x, y, weights):
    """The same network on glassnet's engine: only the forward is written, backward() gives the gradients."""
    variables = [Variable(w, dtype=np.float64) for w in weights]
    w1, b1, w2, b2 = variables
    z2 = ops.tanh(x @ w1 + b1) @ w2 + b2
    cost = ops.mean(ops.sigmoid_cross_entropy(y, z2))
    cost.backward()
    return float(cost.numpy()), [v.grad for v in variables]


def main(steps: int = 300, learning_rate: float = 1.0, hidden: int = 4, seed: int = 0) -> float:
    x, y = toy2d.circle(n_samples=300, noise=0.05, seed=seed)
    x, y = x.astype(np.float64) / 5, y.reshape(-1, 1).astype(np.float64)
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((2, hidden)), np.zeros(hidden), rng.standard_normal((hidden, 1)), np.zeros(1)]
    for step in range(steps + 1):
        cost, grads = by_hand(x, y, *weights)
        engine_cost, engine_grads = with_glassnet(x, y, weights)
        assert abs(cost - engine_cost) < 1e-10
        for name, mine, theirs in zip(("dW1", "db1", "dW2", "db2"), grads, engine_grads):
            assert np.allclose(mine, theirs, atol=1e-10), f"step {step}: {name} differs"
        if step % 50 == 0:
            print(f"step {step:4d}  cost {cost:.4f}")
        weights = [w - learning_rate * g for w, g in zip(weights, grads)]
    a2 = 1 / (1 + np.exp(-(np.tanh(x @ weights[0] + weights[1]) @ weights[2] + weights[3])))
    accuracy = float(np.mean((a2 > 0.5) == (y > 0.5)))
    print(f"gradients equal glassnet's at every step; training accuracy {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()

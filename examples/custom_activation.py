"""Two ways to bring your own activation to glassnet, and what explain() shows for each.

1. From ops (no backward to write): swish(z) = z·σ(z). The engine differentiates the composition.
2. As a Function with its own backward rule: a = z³ (its docstring states the rule, which explain reads).

Run: ``python examples/custom_activation.py``
"""

import numpy as np

from glassnet import inspect, ops
from glassnet.autodiff import Function, gradcheck
from glassnet.datasets import toy2d
from glassnet.layers import Dense, Input
from glassnet.models import Sequential


def swish(z):
    """z·σ(z), written with ops: differentiated automatically."""
    return ops.multiply(z, ops.sigmoid(z))


class Cube(Function):
    """a = z³.  Backward: dz = da · 3z²."""

    def forward(self, z):
        self.save_for_backward(z)
        return z**3

    def backward(self, da):
        (z,) = self.saved
        return da * 3 * z * z


def main() -> float:
    print(gradcheck(swish, [np.linspace(-3, 3, 7)]).report())
    print(gradcheck(Cube.apply, [np.linspace(-2, 2, 5)]).report())
    model = Sequential([Input((2,)), Dense(6, activation=swish), Dense(4, activation=Cube.apply),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    print(inspect.explain(model))
    x, y = toy2d.circle(n_samples=300, noise=0.05, seed=0)
    history = model.fit(x / 5, y, epochs=60, batch_size=32, verbose=0)
    accuracy = history.history["accuracy"][-1]
    print(f"training accuracy with swish and cube: {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()

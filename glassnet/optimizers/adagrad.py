"""Adagrad (Keras 3): divide each weight's step by the root of the sum of all its squared gradients so far."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from glassnet.autodiff.tensor import Variable
from glassnet.optimizers.base import Optimizer


class Adagrad(Optimizer):
    """a ← a + g²;  w ← w − lr·g / √(a + ε), each accumulator a starting at ``initial_accumulator_value``."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "adagrad"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)

    def slot_names(self) -> tuple[str, ...]:
        return ("accumulator",)

    def build(self, variables: Iterable[Variable]) -> None:
        """Create the accumulators of new variables, filled with ``initial_accumulator_value`` (not zeros)."""
        built = len(self.variables)
        super().build(variables)
        for accumulator in self.variables[built:]:
            accumulator.fill(self.initial_accumulator_value)

    def apply(self, grads: Sequence, variables: Sequence[Variable] | None = None) -> None:
        if variables is not None:  # the accumulators of first-seen variables start at their initial value
            self.build([v for g, v in zip(grads, variables) if g is not None])
        super().apply(grads, variables)

    def update_step(self, gradient: np.ndarray, variable: Variable, learning_rate: float) -> None:
        self.build([variable])
        super().update_step(gradient, variable, learning_rate)

    def update_rule(self, learning_rate: float):
        return adagrad, ("accumulator",), [learning_rate, self.epsilon]

    def get_config(self) -> dict:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


# The update of one weight (kernels.updates runs it on whole arrays or as one compiled loop), in Keras 3's order.

def adagrad(w, g, a, lr, epsilon):
    """a ← a + g²;  w ← w − lr·g / √(a + ε)."""
    a = a + g * g
    return w - lr * g / np.sqrt(a + epsilon), a

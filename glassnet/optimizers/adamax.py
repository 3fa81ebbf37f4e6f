"""Adamax (Keras 3): Adam with the infinity norm: the step divides by a decaying maximum of |g|."""

from __future__ import annotations

import numpy as np

from glassnet.optimizers.base import Optimizer


class Adamax(Optimizer):
    """m ← m + (g − m)(1 − β₁);  u ← max(β₂·u, |g|);  w ← w − lr·m / ((1 − β₁ᵗ)(u + ε)),  t = iterations + 1
    (m: ``momentum``, u: ``norm``)."""

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "adamax"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "norm")

    def update_rule(self, learning_rate: float):
        t = self.iterations + 1
        return adamax, self.slot_names(), [learning_rate, 1 - self.beta_1, self.beta_2, 1 - self.beta_1 ** t,
                                           self.epsilon]

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


# The update of one weight (kernels.updates runs it on whole arrays or as one compiled loop), in Keras 3's order.

def adamax(w, g, m, u, lr, one_minus_beta_1, beta_2, one_minus_beta_1_power, epsilon):
    """m ← m + (g − m)(1 − β₁);  u ← max(β₂·u, |g|);  w ← w − lr·m / ((1 − β₁ᵗ)(u + ε))."""
    m = m + (g - m) * one_minus_beta_1
    u = np.maximum(beta_2 * u, np.abs(g))
    return w - lr * m / (one_minus_beta_1_power * (u + epsilon)), m, u

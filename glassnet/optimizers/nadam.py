"""Nadam (Keras 3): Adam with Nesterov momentum, after Dozat (2016), with the momentum schedule
μₜ = β₁·(1 − ½·0.96ᵗ)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from glassnet.optimizers.base import Optimizer

#: Dozat's momentum schedule μₜ = β₁·(1 − ½·DECAYᵗ), as in Keras 3.
MOMENTUM_DECAY = 0.96


class Nadam(Optimizer):
    """μₜ = β₁·(1 − ½·0.96ᵗ), Πₜ = μ₁·…·μₜ;  m ← m + (g − m)(1 − β₁);  v ← v + (g² − v)(1 − β₂);
    m̂ = μₜ₊₁·m / (1 − Πₜ₊₁) + (1 − μₜ)·g / (1 − Πₜ);  v̂ = v / (1 − β₂ᵗ);  w ← w − lr·m̂ / (√v̂ + ε),
    t = iterations + 1. Πₜ (Keras's ``u_product``) is the last of ``variables``, after the slots."""

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "nadam"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity")

    def momentum_at(self, t: int) -> float:
        """μₜ = β₁·(1 − ½·0.96ᵗ)."""
        return self.beta_1 * (1.0 - 0.5 * MOMENTUM_DECAY ** t)

    def u_product(self, t: int) -> float:
        """Πₜ = μ₁·μ₂·…·μₜ (1 for t = 0): Keras keeps it as a variable; here it follows from the step."""
        return math.prod(self.momentum_at(k) for k in range(1, t + 1))

    @property
    def variables(self) -> list[np.ndarray]:
        """iterations, each variable's momentum and velocity, then Πₜ (Keras's order)."""
        arrays = super().variables
        dtype = arrays[1].dtype if len(arrays) > 1 else np.dtype("float32")
        return arrays + [np.asarray(self.u_product(self.iterations), dtype=dtype)]

    def set_state(self, state: Sequence[np.ndarray]) -> None:
        """As Optimizer.set_state; the trailing Πₜ of ``get_state`` follows from iterations and is not read."""
        expected = 1 + len(super().variables[1:])
        super().set_state(list(state)[:expected] if len(state) == expected + 1 else state)

    def update_rule(self, learning_rate: float):
        t = self.iterations + 1
        mu_t, mu_next = self.momentum_at(t), self.momentum_at(t + 1)
        u_product = self.u_product(t)
        return nadam, self.slot_names(), [learning_rate, 1 - self.beta_1, 1 - self.beta_2, mu_next, 1 - mu_t,
                                          1 - u_product, 1 - u_product * mu_next, 1 - self.beta_2 ** t,
                                          self.epsilon]

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


# The update of one weight (kernels.updates runs it on whole arrays or as one compiled loop), in Keras 3's order.

def nadam(w, g, m, v, lr, one_minus_beta_1, one_minus_beta_2, mu_next, one_minus_mu, one_minus_u_product,
          one_minus_u_product_next, one_minus_beta_2_power, epsilon):
    """m ← m + (g − m)(1 − β₁);  v ← v + (g² − v)(1 − β₂);  m̂ = μₜ₊₁·m / (1 − Πₜ₊₁) + (1 − μₜ)·g / (1 − Πₜ);
    w ← w − m̂·lr / (√(v / (1 − β₂ᵗ)) + ε)."""
    m = m + (g - m) * one_minus_beta_1
    v = v + (g * g - v) * one_minus_beta_2
    m_hat = mu_next * m / one_minus_u_product_next + one_minus_mu * g / one_minus_u_product
    return w - m_hat * lr / (np.sqrt(v / one_minus_beta_2_power) + epsilon), m, v

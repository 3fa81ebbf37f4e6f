"""Adadelta (Keras 3): a step whose units are the weight's own, from running means of squared gradients and of
squared steps."""

from __future__ import annotations

import numpy as np

from glassnet.optimizers.base import Optimizer


class Adadelta(Optimizer):
    """a ← ρ·a + (1 − ρ)·g²;  Δ = −√(d + ε)·g / √(a + ε);  d ← ρ·d + (1 − ρ)·Δ²;  w ← w + lr·Δ
    (a: ``accumulated_grad``, d: ``accumulated_delta_var``)."""

    def __init__(self, learning_rate=0.001, rho: float = 0.95, epsilon: float = 1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "adadelta"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def slot_names(self) -> tuple[str, ...]:
        return ("accumulated_grad", "accumulated_delta_var")

    def update_rule(self, learning_rate: float):
        return adadelta, self.slot_names(), [learning_rate, self.rho, 1 - self.rho, self.epsilon]

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


# The update of one weight (kernels.updates runs it on whole arrays or as one compiled loop), in Keras 3's order.

def adadelta(w, g, a, d, lr, rho, one_minus_rho, epsilon):
    """a ← ρ·a + (1 − ρ)·g²;  Δ = −√(d + ε)·g / √(a + ε);  d ← ρ·d + (1 − ρ)·Δ²;  w ← w + lr·Δ."""
    a = rho * a + one_minus_rho * (g * g)
    delta = -(np.sqrt(d + epsilon) * g / np.sqrt(a + epsilon))
    d = rho * d + one_minus_rho * (delta * delta)
    return w + lr * delta, a, d

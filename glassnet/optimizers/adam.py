"""Adam and AdamW (Keras 3): bias-corrected running means of the gradient and of its square."""

from __future__ import annotations

import math

import numpy as np

from glassnet.optimizers.base import Optimizer


class Adam(Optimizer):
    """m ← m + (g − m)(1 − β₁);  v ← v + (g² − v)(1 − β₂);  α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ);  w ← w − α·m/(√v + ε),
    t = iterations + 1 (AMSGrad uses v̂ = max(v̂, v) in place of v)."""

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name: str = "adam"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = float(beta_1), float(beta_2), float(epsilon), amsgrad

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())

    def update_rule(self, learning_rate: float):
        t = self.iterations + 1
        alpha = learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        states = ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())
        return (adam_amsgrad if self.amsgrad else adam), states, [alpha, 1 - self.beta_1, 1 - self.beta_2, self.epsilon]

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay: before each Adam step, w ← w − w·weight_decay·lr."""

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name: str = "adamw"):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)


# The update of one weight (kernels.updates runs it on whole arrays or as one compiled loop), in Keras 3's order.

def adam(w, g, m, v, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """m ← m + (g − m)(1 − β₁);  v ← v + (g² − v)(1 − β₂);  w ← w − α·m / (√v + ε)."""
    m = m + (g - m) * one_minus_beta_1
    v = v + (g * g - v) * one_minus_beta_2
    return w - m * alpha / (np.sqrt(v) + epsilon), m, v


def adam_amsgrad(w, g, m, v, v_hat, alpha, one_minus_beta_1, one_minus_beta_2, epsilon):
    """As adam, with v̂ ← max(v̂, v) in place of v under the root."""
    m = m + (g - m) * one_minus_beta_1
    v = v + (g * g - v) * one_minus_beta_2
    v_hat = np.maximum(v_hat, v)
    return w - m * alpha / (np.sqrt(v_hat) + epsilon), m, v, v_hat

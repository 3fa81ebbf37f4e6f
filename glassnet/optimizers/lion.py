"""Lion (Keras 3; Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): every weight moves by ±lr,
the sign of an interpolation between its momentum and its gradient."""

from __future__ import annotations

import numpy as np

from glassnet.optimizers.base import Optimizer


class Lion(Optimizer):
    """w ← w − lr·sign(β₁·m + (1 − β₁)·g);  m ← β₂·m + (1 − β₂)·g. The step has the same size for every weight, so
    Lion's learning rate is usually 3–10× smaller than Adam's."""

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.99, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "lion"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)
        if not 0 < beta_1 <= 1:
            raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates to "
                             f"SignSGD. Received: beta_1={beta_1}.")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum",)

    def update_rule(self, learning_rate: float):
        return lion, ("momentum",), [learning_rate, self.beta_1, 1 - self.beta_1, self.beta_2, 1 - self.beta_2]

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


# The update of one weight (kernels.updates runs it on whole arrays or as one compiled loop), in Keras 3's order.

def lion(w, g, m, lr, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2):
    """w ← w − lr·sign(β₁·m + (1 − β₁)·g);  m ← β₂·m + (1 − β₂)·g."""
    w = w - lr * np.sign(m * beta_1 + g * one_minus_beta_1)
    return w, m * beta_2 + g * one_minus_beta_2

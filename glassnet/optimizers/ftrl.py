"""FTRL-Proximal (Keras 3; McMahan et al. 2013, "Ad Click Prediction: a View from the Trenches"): per-weight
Adagrad-like rates, with L1 regularization that sets weights to exactly zero, for wide sparse models."""

from __future__ import annotations

import numpy as np

from glassnet.optimizers.base import Optimizer


def _non_negative(value: float, name: str, wording: str = "positive or zero") -> float:
    if value < 0.0:
        raise ValueError(f"`{name}` needs to be {wording}. Received: {name}={value}.")
    return float(value)


class Ftrl(Optimizer):
    """With p = learning_rate_power, λ₁ = l1, λ₂ = l2 + β/(2·lr), λ₂ₛ = l2_shrinkage:
    ĝ = g + 2λ₂ₛ·w;  a' = a + g²;  z ← z + ĝ − (a'^(−p) − a^(−p))/lr · w;  q = a'^(−p)/lr + 2λ₂;
    w ← (clip(z, −λ₁, λ₁) − z) / q;  a ← a'. Accumulators a start at ``initial_accumulator_value``, linears z at 0."""

    def __init__(self, learning_rate=0.001, learning_rate_power: float = -0.5, initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0, l2_regularization_strength: float = 0.0,
                 l2_shrinkage_regularization_strength: float = 0.0, beta: float = 0.0, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "ftrl"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)
        self.initial_accumulator_value = _non_negative(initial_accumulator_value, "initial_accumulator_value")
        if learning_rate_power > 0.0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = float(learning_rate_power)
        self.l1_regularization_strength = _non_negative(l1_regularization_strength, "l1_regularization_strength")
        self.l2_regularization_strength = _non_negative(l2_regularization_strength, "l2_regularization_strength")
        self.l2_shrinkage_regularization_strength = _non_negative(
            l2_shrinkage_regularization_strength, "l2_shrinkage_regularization_strength")
        self.beta = float(beta)

    def slot_names(self) -> tuple[str, ...]:
        return ("accumulator", "linear")

    def slot_initial_value(self, name: str) -> float:
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def update_rule(self, learning_rate: float):
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * learning_rate)
        return ftrl, self.slot_names(), [learning_rate, -self.learning_rate_power,
                                         2 * self.l2_shrinkage_regularization_strength, 2 * l2, -l1, l1]

    def get_config(self) -> dict:
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength, "beta": self.beta}


# The update of one weight (kernels.updates runs it on whole arrays or as one compiled loop), in Keras 3's order.

def ftrl(w, g, a, z, lr, neg_power, two_l2_shrinkage, two_l2, neg_l1, l1):
    """ĝ = g + 2λ₂ₛ·w;  a' = a + g²;  z ← z + ĝ − (a'^(−p) − a^(−p))/lr · w;  q = a'^(−p)/lr + 2λ₂;
    w ← (clip(z, −λ₁, λ₁) − z) / q;  a ← a'."""
    new_a = a + g * g
    new_a_power = new_a ** neg_power
    z = z + ((g + two_l2_shrinkage * w) - (new_a_power - a ** neg_power) / lr * w)
    quadratic = new_a_power / lr + two_l2
    w = (np.minimum(np.maximum(z, neg_l1), l1) - z) / quadratic
    return w, new_a, z

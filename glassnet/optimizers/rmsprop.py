"""RMSprop (Keras 3): divide the step by a running root mean square of the gradient."""

from __future__ import annotations

import numpy as np

from glassnet.optimizers.base import Optimizer


class RMSprop(Optimizer):
    """v ← ρ·v + (1 − ρ)·g²;  Δ = lr·g / √(v + ε)  (centered: √(v − ḡ² + ε) with ḡ ← ρ·ḡ + (1 − ρ)·g);
    w ← w − Δ, or with momentum: s ← momentum·s + Δ, w ← w − s."""

    def __init__(self, learning_rate=0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
                 centered: bool = False, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name: str = "rmsprop"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), float(epsilon), centered

    def slot_names(self) -> tuple[str, ...]:
        return ("velocity",) + (("momentum",) if self.momentum > 0 else ()) + \
            (("average_gradient",) if self.centered else ())

    def update_rule(self, learning_rate: float):
        states = ("velocity",) + (("average_gradient",) if self.centered else ()) + \
            (("momentum",) if self.momentum > 0 else ())
        return (_RULES[self.centered, self.momentum > 0], states,
                [learning_rate, self.rho, 1 - self.rho, self.epsilon, self.momentum])

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


# The update of one weight (kernels.updates runs it on whole arrays or as one compiled loop). Keras 3's order:
# v ← ρ·v + (1 − ρ)·g²;  increment = lr·g / √(v + ε), with v − ḡ² under the root when centered.

def rmsprop(w, g, v, lr, rho, one_minus_rho, epsilon, momentum):
    """w ← w − lr·g / √(v + ε)."""
    v = rho * v + one_minus_rho * (g * g)
    return w - lr * g / np.sqrt(v + epsilon), v


def rmsprop_momentum(w, g, v, s, lr, rho, one_minus_rho, epsilon, momentum):
    """s ← momentum·s + lr·g / √(v + ε);  w ← w − s."""
    v = rho * v + one_minus_rho * (g * g)
    s = momentum * s + lr * g / np.sqrt(v + epsilon)
    return w - s, v, s


def rmsprop_centered(w, g, v, a, lr, rho, one_minus_rho, epsilon, momentum):
    """ḡ ← ρ·ḡ + (1 − ρ)·g;  w ← w − lr·g / √(v − ḡ² + ε)."""
    v = rho * v + one_minus_rho * (g * g)
    a = rho * a + one_minus_rho * g
    return w - lr * g / np.sqrt(v - a * a + epsilon), v, a


def rmsprop_centered_momentum(w, g, v, a, s, lr, rho, one_minus_rho, epsilon, momentum):
    """ḡ ← ρ·ḡ + (1 − ρ)·g;  s ← momentum·s + lr·g / √(v − ḡ² + ε);  w ← w − s."""
    v = rho * v + one_minus_rho * (g * g)
    a = rho * a + one_minus_rho * g
    s = momentum * s + lr * g / np.sqrt(v - a * a + epsilon)
    return w - s, v, a, s


_RULES = {(False, False): rmsprop, (False, True): rmsprop_momentum,
          (True, False): rmsprop_centered, (True, True): rmsprop_centered_momentum}

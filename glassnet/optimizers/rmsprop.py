"""RMSprop (Keras 3): divide the step by a running root mean square of the gradient."""

from __future__ import annotations

import numpy as np

from glassnet.autodiff.tensor import Variable
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

    def update_step(self, gradient: np.ndarray, variable: Variable, learning_rate: float) -> None:
        slots = self._slots[variable]
        v, tmp = slots["velocity"], self.scratch(variable, 1)
        v *= self.rho
        np.square(gradient, out=tmp)
        tmp *= 1 - self.rho
        v += tmp
        if self.centered:
            avg = slots["average_gradient"]
            avg *= self.rho
            np.multiply(gradient, 1 - self.rho, out=tmp)
            avg += tmp
            np.square(avg, out=tmp)
            np.subtract(v, tmp, out=tmp)
            tmp += self.epsilon
        else:
            np.add(v, self.epsilon, out=tmp)
        np.sqrt(tmp, out=tmp)
        increment = np.divide(gradient, tmp, out=tmp)
        increment *= learning_rate
        if self.momentum > 0:
            s = slots["momentum"]
            s *= self.momentum
            s += increment
            variable.assign_sub(s)
        else:
            variable.assign_sub(increment)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}

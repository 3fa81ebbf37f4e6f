"""Stochastic gradient descent, optionally with momentum or Nesterov momentum (Keras 3's SGD)."""

from __future__ import annotations

import numpy as np

from glassnet.autodiff.tensor import Variable
from glassnet.optimizers.base import Optimizer


class SGD(Optimizer):
    """w ← w − lr·g.  With momentum: m ← momentum·m − lr·g, then w ← w + m (Nesterov: w ← w + momentum·m − lr·g)."""

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name: str = "SGD"):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)
        if not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def slot_names(self) -> tuple[str, ...]:
        return ("momentum",) if self.momentum != 0 else ()

    def update_step(self, gradient: np.ndarray, variable: Variable, learning_rate: float) -> None:
        step = np.multiply(gradient, learning_rate, out=self.scratch(variable, 1))  # lr·g
        if self.momentum == 0:
            variable.assign_sub(step)
            return
        m = self._slots[variable]["momentum"]
        m *= self.momentum
        m -= step
        if self.nesterov:
            look_ahead = np.multiply(m, self.momentum, out=self.scratch(variable, 2))
            look_ahead -= step
            variable.assign_add(look_ahead)
        else:
            variable.assign_add(m)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}

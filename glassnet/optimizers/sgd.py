"""Stochastic gradient descent, optionally with momentum or Nesterov momentum (Keras 3's SGD)."""

from __future__ import annotations

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

    def update_rule(self, learning_rate: float):
        if self.momentum == 0:
            return sgd, (), [learning_rate]
        return (sgd_nesterov if self.nesterov else sgd_momentum), ("momentum",), [learning_rate, self.momentum]

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


# The update of one weight (kernels.updates runs it on whole arrays or as one compiled loop), in Keras 3's order.

def sgd(w, g, lr):
    """w ← w − g·lr."""
    return (w - g * lr,)


def sgd_momentum(w, g, m, lr, momentum):
    """m ← momentum·m − g·lr;  w ← w + m."""
    m = momentum * m - g * lr
    return w + m, m


def sgd_nesterov(w, g, m, lr, momentum):
    """m ← momentum·m − g·lr;  w ← w + momentum·m − g·lr."""
    m = momentum * m - g * lr
    return w + (momentum * m - g * lr), m

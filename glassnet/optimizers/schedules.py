"""Learning-rate schedules, as in ``keras.optimizers.schedules``: lr = schedule(step), step = optimizer.iterations.

Each schedule is a closed form of the step (the number of updates already applied, 0 for the first one).
"""

from __future__ import annotations

import bisect
import math

from glassnet.keras_names import missing_attribute


class LearningRateSchedule:
    """Base class: ``schedule(step)`` → the learning rate (a float) for that step; serializable by its config."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(step)")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define get_config()")

    @classmethod
    def from_config(cls, config: dict) -> LearningRateSchedule:
        return cls(**config)


def _check_decay_steps(decay_steps: int) -> None:
    if decay_steps <= 0:
        raise ValueError(f"Argument `decay_steps` must be > 0. Received: decay_steps={decay_steps}")


class _DecayByRate(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: their arguments, and the decay progress
    p = step / decay_steps (floored when ``staircase``); each applies ``decay_rate`` to p in its own way."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str | None = None):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name or type(self).__name__

    def _progress(self, step: int) -> float:
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_DecayByRate):
    """lr = initial_learning_rate · decay_rate^(step / decay_steps), the exponent floored when ``staircase``."""

    def __call__(self, step: int) -> float:
        return float(self.initial_learning_rate * self.decay_rate ** self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step ≤ boundaries[0], values[i] while boundaries[i−1] < step ≤ boundaries[i], then values[-1]."""

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant"):
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of length {len(values)}."
            )
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step: int) -> float:
        return float(self.values[bisect.bisect_left(self.boundaries, step)])

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(_DecayByRate):
    """lr = initial_learning_rate / (1 + decay_rate · step / decay_steps), the ratio floored when ``staircase``."""

    def __call__(self, step: int) -> float:
        return float(self.initial_learning_rate / (1 + self.decay_rate * self._progress(step)))


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup from initial_learning_rate to warmup_target over warmup_steps, then
    lr = lr₀ · ((1 − α) · ½(1 + cos(π · t / decay_steps)) + α), t capped at decay_steps (lr₀ = the warmup target
    when there is one)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0, name: str = "CosineDecay",
                 warmup_target: float | None = None, warmup_steps: int = 0):
        _check_decay_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps, self.alpha, self.name = (
            initial_learning_rate, decay_steps, alpha, name)
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def _decay(self, step: float, start: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return float(start * ((1 - self.alpha) * cosine + self.alpha))

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return float(self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) * fraction)
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay, CosineDecay)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{'class_name': ..., 'config': ...}``, JSON-able."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """The inverse of ``serialize``; custom schedules are looked up in ``custom_objects``."""
    name = config.get("class_name")
    cls = (custom_objects or {}).get(name) or SCHEDULES.get(name)
    if cls is None:
        raise ValueError(f"Unknown learning-rate schedule {name!r}: pass it in custom_objects={{{name!r}: cls}}")
    return cls.from_config(config.get("config", {}))


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

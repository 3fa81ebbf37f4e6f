"""Optimizers with Keras 3's update rules (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion, Ftrl),
learning-rate schedules, and ``get``."""

from __future__ import annotations

from glassnet.keras_names import missing_attribute
from glassnet.optimizers import schedules
from glassnet.optimizers.adadelta import Adadelta
from glassnet.optimizers.adagrad import Adagrad
from glassnet.optimizers.adam import Adam, AdamW
from glassnet.optimizers.adamax import Adamax
from glassnet.optimizers.base import Optimizer
from glassnet.optimizers.ftrl import Ftrl
from glassnet.optimizers.lion import Lion
from glassnet.optimizers.nadam import Nadam
from glassnet.optimizers.rmsprop import RMSprop
from glassnet.optimizers.sgd import SGD

OPTIMIZERS = {cls.__name__.lower(): cls for cls in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion,
                                                    Ftrl)}


def get(identifier, custom_objects: dict | None = None) -> Optimizer:
    """Resolve an optimizer: a name ('sgd', 'rmsprop', 'adam', 'adamw', 'adagrad', 'adadelta', 'adamax',
    'nadam', 'lion', 'ftrl'; any case) with default arguments, an Optimizer instance, an Optimizer class, or a config
    dict from ``serialize``."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, str):
        cls = (custom_objects or {}).get(identifier) or OPTIMIZERS.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. "
                             f"Expected one of {sorted(OPTIMIZERS)} or an Optimizer instance")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. "
                     f"Expected one of {sorted(OPTIMIZERS)} or an Optimizer instance")


def serialize(optimizer: Optimizer) -> dict:
    """``{'class_name': ..., 'config': ...}``, JSON-able."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """The inverse of ``serialize``; custom optimizers are looked up in ``custom_objects``."""
    name = config.get("class_name", "")
    cls = (custom_objects or {}).get(name) or OPTIMIZERS.get(name.lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer {name!r}: pass it in custom_objects={{{name!r}: cls}}")
    return cls.from_config(config.get("config", {}), custom_objects)


__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lion", "Nadam", "Optimizer", "RMSprop",
           "deserialize", "get", "schedules", "serialize"]


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

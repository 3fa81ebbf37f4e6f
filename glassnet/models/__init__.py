"""Models, like ``keras.models``: Sequential, and load_model for files written by ``model.save``.

TrainStep is the training step that ``fit`` traces once and replays; a custom training loop (the playground's)
uses it the same way.
"""

from glassnet.models.loading import load_model
from glassnet.models.sequential import Sequential
from glassnet.models.step import TrainStep
from glassnet.saving import save_model

__all__ = ["Sequential", "TrainStep", "load_model", "save_model"]

"""Models, like ``keras.models``: Sequential, and load_model for files written by ``model.save``."""

from glassnet.models.loading import load_model
from glassnet.models.sequential import Sequential
from glassnet.saving import save_model

__all__ = ["Sequential", "load_model", "save_model"]

"""Models, like ``keras.models``: Model (functional ``Model(inputs, outputs)`` or subclassed), Sequential, and
load_model for files written by ``model.save``.

TrainStep is the training step that ``fit`` traces once and replays, and forward_loss the function it traces (the
model, the loss, the layers' penalties); a custom training loop (the playground's) uses them the same way.
"""

from glassnet.keras_format import save_model
from glassnet.keras_names import missing_attribute
from glassnet.models.cloning import clone_model
from glassnet.models.functional import Functional
from glassnet.models.loading import load_model, model_from_json
from glassnet.models.model import Model
from glassnet.models.sequential import Sequential
from glassnet.models.step import TrainStep, forward_loss

__all__ = ["Functional", "Model", "Sequential", "TrainStep", "clone_model", "forward_loss", "load_model",
           "model_from_json", "save_model"]


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

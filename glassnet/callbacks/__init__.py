"""Callbacks for fit/evaluate/predict, with Keras 3 names and behaviour."""

from glassnet.callbacks.backup_and_restore import BackupAndRestore
from glassnet.callbacks.callback import Callback
from glassnet.callbacks.callback_list import CallbackList
from glassnet.callbacks.csv_logger import CSVLogger
from glassnet.callbacks.early_stopping import EarlyStopping
from glassnet.callbacks.history import History
from glassnet.callbacks.lambda_callback import LambdaCallback
from glassnet.callbacks.model_checkpoint import ModelCheckpoint
from glassnet.callbacks.progbar import Progbar
from glassnet.callbacks.progbar_logger import ProgbarLogger
from glassnet.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from glassnet.callbacks.tensorboard import TensorBoard
from glassnet.callbacks.terminate_on_nan import TerminateOnNaN
from glassnet.callbacks.watch import Watch
from glassnet.keras_names import missing_attribute

__all__ = [
    "BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
    "ModelCheckpoint", "Progbar", "ProgbarLogger", "ReduceLROnPlateau", "TensorBoard", "TerminateOnNaN",
    "Watch",
]


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

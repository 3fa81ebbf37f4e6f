"""BackupAndRestore: survive an interrupted fit. Keras 3's files and behaviour: at each epoch's end (or every
``save_freq`` batches) the weights and the optimizer's variables go to ``backup_dir/latest.weights.h5`` and the epoch
to ``training_metadata.json``; the next fit restores both and resumes at that epoch; a finished fit deletes them."""

from __future__ import annotations

import json
import os
import shutil

from glassnet.callbacks.callback import Callback

WEIGHTS_FILE = "latest.weights.h5"
METADATA_FILE = "training_metadata.json"


class BackupAndRestore(Callback):
    """``BackupAndRestore(backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True)``.

    ``double_checkpoint`` keeps the previous backup as ``*.bkp`` and falls back to it when the latest cannot be read.
    Every file is replaced atomically, so a fit killed mid-backup leaves the previous backup usable.
    """

    def __init__(self, backup_dir: str | os.PathLike, save_freq="epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. Expected "
                             "either 'epoch' or an integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, WEIGHTS_FILE)
        self._metadata_path = os.path.join(self.backup_dir, METADATA_FILE)
        self._current_epoch = 0
        self._batches_since_save = 0

    @property
    def uses_batch_hooks(self) -> bool:
        return self.save_freq != "epoch"

    def on_train_begin(self, logs=None):
        try:
            self._restore()
        except (OSError, ValueError):
            if not os.path.exists(f"{self._weights_path}.bkp"):
                raise
            for path in (self._weights_path, self._metadata_path):  # the previous backup becomes the latest
                if os.path.exists(f"{path}.bkp"):
                    shutil.copyfile(f"{path}.bkp", path)
                elif os.path.exists(path):
                    os.remove(path)
            self._restore()

    def _restore(self) -> None:
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, you model must be built before you call `fit()`. "
                             f"Model {self.model} is unbuilt. You can build it beforehand by calling it on a batch "
                             "of data.")
        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)  # the optimizer's variables too, when the model is compiled
        if os.path.exists(self._metadata_path):
            with open(self._metadata_path, encoding="utf-8") as f:
                epoch = json.load(f).get("epoch")
            if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
                raise ValueError(f"BackupAndRestore: {self._metadata_path} holds epoch={epoch!r}; expected an "
                                 "integer ≥ 0")
            self._current_epoch = epoch
            self.model._initial_epoch = epoch  # Keras's hook: fit resumes at this epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        if self.save_freq == "epoch":
            self._backup()

    def on_train_batch_end(self, batch, logs=None):
        self._batches_since_save += 1
        if self.save_freq != "epoch" and self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._backup()

    def _backup(self) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path in (self._weights_path, self._metadata_path):
                if os.path.exists(path):
                    shutil.copyfile(path, f"{path}.bkp")
        self.model.save_weights(self._weights_path, overwrite=True)
        partial = f"{self._metadata_path}.partial"
        with open(partial, "w", encoding="utf-8") as f:
            json.dump({"epoch": self._current_epoch, "batch": self._batches_since_save}, f)
        os.replace(partial, self._metadata_path)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)

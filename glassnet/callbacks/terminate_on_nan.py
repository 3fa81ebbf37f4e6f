"""TerminateOnNaN: stop training as soon as a batch's loss is NaN or infinite."""

from __future__ import annotations

import math

from glassnet.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Sets ``model.stop_training`` when the running loss becomes NaN or ±inf (checked after every batch)."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True

"""History: the per-epoch results of fit, returned by fit and kept as ``model.history``."""

from __future__ import annotations

from glassnet.callbacks.callback import Callback


class History(Callback):
    """Records ``history`` (result name → list of per-epoch values) and ``epoch`` (the epoch indices run).

    Keys are exactly the names in the logs: ``loss``, the metric strings passed to compile, and ``val_``-prefixed
    copies. ``model.history`` is set after every epoch, so an interrupted fit keeps the finished epochs.
    ``diagnoses``: the Findings a ``Watch`` callback made during the fit (glassnet's addition).
    """

    uses_batch_hooks = False

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []
        self.diagnoses: list = []

    def on_train_begin(self, logs=None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

    def __repr__(self) -> str:
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"

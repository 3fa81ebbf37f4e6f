"""CallbackList: calls each hook on every callback in order, as fit/evaluate/predict drive it.

It sits above the callbacks it adds itself (History and ProgbarLogger), so that none of them imports it back.
"""

from __future__ import annotations

from collections.abc import Iterable

from glassnet.callbacks.callback import Callback
from glassnet.callbacks.history import History
from glassnet.callbacks.progbar_logger import ProgbarLogger

_BATCH_HOOKS = {
    "train": ("on_train_batch_begin", "on_train_batch_end"),
    "test": ("on_test_batch_begin", "on_test_batch_end"),
    "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
}


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (so batch hooks that nobody uses cost nothing)."""
    if not getattr(callback, "uses_batch_hooks", True):
        return False
    if hook in vars(callback):  # set on the instance, as LambdaCallback does
        return True
    cls = type(callback)
    if getattr(cls, hook) is not getattr(Callback, hook):
        return True
    alias = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}.get(hook)
    return alias is not None and (alias in vars(callback) or getattr(cls, alias) is not getattr(Callback, alias))


class CallbackList(Callback):
    """Calls each hook on every callback in order; adds History and ProgbarLogger when asked (as fit does)."""

    def __init__(self, callbacks: Iterable[Callback] | None = None, add_history: bool = False,
                 add_progbar: bool = False, model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be glassnet.callbacks.Callback instances, received {cb!r} of type "
                    f"{type(cb).__name__}"
                )
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    def set_params(self, params: dict) -> None:
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model) -> None:
        self._model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def batch_hooks(self, mode: str) -> tuple[list, list]:
        """The bound begin/end batch hooks of the callbacks that use them in ``mode`` ('train', 'test', 'predict')."""
        begin, end = _BATCH_HOOKS[mode]
        return ([getattr(cb, begin) for cb in self.callbacks if _overrides(cb, begin)],
                [getattr(cb, end) for cb in self.callbacks if _overrides(cb, end)])

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)

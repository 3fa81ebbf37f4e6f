"""Progress of a sweep on Dask: one line per finished fit, counted where joblib collects the Dask futures.

joblib's Dask backend already waits on its futures with ``distributed.as_completed`` and calls back once per
finished batch of fits; this backend counts the fits in each batch and passes the count to a :class:`Progress`.
"""

from __future__ import annotations

import sys
import threading
import time

from joblib._dask import DaskDistributedBackend


class Progress:
    """Prints ``[  3/24] fits done  4.1s`` as fits finish (thread-safe: callbacks come from the client's loop)."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stdout
        self._start = time.perf_counter()
        self._lock = threading.Lock()

    def advance(self, fits: int) -> None:
        with self._lock:
            self.done += fits
            width = len(str(self.total))
            self.stream.write(f"[{self.done:>{width}}/{self.total}] fits done "
                              f"{time.perf_counter() - self._start:6.1f}s\n")
            self.stream.flush()


class ProgressDaskBackend(DaskDistributedBackend):
    """joblib's Dask backend, reporting each finished batch of fits to ``progress``."""

    def __init__(self, progress: Progress, **kwargs):
        super().__init__(**kwargs)
        self.progress = progress

    def submit(self, func, callback=None):
        fits = len(func)

        def counted(result):
            self.progress.advance(fits)
            if callback is not None:
                callback(result)

        return super().submit(func, callback=counted)

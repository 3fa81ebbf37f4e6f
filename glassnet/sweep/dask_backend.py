"""joblib's Dask backend with what a sweep needs besides: per-fit progress, shared data that survives a
worker's death, and fits sent to the cluster even when it has a single thread.

Progress: the backend already waits on its futures with ``distributed.as_completed`` and calls back once per
finished batch of fits; the count of fits in each batch goes to a :class:`Progress`.

Shared data: joblib scatters each large argument (the training data, each fold's index arrays) to one worker, and
the scheduler cannot recover scattered data that dies with its worker, so the fits needing it would be cancelled.
Here each shared array is instead the result of a small task that returns it: a lost copy is simply recomputed.
"""

from __future__ import annotations

import sys
import threading
import time

from joblib._dask import DaskDistributedBackend


class Progress:
    """Prints ``[ 3/24] fits done    4.1s`` as fits finish (thread-safe: callbacks come from the client's loop)."""

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


def _identity(array):
    return array


class SweepDaskBackend(DaskDistributedBackend):
    """joblib's Dask backend reporting finished fits to ``progress``; the ``shared`` arrays (passed to the fits
    as these very objects) are held on the cluster as recomputable task results rather than scattered."""

    def __init__(self, progress: Progress, shared=(), **kwargs):
        super().__init__(**kwargs)
        self.progress = progress
        self._scatter = list(shared)  # keeps the objects, hence their ids, alive (as joblib's own scatter= does)
        self.data_futures = {id(array): self.client.submit(_identity, array, pure=False) for array in shared}

    def effective_n_jobs(self, n_jobs):
        """The cluster's threads, but at least 2: joblib runs the calls in this process when it gets 1, and the
        fits of a one-thread cluster belong on that cluster too (they simply queue there)."""
        return max(2, super().effective_n_jobs(n_jobs))

    def submit(self, func, callback=None):
        fits = len(func)

        def counted(result):
            self.progress.advance(fits)
            if callback is not None:
                callback(result)

        return super().submit(func, callback=counted)

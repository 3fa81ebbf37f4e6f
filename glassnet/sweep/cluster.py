"""Where a sweep runs: a Dask cluster of worker processes on this machine, or an existing one at an address.

The local cluster binds to 127.0.0.1 only (nothing outside this machine can reach it), with its status server on a
free port; each worker process runs one task at a time, so a fit gets a whole core and BLAS is not oversubscribed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


def _distributed():
    try:
        import distributed
    except ImportError as e:
        raise ImportError("glassnet sweeps run on Dask: pip install 'glassnet[dask]'") from e
    return distributed


def default_workers() -> int:
    """One worker process per core (at least one)."""
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def connect(scheduler: str | None = None, workers: int | None = None, timeout: float = 60) -> Iterator:
    """A ``distributed.Client``: of the scheduler at ``scheduler`` (``tcp://HOST:PORT``) if given, else of a new
    local cluster of ``workers`` processes (default: one per core), closed again on exit."""
    distributed = _distributed()
    if scheduler is not None:
        if workers is not None:
            raise ValueError("--workers applies to the local cluster only; an existing cluster at "
                             f"{scheduler} has the workers it was started with")
        with distributed.Client(scheduler, timeout=timeout, set_as_default=False) as client:
            yield client
        return
    n_workers = default_workers() if workers is None else workers
    if n_workers < 1:
        raise ValueError(f"workers must be at least 1, received {n_workers}")
    with distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster, \
            distributed.Client(cluster, timeout=timeout, set_as_default=False) as client:
        client.wait_for_workers(n_workers, timeout=timeout)
        yield client

"""While a step is traced, let go of each value that no Python name can reach any more, as its replay will.

A trace records every op with its inputs, so the recorded graph reaches every value the forward pass made: an
LSTM's z⟨t⟩ at each of its 200 steps, which a replay frees one by one (the ``del`` in the step's source), would all
stay until the trace ends, and the first batch would take far more memory than the others (glibc then keeps that
heap for the life of the process). A value that only the graph's own links still hold (no variable, list or
attribute refers to its tensor: CPython's reference count says so) can never be the input of a later op; unless an
op saved its memory for the backward pass, or a later op may read it through the graph (the logits behind a sigmoid,
which a cross-entropy reads; ``Function.inputs_read_later``), the trace replaces it by a stand-in of its shape and
dtype. The graph stays whole: the walk and the step's writer read only shapes, dtypes and what the ops saved.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

import numpy as np

from glassnet.autodiff.tensor import Tensor


def stand_in(array: np.ndarray) -> np.ndarray:
    """An array of ``array``'s shape and dtype that holds one zero (a read-only broadcast view): what a tensor keeps
    once its value is gone."""
    return np.broadcast_to(np.zeros((), dtype=array.dtype), array.shape)


def memory_root(array) -> int:
    """The id of the array that owns the memory behind ``array`` (a view's base, its base's, …)."""
    while isinstance(getattr(array, "base", None), np.ndarray):
        array = array.base
    return id(array)


def saved_memory(ops: Iterable) -> set[int]:
    """The memory the recorded ops saved for their backward, as the ids of its owning arrays."""
    return {memory_root(a) for fn in ops for a in (fn.saved or ()) if isinstance(a, np.ndarray)}


def drop_values(tensors: Sequence[Tensor], spared_memory: set[int] = frozenset()) -> None:
    """Replace the value of each of ``tensors`` (but those whose memory is in ``spared_memory``, ids of owning
    arrays) by its stand-in."""
    for t in tensors:
        if isinstance(t._data, np.ndarray) and memory_root(t._data) not in spared_memory:
            t._data = stand_in(t._data)


def _references_while_counted() -> int:
    """What ``sys.getrefcount`` reports, in ``sweep``'s loop, for an object that only the watch list holds: 3 on
    CPython 3.11 (the list's, the loop variable's, the call's own argument). Measured rather than assumed, since an
    interpreter may borrow the loop's reference instead; any other is a reference from outside."""
    watched, count = [object()], 0
    for t in watched:
        count = sys.getrefcount(t)
    return count


COUNTING = _references_while_counted()


class UnreachableValues:
    """Handed to ``tensor.releasing``: told of each recorded op, it checks the tensors recorded so far and drops the
    values only the graph holds. A check costs one reference count per tensor still watched, so it runs once the
    ops recorded since the last check number a quarter of those (at every op while few are watched): a trace that
    keeps thousands of tensors in a list costs a constant per op, not a sweep of them all at each."""

    def __init__(self):
        self._watched: list[Tensor] = []
        self._links: dict[int, int] = {}  # id(tensor) -> how many places in recorded ops' inputs hold it
        self._reread: set[int] = set()  # inputs a later op may read (Function.inputs_read_later)
        self._saved: set[int] = set()  # the memory the recorded ops saved (ids of owning arrays; the ops hold them)
        # the recorded ops, held to the end: they hold their inputs, so no id above is reused by a new tensor
        self._ops: list = []
        self._since = 0

    def recorded(self, fn, out: Tensor) -> None:
        for x in fn.inputs:
            self._links[id(x)] = self._links.get(id(x), 0) + 1
            if fn.inputs_read_later:
                self._reread.add(id(x))
        self._saved |= saved_memory([fn])
        self._ops.append(fn)
        self._watched.append(out)
        self._since += 1
        if 4 * self._since >= len(self._watched):
            self.sweep()

    def sweep(self) -> None:
        """Drop the values of the watched tensors that nothing but the graph holds, unless an op saved their memory
        or reads them again, and stop watching them."""
        self._since = 0
        watched = []
        for t in self._watched:
            if sys.getrefcount(t) - COUNTING > self._links.get(id(t), 0) or id(t) in self._reread:
                watched.append(t)
            else:
                drop_values([t], self._saved)
        self._watched = watched

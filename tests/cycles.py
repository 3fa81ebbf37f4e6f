"""What a piece of code leaves for the garbage collector: the objects of the reference cycles it made."""

from __future__ import annotations

import gc
from collections.abc import Callable


def cycles_made_by(run: Callable[[], object]) -> list[str]:
    """The type names of the objects that only the cycle collector could free after ``run()`` (empty when
    everything ``run`` made was freed as soon as it was no longer used)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run()
        gc.collect()
        return [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()

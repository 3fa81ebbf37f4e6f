"""Progbar: Keras 3's progress line, ``469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 3ms/step - accuracy: 0.9245 - loss: 0.2577``.

In a terminal the line is redrawn in place with a carriage return (ANSI bold/green as Keras draws it). In a Jupyter
notebook it is one output replaced in place (IPython's ``display`` with a ``display_id``), so a saved notebook keeps
one plain line per epoch, not every redraw. Written to a file or a pipe, each bar is printed once, when it is
complete, so logs stay readable.
"""

from __future__ import annotations

import sys
import time

import numpy as np

BAR_CHAR = "━"


def in_notebook() -> bool:
    """Whether this code runs inside a Jupyter kernel (not merely in a process that imported ipykernel)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def writes_to_notebook(stream) -> bool:
    """Whether ``stream`` is a Jupyter kernel's own output (not a redirection inside a notebook)."""
    return in_notebook() and type(stream).__module__.startswith("ipykernel.")


def is_terminal(stream) -> bool:
    """Whether ``stream`` redraws a line on a carriage return: a terminal."""
    return bool(getattr(stream, "isatty", lambda: False)())


class NotebookLine:
    """One line of a notebook's output that each ``show`` replaces: the live bar while it runs, and the only
    thing the saved notebook keeps (the last text shown)."""

    def __init__(self):
        self.handle = None

    def show(self, text: str) -> None:
        from IPython.display import display

        if self.handle is None:
            self.handle = display({"text/plain": text}, raw=True, display_id=True)
        else:
            self.handle.update({"text/plain": text}, raw=True)


def format_value(value: float) -> str:
    """Keras's number format in the progress line: 4 decimals, scientific below 1e-3 in magnitude."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_time_per_unit(seconds: float, unit: str) -> str:
    """``' 3ms/step'``: whole seconds, milliseconds or microseconds per unit, as Keras prints it."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"


def format_eta(seconds: float) -> str:
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


class Progbar:
    """A progress bar over ``target`` steps (None if unknown). ``verbose=1``: the live bar; ``2``: one line at the end.

    ``update(current, values, finalize)`` takes ``values`` as ``(name, value)`` pairs shown as given (fit passes
    epoch-to-date averages). Redraws are throttled to one per ``interval`` seconds, so a fast loop pays little.
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1, interval: float = 0.05,
                 unit_name: str = "step", stream=None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stream = stream if stream is not None else sys.stdout
        self.notebook_line = NotebookLine() if writes_to_notebook(self.stream) else None
        self.dynamic = self.notebook_line is not None or is_terminal(self.stream)
        self._start = time.perf_counter()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_width = 0

    def _time_per_unit(self, current: int, now: float) -> float:
        """Seconds per step, leaving out the first (often slow) step once there are others."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    def _metrics(self, values) -> str:
        """`` - loss: 0.2345 - accuracy: 0.9100``; a metric with one value per class shows their mean, as Keras's
        progress bar does."""
        return "".join(f" - {name}: {format_value(float(np.mean(value)))}" for name, value in values)

    def _count(self, current: int) -> str:
        digits = len(str(self.target))
        return f"{current:>{digits}}/{self.target}"

    def _bar_line(self, current: int, now: float, per_unit: float, finalize: bool, values) -> tuple[str, int]:
        """The bar line and its visible width (without the ANSI codes)."""
        color = self.dynamic and self.notebook_line is None
        if self.target:
            count = self._count(current)
            done = int(self.width * min(current / self.target, 1.0))
            done_part, rest = BAR_CHAR * done, BAR_CHAR * (self.width - done)
            if color:  # Keras draws the done part green and the rest grey
                bar = f"\x1b[1m{count}\x1b[0m \x1b[32m{done_part}\x1b[0m\x1b[37m{rest}\x1b[0m"
            else:
                bar = f"{count} {done_part}{' ' * len(rest)}"
            visible = len(count) + 1 + self.width
        else:
            bar = f"{current:7d}/Unknown"
            visible = len(bar)
        when = format_eta(per_unit * (self.target - current)) if self.target and not finalize \
            else f"{now - self._start:.0f}s"
        info = (f" \x1b[1m{when}\x1b[0m" if color else f" {when}") + format_time_per_unit(per_unit, self.unit_name)
        info += self._metrics(values)
        visible += len(info) - (8 if color else 0)
        return bar + info, visible

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Show progress at step ``current`` with ``values`` [(name, value), ...]."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        now = time.perf_counter()
        per_unit = self._time_per_unit(current, now)
        if self.verbose == 1:
            if not finalize and (not self.dynamic or now - self._last_update < self.interval):
                return
            line, visible = self._bar_line(current, now, per_unit, finalize, values or ())
            if self.notebook_line is not None:
                self.notebook_line.show(line)
            else:
                if self.dynamic:
                    line = "\r" + line + " " * max(self._prev_width - visible, 0)
                self.stream.write(line + ("\n" if finalize else ""))
                self.stream.flush()
            self._prev_width = visible
        elif self.verbose == 2 and finalize:
            count = self._count(current) if self.target else f"{current}"
            line = f"{count} - {now - self._start:.0f}s -{format_time_per_unit(per_unit, self.unit_name)}"
            self.stream.write(line + self._metrics(values or ()) + "\n")
            self.stream.flush()
        self._last_update = now

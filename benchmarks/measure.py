"""What a worker measures around each timed round: wall time, the CPU other processes took meanwhile, memory.

A neighbour on the same cores distorts a 2-thread BLAS badly, so every round records the CPU time the rest of the
machine used during it: busy time of all CPUs (/proc/stat, steal included) minus this process's own CPU time
(/proc/<pid>/stat, all its threads). A round in which others used more than ``max_share`` of one core is
disturbed and discarded.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

TICK = os.sysconf("SC_CLK_TCK")
QUANTUM_S = 2.0 / TICK  # /proc counts whole clock ticks: allow two ticks of rounding in a round


def _machine_busy_ticks() -> int | None:
    """Busy ticks of all CPUs since boot: user, nice, system, irq, softirq, steal (idle and iowait left out)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq + steal


def _own_ticks(pid: int) -> int | None:
    """User + system ticks of process ``pid`` (all threads); the fields after the command name's ')'."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(rest[11]) + int(rest[12])  # utime, stime: fields 14 and 15 of proc(5)


@dataclass
class Round:
    """One timed round: its wall time, and the CPU seconds the rest of the machine used during it."""

    seconds: float
    others_cpu_s: float | None
    disturbed: bool


class CpuWindow:
    """``with CpuWindow() as w: ...`` — afterwards ``w.seconds`` (wall) and ``w.others_cpu_s`` (CPU seconds the
    rest of the machine used meanwhile, None where /proc is missing)."""

    def __enter__(self) -> CpuWindow:
        self._pid = os.getpid()
        self._busy, self._own = _machine_busy_ticks(), _own_ticks(self._pid)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._start
        busy, own = _machine_busy_ticks(), _own_ticks(self._pid)
        if None in (busy, own, self._busy, self._own):
            self.others_cpu_s = None
        else:
            self.others_cpu_s = max(0.0, ((busy - self._busy) - (own - self._own)) / TICK)

    def disturbed(self, max_share: float) -> bool:
        """Whether others used more than ``max_share`` of a core (beyond the ticks' rounding) during the window."""
        return self.others_cpu_s is not None and self.others_cpu_s > max_share * self.seconds + QUANTUM_S


def time_rounds(run_round: Callable[[int], object], rounds: int, max_attempts: int, max_share: float) -> list[dict]:
    """Run ``run_round(i)`` until ``rounds`` undisturbed rounds were timed or ``max_attempts`` rounds were run;
    every round as a dict of Round's fields (disturbed ones included, marked). When the first ``rounds`` rounds
    were all disturbed the machine is busy throughout, and replacing them would only take longer: stop there."""
    timed: list[Round] = []
    while len(timed) < max_attempts and sum(not r.disturbed for r in timed) < rounds:
        if len(timed) >= rounds and all(r.disturbed for r in timed):
            break
        with CpuWindow() as window:
            run_round(len(timed))
        timed.append(Round(window.seconds, window.others_cpu_s, window.disturbed(max_share)))
    return [asdict(r) for r in timed]


def rss_bytes() -> int:
    """Resident memory of this process now (VmRSS)."""
    return _status_field("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> bool:
    """Restart the kernel's peak-RSS record (VmHWM) from the current RSS, so a peak covers training only."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """Peak resident memory since the last reset_peak_rss (VmHWM), else since the process started (getrusage)."""
    return _status_field("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def lifetime_peak_rss_bytes() -> int:
    """Peak resident memory of the whole process, as resource.getrusage reports it."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _status_field(name: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None

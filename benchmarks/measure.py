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
from dataclasses import asdict, dataclass, field

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


@dataclass
class Timing:
    """All rounds of one peer on one workload; ``used`` are the undisturbed ones (or all, if none was clean)."""

    rounds: list[Round] = field(default_factory=list)

    @property
    def used(self) -> list[float]:
        clean = [r.seconds for r in self.rounds if not r.disturbed]
        return clean or [r.seconds for r in self.rounds]

    @property
    def discarded(self) -> int:
        clean = sum(not r.disturbed for r in self.rounds)
        return len(self.rounds) - clean if clean else 0

    @property
    def all_disturbed(self) -> bool:
        return bool(self.rounds) and all(r.disturbed for r in self.rounds)

    def to_dict(self) -> dict:
        return {"rounds": [asdict(r) for r in self.rounds]}


def time_rounds(run_round: Callable[[int], object], rounds: int, max_attempts: int, max_share: float) -> Timing:
    """Run ``run_round(i)`` until ``rounds`` undisturbed rounds were timed or ``max_attempts`` rounds were run."""
    pid = os.getpid()
    timing = Timing()
    attempt = 0
    while attempt < max_attempts and sum(not r.disturbed for r in timing.rounds) < rounds:
        busy0, own0 = _machine_busy_ticks(), _own_ticks(pid)
        start = time.perf_counter()
        run_round(attempt)
        seconds = time.perf_counter() - start
        busy1, own1 = _machine_busy_ticks(), _own_ticks(pid)
        if None in (busy0, own0, busy1, own1):
            others, disturbed = None, False
        else:
            others = max(0.0, ((busy1 - busy0) - (own1 - own0)) / TICK)
            disturbed = others > max_share * seconds + QUANTUM_S
        timing.rounds.append(Round(seconds, others, disturbed))
        attempt += 1
    return timing


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

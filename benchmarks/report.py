"""Turn the workers' measurements into the printed tables, the issue's target checks, and the RESULTS.md entry.

Every figure printed here comes from a measurement of the same run: times from the rounds each worker timed,
ratios from those times, the lower bound from the roofline worker, memory from the workers' RSS.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import statistics
from dataclasses import dataclass, field

from benchmarks.workloads import Workload

MB = 1024 * 1024
# float32 noise after tens of steps: Keras 3 itself (torch backend) stays within 3.5e-7 of the NumPy reference over
# the loss check's 30-300 steps; a change in the math (an ε, a clip, a missing 1/m) shows as 1e-4 or more.
LOSS_RTOL = 1e-5


@dataclass
class PeerResult:
    """One peer on one workload: its status and, when it ran, its round times and memory."""

    peer: str
    label: str
    status: str  # "ok", "skipped: ...", "failed: ..."
    raw: dict = field(default_factory=dict)
    scale: float = 1.0  # multiplies a round's seconds into the reported unit

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def _used_rounds(self) -> list[dict]:
        rounds = self.raw["rounds"]
        return [r for r in rounds if not r["disturbed"]] or rounds

    def _used(self) -> list[float]:
        return [r["seconds"] * self.scale for r in self._used_rounds()]

    def paired_ratio(self, bound_by_turn: list[float | None]) -> float | None:
        """The median over rounds of (round time ÷ the bound measured in the same turn): each round against the
        machine's speed of that moment, which the ratio of medians mixes up when the VM's speed drifts."""
        ratios = [r["seconds"] / bound_by_turn[r["turn"]] for r in self._used_rounds()
                  if "turn" in r and r["turn"] < len(bound_by_turn) and bound_by_turn[r["turn"]]]
        return statistics.median(ratios) if ratios else None

    @property
    def min(self) -> float:
        return min(self._used())

    @property
    def median(self) -> float:
        return statistics.median(self._used())

    @property
    def discarded(self) -> int:
        rounds = self.raw["rounds"]
        clean = sum(not r["disturbed"] for r in rounds)
        return len(rounds) - clean if clean else 0

    @property
    def all_disturbed(self) -> bool:
        return all(r["disturbed"] for r in self.raw["rounds"])

    @property
    def others_cpu_max(self) -> float | None:
        shares = [r["others_cpu_s"] / r["seconds"] for r in self.raw["rounds"] if r["others_cpu_s"] is not None]
        return max(shares) if shares else None

    @property
    def memory_over_imports(self) -> int:
        return self.raw["peak_rss"] - self.raw["rss_baseline"]


@dataclass
class WorkloadResult:
    workload: Workload
    samples: int
    quick: bool
    peers: list[PeerResult]
    roofline: dict  # the roofline worker's figures for this workload, or {"error": ...}
    losses: dict | None

    def peer(self, name: str) -> PeerResult | None:
        return next((p for p in self.peers if p.peer == name and p.ok), None)

    @property
    def unit(self) -> str:
        if self.workload.per_thousand_steps:
            return self.workload.unit
        if self.workload.epoch_samples:
            return (f"{self.workload.unit} of {self.workload.epoch_samples} samples (rounds of "
                    f"{self.workload.steps(self.samples)} steps, scaled)")
        return f"s per round of {self.samples} samples (quick)" if self.quick else self.workload.unit

    @property
    def scale(self) -> float:
        """Round seconds → reported unit: C and D are reported per 1000 steps whatever the round's length, CONV and
        LSTM per epoch (their rounds are a slice of it)."""
        if self.workload.epoch_samples:
            return self.workload.steps(self.workload.epoch_samples) / self.workload.steps(self.samples)
        return 1000 / self.workload.steps(self.samples) if self.workload.per_thousand_steps else 1.0

    @property
    def lower_bound(self) -> float | None:
        return self.roofline["lower_bound_s"] * self.scale if "lower_bound_s" in self.roofline else None


def _fmt(seconds: float) -> str:
    return f"{seconds:.4f}" if seconds < 0.1 else f"{seconds:.3f}"


def workload_table(result: WorkloadResult) -> list[str]:
    w = result.workload
    lines = [f"### {w.key}: {w.title} {w.architecture}, {w.loss}, {w.optimizer}, batch {w.batch_size}, "
             f"{result.samples} samples: {result.unit}"]
    sources = sorted({p.raw.get("data_source") for p in result.peers if p.ok})
    lines += [f"data: {s}" for s in sources]
    lines += [f"input storage: {s}" for s in sorted({p.raw.get("storage") for p in result.peers if p.ok} - {None})]
    lines += ["", "| peer | version | min | median | rounds used (discarded) | others' CPU, max "
              "| peak RSS over imports | glassnet / peer (median) |", "|" + " --- |" * 8]
    ours = result.peer("glassnet")
    for p in result.peers:
        if not p.ok:
            lines.append(f"| {p.label} | – | – | – | – | – | – | {p.status} |")
            continue
        used = len(p.raw["rounds"]) - p.discarded
        flag = " (all disturbed)" if p.all_disturbed else ""
        others = f"{p.others_cpu_max:.2f} cores" if p.others_cpu_max is not None else "n/a"
        ratio = f"{ours.median / p.median:.2f}" if ours else "n/a (glassnet did not run)"
        lines.append(f"| {p.label} | {p.raw['version']} | {_fmt(p.min)} | {_fmt(p.median)} | {used} ({p.discarded})"
                     f"{flag} | {others} | {p.memory_over_imports / MB:.0f} MB (total {p.raw['peak_rss'] / MB:.0f} MB)"
                     f" | {ratio} |")
    if result.lower_bound is None:
        lines += ["", f"matmul lower bound: not measured ({result.roofline.get('error')})"]
    else:
        r = result.roofline
        text = (f"matmul lower bound: {_fmt(result.lower_bound)} {result.unit.split(' (')[0]} "
                f"({r['epoch_gflop'] * result.scale:.3g} GFLOP at {r['gflops_per_s']:.1f} GFLOP/s measured for its "
                "shapes" + _turns(r, result.scale) + ")")
        if ours:
            text += f"; glassnet median = {_fmt(ours.median)}, {ours.median / result.lower_bound:.2f} × the bound"
        lines += ["", text]
        lines += [f"  - {s['label']}: ({s['m']}×{s['k']})·({s['k']}×{s['n']}) {s['gflops_per_s']:.1f} GFLOP/s"
                  + (" (disturbed: other processes were running)" if s["disturbed"] else "") for s in r["shapes"]]
    return lines


def _turns(roofline: dict, scale: float) -> str:
    """', the median of N turns: a, b, …' when the bound was measured in several turns."""
    bounds = roofline.get("turn_bounds_s", [])
    if len(bounds) < 2:
        return ""
    return f"; the median of {len(bounds)} turns: " + ", ".join(_fmt(b * scale) for b in bounds)


def loss_check(result: WorkloadResult) -> tuple[str, str] | None:
    """(figures, PASS/FAIL) comparing glassnet's running-mean losses with the NumPy reference's."""
    losses = result.losses
    if losses is None:
        return None
    if "error" in losses:
        return f"not measured: {losses['error']}", "FAIL"
    ref, got = losses["reference"], losses["measured"]
    if len(got) != len(ref):
        return f"glassnet reported {len(got)} losses for {len(ref)} steps", "FAIL"
    deviation = max(abs(g - r) / max(abs(r), 1e-12) for g, r in zip(got, ref))
    figures = (f"{len(ref)} steps, max relative deviation {deviation:.2e} (tolerance {LOSS_RTOL:g}); "
               f"step 1 {got[0]:.6f} vs {ref[0]:.6f}, step {len(ref)} {got[-1]:.6f} vs {ref[-1]:.6f}")
    return figures, "PASS" if deviation <= LOSS_RTOL else "FAIL"


def memory_budget(result: WorkloadResult, data_bytes: int) -> int:
    """Dataset as float32 + parameters + optimizer state (one slot per parameter for RMSprop, none for SGD) +
    one batch of activations (every layer's output, input included)."""
    w = result.workload
    params = 4 * w.n_params
    state = params if w.optimizer == "rmsprop" else 0
    return data_bytes + params + state + 4 * w.batch_size * w.activations_per_sample


def targets(results: list[WorkloadResult]) -> list[tuple[str, str, str]]:
    """The issue's targets as (target, figures from this run, PASS/FAIL or n/a); a verdict from timings whose
    every round was disturbed says so."""
    rows = []
    for r in results:
        start = len(rows)
        key, ours, torch = r.workload.key, r.peer("glassnet"), r.peer("torch")
        if key in "AB":
            if ours and torch:
                limit = 0.75 * torch.median
                rows.append((f"{key}: glassnet ≤ 0.75 × PyTorch median",
                             f"{_fmt(ours.median)} s vs 0.75 × {_fmt(torch.median)} = {_fmt(limit)} s "
                             f"(glassnet/PyTorch {ours.median / torch.median:.2f})",
                             "PASS" if ours.median <= limit else "FAIL"))
            else:
                rows.append((f"{key}: glassnet ≤ 0.75 × PyTorch median", "glassnet or PyTorch did not run", "n/a"))
            if ours and r.lower_bound:
                limit = 1.5 * r.lower_bound
                paired = ours.paired_ratio(r.roofline.get("bound_by_turn_s", []))
                pairing = f"; each round against its own turn's bound, median {paired:.2f} ×" if paired else ""
                rows.append((f"{key}: glassnet ≤ 1.5 × matmul lower bound",
                             f"{_fmt(ours.median)} s vs 1.5 × {_fmt(r.lower_bound)} = {_fmt(limit)} s "
                             f"({ours.median / r.lower_bound:.2f} × the bound{pairing})",
                             "PASS" if ours.median <= limit else "FAIL"))
        if key in "CD":
            target = f"{key}: glassnet ≥ 4 × PyTorch steps/s" + (" (train_on_batch)" if key == "D" else "")
            if ours and torch:
                ours_rate, torch_rate = 1000 / ours.median, 1000 / torch.median
                rows.append((target, f"{ours_rate:.0f} vs 4 × {torch_rate:.0f} = {4 * torch_rate:.0f} steps/s "
                             f"({ours_rate / torch_rate:.2f} ×)", "PASS" if ours_rate >= 4 * torch_rate else "FAIL"))
            else:
                rows.append((target, "glassnet or PyTorch did not run", "n/a"))
        if key in ("CONV", "LSTM"):
            rows += layer_targets(r)
        check = loss_check(r)
        if check:
            rows.append((f"{key}: loss curve = NumPy reference", *check))
        if key == "A" and ours:
            budget = memory_budget(r, ours.raw["data_bytes"])
            used = ours.memory_over_imports
            rows.append(("A: peak memory ≤ 1.3 × (data + params + optimizer state + one batch)",
                         f"peak RSS over imports {used / MB:.0f} MB vs 1.3 × {budget / MB:.0f} = "
                         f"{1.3 * budget / MB:.0f} MB", "PASS" if used <= 1.3 * budget else "FAIL"))
        if any(p.ok and p.all_disturbed for p in r.peers if p.peer in ("glassnet", "torch")):
            rows[start:] = [(t, f, v + " (disturbed)" if v != "n/a" and not ("loss" in t or "memory" in t) else v)
                            for t, f, v in rows[start:]]
    return rows


def layer_targets(result: WorkloadResult) -> list[tuple[str, str, str]]:
    """Issue 16's targets for CONV and LSTM: per epoch ≤ 1.0 × PyTorch and ≤ 0.5 × Keras, peak memory ≤ 1.5 × (data +
    params + optimizer state + one batch's activations)."""
    key, ours = result.workload.key, result.peer("glassnet")
    rows = []
    for name, factor in (("torch", 1.0), ("keras", 0.5)):
        peer, target = result.peer(name), f"{key}: glassnet ≤ {factor} × {name} median (per epoch)"
        if ours and peer:
            limit = factor * peer.median
            rows.append((target, f"{_fmt(ours.median)} s vs {factor} × {_fmt(peer.median)} = {_fmt(limit)} s "
                         f"(glassnet/{name} {ours.median / peer.median:.2f})", "PASS" if ours.median <= limit else
                         "FAIL"))
        else:
            rows.append((target, f"glassnet or {name} did not run", "n/a"))
    if ours:
        budget, used = memory_budget(result, ours.raw["data_bytes"]), ours.memory_over_imports
        rows.append((f"{key}: peak memory ≤ 1.5 × (data + params + optimizer state + one batch's activations)",
                     f"peak RSS over imports {used / MB:.0f} MB vs 1.5 × {budget / MB:.0f} = {1.5 * budget / MB:.0f} "
                     "MB", "PASS" if used <= 1.5 * budget else "FAIL"))
    return rows


def disturbance_note(results: list[WorkloadResult], max_share: float) -> str:
    ran = [p for r in results for p in r.peers if p.ok]
    total = sum(len(p.raw["rounds"]) for p in ran)
    disturbed = sum(r["disturbed"] for p in ran for r in p.raw["rounds"])
    roofline = [r.workload.key for r in results if r.roofline.get("disturbed")]
    roofline_note = (f" The matmul throughput of {', '.join(roofline)} was measured while other processes ran: its "
                     "lower bound is too high." if roofline else "")
    if not disturbed:
        return (f"Machine quiet: no round disturbed ({total} rounds; threshold {max_share:g} core of other "
                f"processes).{roofline_note}")
    discarded = sum(p.discarded for p in ran)
    unusable = [f"{r.workload.key}/{p.label}" for r in results for p in r.peers if p.ok and p.all_disturbed]
    note = (f"Machine BUSY: {disturbed} of {total} rounds disturbed (other processes used > {max_share:g} core), "
            f"{discarded} discarded.")
    if unusable:
        note += f" Every round was disturbed for {', '.join(unusable)}: those figures are unreliable."
    return note + roofline_note


def environment(threads: int) -> list[str]:
    """Versions, BLAS, CPU: what a reader needs to compare this run with another."""

    def installed(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    packages = ", ".join(f"{n} {installed(n)}" for n in ("glassnet", "numpy", "torch", "keras", "scikit-learn"))
    return [f"- python {platform.python_version()}, {packages}",
            f"- BLAS: {blas_info()}",
            f"- CPU: {cpu_model()}, {_cpu_count()} logical CPUs; benchmark threads: {threads}"]


def blas_info() -> str:
    import numpy as np

    try:
        import threadpoolctl

        pools = threadpoolctl.threadpool_info()
        return "; ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}, "
                         f"{p.get('threading_layer')}, {p.get('num_threads')} threads by default)" for p in pools)
    except ImportError:
        blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name')} {blas.get('version')} (from numpy.show_config)"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def render(results: list[WorkloadResult], mode: str, rounds: int, threads: int, max_share: float) -> str:
    """The whole report, Markdown, as printed and as appended to RESULTS.md."""
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"## {now}: {mode} run, {rounds} rounds per peer", "", *environment(threads), "",
             disturbance_note(results, max_share), ""]
    for r in results:
        lines += workload_table(r) + [""]
    rows = targets(results)
    if rows:
        lines += ["### Targets (issues 7 and 16)" + (": quick run, indicative only" if mode == "quick" else ""), "",
                  "| target | this run | result |", "| --- | --- | --- |"]
        lines += [f"| {t} | {f} | {v} |" for t, f, v in rows]
    return "\n".join(lines) + "\n"


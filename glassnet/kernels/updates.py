"""Fused updates (the optimizers' rules, and the sum of a sliced batch's gradients): each rule is written once, as
the math of one weight (``v = rho*v + (1-rho)*g*g``), and run on whole arrays in one of two ways.

- NumPy evaluates the rule on the arrays, one operation (one pass over memory, on one core) at a time. This is the
  readable reference, and what small variables use: there the compiled loop gains little, and a model made only of
  them never waits for Numba to compile.
- Numba, when installed, compiles the rule into one loop over the elements, which LLVM vectorizes. Each weight,
  gradient and state element is read and written once instead of once per operation: RMSprop's update of MNIST's
  784×512 kernel takes about 0.12 ms instead of 0.5 ms. The loop runs on one core on purpose: OpenBLAS's worker
  threads keep spinning for a while after each matmul, and a second thread pool fighting them made a training
  epoch four times slower (benchmarks/RESULTS.md).

Both run the same float operations in the same order, so they give bit-identical results (tests check it). Rules
take ``(w, g, *states, *constants)`` and return ``(w, *states)``; constants arrive in the weights' dtype and a rule
uses no number literals, since Numba would compute ``1 - rho`` in float64 where NumPy keeps float32.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from glassnet import backend
from glassnet.kernels import storage

#: Variables with at least this many elements use the compiled loop (when Numba is installed).
COMPILED_MIN_SIZE = 1 << 12

_loops: dict[tuple[Callable, int, int], Callable] = {}


def numpy_update(rule: Callable, arrays: list[np.ndarray], constants: Sequence) -> None:
    """Evaluate ``rule`` on whole arrays with NumPy and write its results back into ``arrays`` (w, then states)."""
    results = rule(*arrays, *constants)
    np.copyto(arrays[0], results[0])
    for target, value in zip(arrays[2:], results[1:]):
        np.copyto(target, value)


def compiled_update(rule: Callable, arrays: Sequence[np.ndarray], constants: Sequence) -> None:
    """Run ``rule`` as one compiled Numba loop over the elements of ``arrays``, in place."""
    if not all(a.flags.c_contiguous for a in arrays[:1] + arrays[2:]):
        raise ValueError("compiled_update writes weights and states in place: they must be C-contiguous")
    loop = _loops.get((rule, len(arrays), len(constants)))
    if loop is None:
        loop = _loops[rule, len(arrays), len(constants)] = _compile(rule, len(arrays) - 2, len(constants))
    loop(*(a.reshape(-1) for a in arrays), *constants)  # views, except a non-contiguous gradient (copied)


def _compile(rule: Callable, n_states: int, n_constants: int) -> Callable:
    """The loop ``for i in range(w.size): w[i], s0[i], … = rule(w[i], g[i], s0[i], …, c0, …)``, compiled with
    the rule inlined and NumPy's error model (no zero-division branch), so that LLVM vectorizes the update."""
    numba = backend.numba()
    states = [f"s{k}" for k in range(n_states)]
    constants = [f"c{k}" for k in range(n_constants)]
    outputs = ["w[i]"] + [f"{s}[i]" for s in states]
    arguments = outputs[:1] + ["g[i]"] + outputs[1:] + constants
    source = (f"def loop(w, g, {', '.join(states + constants)}):\n"
              f"    for i in range(w.size):\n"
              f"        {', '.join(outputs)}, = rule({', '.join(arguments)})\n")
    namespace = {"rule": numba.njit(inline="always")(rule)}
    exec(compile(source, f"<glassnet fused {rule.__name__}>", "exec"), namespace)  # noqa: S102 - our own template
    return numba.njit(error_model="numpy")(namespace["loop"])


def update(rule: Callable, weights: np.ndarray, gradient: np.ndarray, states: Sequence[np.ndarray],
           constants: Sequence[float]) -> None:
    """Apply ``rule`` in place to ``weights`` and ``states``: compiled for large float32/float64 arrays when Numba
    is available (it has no float16 arithmetic), NumPy otherwise (where Python floats act in the arrays' dtype)."""
    if weights.size >= COMPILED_MIN_SIZE and weights.dtype.char in "fd" and backend.numba() is not None:
        compiled_update(rule, [weights, gradient, *states], [weights.dtype.type(c) for c in constants])
    else:
        numpy_update(rule, [weights, gradient, *states], constants)


class GroupedUpdates:
    """Runs one rule over many weights: those that lie back to back in a shared block, with their states in twin
    blocks (``storage.Twins``), as one array, after copying their gradients side by side; the others one by one.
    The grouping is worked out once per list of weights and kept while the same weights come back (with the same
    states: a weight's states are its own for as long as it is updated here)."""

    def __init__(self):
        self._layout: tuple | None = None  # (a copy of the weights list, the list as passed, runs, alone)

    def apply(self, rule: Callable, weights: Sequence[np.ndarray], gradients: Sequence[np.ndarray],
              states: Sequence[Sequence[np.ndarray]], constants: Sequence[float]) -> None:
        """weights[i], states[i] ← rule(weights[i], gradients[i], *states[i], *constants), in place."""
        runs, alone = self._runs(weights, states)
        for indices, weights_view, gradient, gradient_views, state_views in runs:
            for i, target in zip(indices, gradient_views):
                np.copyto(target, gradients[i], casting="same_kind")
            update(rule, weights_view, gradient, state_views, constants)
        for i in alone:
            update(rule, weights[i], gradients[i], states[i], constants)

    def _runs(self, weights: Sequence[np.ndarray], states: Sequence[Sequence[np.ndarray]]) -> tuple[list, list]:
        cached = self._layout
        if cached is not None and (cached[1] is weights or len(cached[0]) == len(weights) and all(
                a is b for a, b in zip(cached[0], weights))):
            return cached[2], cached[3]
        n_states = len(states[0]) if states else 0
        per_state = [[s[k] for s in states] for k in range(n_states)]
        runs = []
        for indices, weights_view, *state_views in storage.contiguous_runs(weights, *per_state):
            gradient = np.empty_like(weights_view)
            views, start = [], 0
            for i in indices:
                views.append(gradient[start:start + weights[i].size].reshape(weights[i].shape))
                start += weights[i].size
            runs.append((indices, weights_view, gradient, views, state_views))
        grouped = {i for run in runs for i in run[0]}
        alone = [i for i in range(len(weights)) if i not in grouped]
        self._layout = (list(weights), weights, runs, alone)  # a caller passing the same list again skips the check
        return runs, alone

    def __getstate__(self) -> dict:
        """Copies (pickle, deepcopy) lay the runs out anew: their views belong to the original's arrays."""
        return {"_layout": None}


def accumulate(total, g, share):
    """total ← total + g·share: one slice's gradient added to its batch's (batch slicing, models/slicing.py), as
    one pass over a large gradient."""
    return (total + g * share,)

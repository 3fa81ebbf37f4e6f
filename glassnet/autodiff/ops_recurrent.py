"""An LSTM step as the textbook writes it, in three ops (autodiff/fusions.py): the gates, the new cell state and the
new output; a GRU step in two: the gates and the new state.

z = x·W + h·U + b holds the four gates' pre-activations side by side, blocks of ``units`` columns in Keras's order
i, f, c, o. The step is

    a = [i, f, c̃, o] = [σ(z_i), σ(z_f), tanh(z_c), σ(z_o)]     (LstmGates)
    c = f ⊙ c_prev + i ⊙ c̃                                      (LstmCellState)
    h = o ⊙ tanh(c)                                              (LstmCellOutput)

Written with a slice, an activation and a product per gate, a step is 16 ops forward and 16 backward, each a
microsecond of arithmetic on a batch × units array and several of NumPy's call overhead, and an LSTM runs one step
per timestep. As three ops the gates take one pass over z, the cell state one pass, and each backward one pass
(``kernels.lstm_gates``, ``lstm_cell_state``, ``lstm_gates_gradient``, ``lstm_state_gradients``,
``lstm_output_gradients``). LSTMCell uses them for its default activations (sigmoid and tanh) and writes each gate
as its own op for any others.

A GRU (reset_after=True, Keras's default) has blocks z, r, h in its input part xw = x·W + b and its recurrent part
hu = h·U + b', and its step is

    a = [z, r, h̃] = [σ(xw_z + hu_z), σ(xw_r + hu_r), tanh(xw_h + r ⊙ hu_h)]     (GruGates, of hu and xw)
    h = z ⊙ h_prev + (1 − z) ⊙ h̃                                              (GruState)

(20 ops gate by gate; GRUCell writes them so for other activations, and for reset_after=False, where r scales h
before its product with U_h).
"""

from __future__ import annotations

import re

import numpy as np

from glassnet import kernels
from glassnet.autodiff.function import Function

GATES = {"i": "i", "f": "f", "c": "c̃", "o": "o"}  # z's blocks, in Keras's order, and their gates' symbols
GRU_GATES = {"z": "z", "r": "r", "h": "h̃"}  # a GRU's blocks, in Keras's order, and their gates' symbols


class _GateSymbols(Function):
    """A recurrent step's op whose equations name the gates (an LSTM's i, f, c̃, o) and the blocks of its inputs
    (``z_i``): ``equation_terms`` writes them with the timestep of the input named ``labelled_by`` (``z⟨5⟩`` gives
    ``i⟨5⟩``, ``z_i⟨5⟩``, and a gate's gradient ``di⟨5⟩``), as the step's text and explain write them."""

    labelled_by = "a"
    gates = GATES  # block letter -> the gate's symbol
    blocked = ("z",)  # the inputs whose blocks the equations name

    def equation_terms(self, symbols: dict[str, str]) -> dict[str, str]:
        step = _timestep(symbols[self.labelled_by])
        terms = {}
        for name in self.blocked:
            base, given = re.fullmatch(r"(.*?)(⟨\w+⟩)?", symbols.get(name, name)).groups()
            for block in self.gates:
                terms[f"{name}_{block}"] = f"{base}_{block}{given or step}"
                terms[f"d{name}_{block}"] = f"d{base}_{block}{given or step}"
        for symbol in self.gates.values():
            terms[symbol], terms[f"d{symbol}"] = f"{symbol}{step}", f"d{symbol}{step}"
        return terms


def _timestep(display: str) -> str:
    """The ``⟨t⟩`` that ends a step's display name, or "" for none."""
    return re.fullmatch(r".*?(⟨\w+⟩)?", display).group(1) or ""


class LstmGates(_GateSymbols):
    """a = [σ(z_i), σ(z_f), tanh(z_c), σ(z_o)].  Backward: dz = da ⊙ [i(1 − i), f(1 − f), 1 − c̃², o(1 − o)].

    The four gates of one step, side by side as z's blocks (``kernels.lstm_gates``).
    """

    labelled_by = "z"
    fresh_gradients = True

    def forward(self, z):
        a = kernels.lstm_gates(z)
        self.save_for_backward(a)
        return a

    def backward(self, da):
        return kernels.lstm_gates_gradient(da, *self.saved)


class LstmCellState(_GateSymbols):
    """c = f ⊙ c_prev + i ⊙ c̃.  Backward: da = [dc ⊙ c̃, dc ⊙ c_prev, dc ⊙ i, 0], dc_prev = dc ⊙ f.

    The new cell state: the forget gate f keeps part of the previous state, the input gate i adds part of the
    candidate c̃ (a's blocks i, f, c̃). The o block's gradient comes from LstmCellOutput, whose da the walk hands to
    ``backward_into``: the three blocks are added into it in place (autodiff/fusions.py).
    """

    into = "da += [dc ⊙ c̃, dc ⊙ c_prev, dc ⊙ i, 0]; dc_prev = dc ⊙ f"  # backward_into's equations
    fresh_gradients = True

    def forward(self, a, c_prev):
        self.save_for_backward(a, c_prev)
        return kernels.lstm_cell_state(a, c_prev)

    def backward(self, dc):
        da = np.zeros_like(self.saved[0])
        return da, self.backward_into(da, dc)

    def backward_into(self, da, dc):
        """da += [dc ⊙ c̃, dc ⊙ c_prev, dc ⊙ i, 0] in place; returns dc_prev = dc ⊙ f."""
        return kernels.lstm_state_gradients(dc, *self.saved, da)


class LstmCellOutput(_GateSymbols):
    """h = o ⊙ tanh(c).  Backward: da = [0, 0, 0, dh ⊙ tanh(c)], dc = dh ⊙ o ⊙ (1 − tanh²(c)).

    The new output (and hidden state): the output gate o (a's last block) lets part of the squashed cell state
    through. It saves c and takes tanh(c) again in its backward rather than keep tanh(c) too: the next step saves c
    anyway (as its c_prev), and one NumPy tanh a step costs less than a batch × units array kept per step (3.3 MB
    over the benchmark LSTM's 200 steps).
    """

    fresh_gradients = True

    def forward(self, a, c):
        self.save_for_backward(a, c)
        return a[:, 3 * c.shape[-1]:] * np.tanh(c)

    def backward(self, dh):
        return kernels.lstm_output_gradients(dh, *self.saved)


class GruGates(_GateSymbols):
    """a = [σ(xw_z + hu_z), σ(xw_r + hu_r), tanh(xw_h + r ⊙ hu_h)].  Backward:
    dhu = [dz ⊙ z(1 − z), (dr + dh̃ ⊙ (1 − h̃²) ⊙ hu_h) ⊙ r(1 − r), dh̃ ⊙ (1 − h̃²) ⊙ r],
    dxw = [dhu_z, dhu_r, dh̃ ⊙ (1 − h̃²)].

    A GRU step's three gates side by side (``kernels.gru_gates``): the update gate z, the reset gate r, and the
    candidate h̃, whose recurrent term the reset gate scales (Keras's reset_after=True). The recurrent part comes
    first: its gradient is written first (it is computed after xw, so the walk reaches it first).
    """

    gates, blocked, labelled_by = GRU_GATES, ("hu", "xw"), "xw"
    fresh_gradients = True

    def forward(self, hu, xw):
        a = kernels.gru_gates(xw, hu)
        self.save_for_backward(a, hu)
        return a

    def backward(self, da):
        dxw, dhu = kernels.gru_gates_gradients(da, *self.saved)
        return dhu, dxw


class GruState(_GateSymbols):
    """h = z ⊙ h_prev + (1 − z) ⊙ h̃.  Backward: da = [dh ⊙ (h_prev − h̃), 0, dh ⊙ (1 − z)], dh_prev = dh ⊙ z.

    A GRU's new state: the update gate z keeps part of the previous state and lets the candidate h̃ fill the rest
    (a's blocks z and h̃; the reset gate's gradient comes through the candidate, in GruGates).
    """

    gates, blocked = GRU_GATES, ()
    fresh_gradients = True

    def forward(self, a, h_prev):
        self.save_for_backward(a, h_prev)
        return kernels.gru_state(a, h_prev)

    def backward(self, dh):
        return kernels.gru_state_gradients(dh, *self.saved)

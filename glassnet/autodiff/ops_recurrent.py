"""An LSTM step as the textbook writes it, in three ops (autodiff/fusions.py): the gates, the new cell state and the
new output.

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
"""

from __future__ import annotations

import re

import numpy as np

from glassnet import kernels
from glassnet.autodiff.function import Function

GATES = {"i": "i", "f": "f", "c": "c̃", "o": "o"}  # z's blocks, in Keras's order, and their gates' symbols


class _GateSymbols(Function):
    """An LSTM step's op whose equations name the gates (i, f, c̃, o, z_i, …): ``equation_terms`` writes them with
    the timestep of the input named ``labelled_by`` (``z⟨5⟩`` gives ``i⟨5⟩``, ``z_i⟨5⟩``), as the step's text and
    explain write them."""

    labelled_by = "a"

    def equation_terms(self, symbols: dict[str, str]) -> dict[str, str]:
        step = re.fullmatch(r".*?(⟨\w+⟩)?", symbols[self.labelled_by]).group(1) or ""
        terms = {f"z_{block}": f"z_{block}{step}" for block in GATES}
        terms.update({symbol: f"{symbol}{step}" for symbol in GATES.values()})
        return terms


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
    through.
    """

    fresh_gradients = True

    def forward(self, a, c):
        tanh_c = np.tanh(c)
        self.save_for_backward(a, tanh_c)
        return a[:, 3 * c.shape[-1]:] * tanh_c

    def backward(self, dh):
        return kernels.lstm_output_gradients(dh, *self.saved)

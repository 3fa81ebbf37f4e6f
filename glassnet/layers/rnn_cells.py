"""The cells of the recurrent layers: one timestep each, written as the textbook equations.

A cell holds the weights (Keras's layout: ``kernel`` W of shape (features, gates·units), ``recurrent_kernel`` U of
shape (units, gates·units), ``bias`` b; the gates side by side in W's columns) and maps one step's input part
xW⟨t⟩ = x⟨t⟩·W + b and the previous states to the new states. The input part does not depend on the previous
step, so the layer computes it for every timestep at once (``input_part`` on all the timesteps' rows). Each
equation is a few engine ops (matmul, sigmoid, tanh, slicing, ⊙, +; an LSTM's two state equations are one op each),
so backpropagation through time is the ordinary backward walk over the unrolled steps.
"""

from __future__ import annotations

import numbers

import numpy as np

from glassnet import activations, constraints, initializers, ops, regularizers
from glassnet.autodiff import ops_recurrent
from glassnet.autodiff.tensor import Tensor
from glassnet.layers.base import Layer


def _gate(z: Tensor, k: int, units: int) -> Tensor:
    """The k-th block of ``units`` columns of z: one gate's pre-activation."""
    return z[:, k * units:(k + 1) * units]


def _block(value: Tensor, k: int, units: int, symbol: str, step: int | None) -> Tensor:
    """The k-th block of ``units`` columns of a step's value, labelled (``xW_z⟨3⟩``: the z gate's input part)."""
    return named(_gate(value, k, units), symbol, step)


def _gate_input(z: Tensor, k: int, units: int, gate: str, step: int | None) -> Tensor:
    """The k-th gate's pre-activation, labelled after its gate (``z_f⟨3⟩``: what σ turns into f⟨3⟩)."""
    return named(_gate(z, k, units), f"z_{gate}", step)


def named_weight(value: Tensor, symbol: str) -> Tensor:
    """Label a slice of a weight that every step reads (``b_U``), the name a written-out step gives it."""
    value.name = symbol
    return value


def named(value: Tensor, symbol: str, step: int | None) -> Tensor:
    """Label a step's value with its symbol and timestep (``i⟨3⟩``), the name a written-out step gives it."""
    if step is not None:
        value.name = f"{symbol}⟨{step}⟩"
    return value


class RecurrentCell(Layer):
    """What the three cells share: the constructor arguments, and W, U, b with ``gates`` blocks of ``units``
    columns. Subclasses set ``gates`` and write ``call(xw, states, recurrent_mask=None, step=None) -> (output,
    new_states)`` from the step's input part xw (``input_part``); ``recurrent_mask`` (the layer's recurrent
    dropout, one draw per sequence) multiplies h before it enters U. ``sequence_terms()`` are weights' slices every
    step reads (a GRU's b_U, or its U's two parts): the layer takes them once per sequence and passes them to each
    step as keyword arguments, so each is one op and its gradient one sum, not one per step."""

    gates = 1
    state_symbols = ("h",)  # the states' names in the equations, in the order of state_size

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError(f"Received an invalid value for argument `units`, expected a positive integer, got "
                             f"{units!r}.")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.recurrent_kernel = self.bias = None

    @property
    def state_size(self) -> list[int]:
        """The width of each state (h, and c for an LSTM)."""
        return [self.units]

    def bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def initial_bias(self, shape, dtype=None) -> np.ndarray:
        """The bias's starting value (the bias initializer's; an LSTM sets its forget gate to ones)."""
        return self.bias_initializer(shape, dtype=dtype)

    def build(self, input_shape) -> None:
        width = self.gates * self.units
        self.kernel = self.add_weight((input_shape[-1], width), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((self.units, width), self.recurrent_initializer,
                                                name="recurrent_kernel", regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight(self.bias_shape(), self.initial_bias, name="bias",
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def input_bias(self) -> Tensor | None:
        """The bias added to x·W (None without one)."""
        return self.bias

    def input_part(self, x: Tensor, bias: Tensor | None) -> Tensor:
        """x·W + b (x·W without a bias): every gate's input term at once, for each row of x; ``bias`` is
        ``input_bias()``, taken once for all the blocks of a sequence."""
        return ops.matmul(x, self.kernel) if bias is None else ops.affine(x, self.kernel, bias)

    def sequence_terms(self) -> dict[str, Tensor]:
        """The slices of the weights every step reads, by the name ``call`` takes them under (none here)."""
        return {}

    def step_sum(self, xw: Tensor, h: Tensor, recurrent_mask: Tensor | None, step: int | None) -> Tensor:
        """z⟨t⟩ = xW⟨t⟩ + h⟨t−1⟩·U: every gate's input part and recurrent term, summed as the product is written
        (one op, ``ops.add_matmul``)."""
        return named(ops.add_matmul(xw, self.dropped(h, recurrent_mask), self.recurrent_kernel), "z", step)

    @staticmethod
    def dropped(h: Tensor, recurrent_mask: Tensor | None) -> Tensor:
        """h as it enters U: multiplied by the recurrent dropout mask when training with one."""
        return h if recurrent_mask is None else h * recurrent_mask


class SimpleRNNCell(RecurrentCell):
    """The fully connected recurrence: h' = act(x·W + h·U + b)  (act: tanh by default)."""

    def call(self, xw, states, recurrent_mask=None, step=None):
        (h,) = states
        h_new = self.activation(self.step_sum(xw, h, recurrent_mask, step))
        return h_new, [h_new]


class LSTMCell(RecurrentCell):
    """Long short-term memory, gates i, f, c, o in W's, U's and b's columns (Keras's order):

        i  = σ(x·W_i + h·U_i + b_i)        input gate
        f  = σ(x·W_f + h·U_f + b_f)        forget gate
        c̃  = tanh(x·W_c + h·U_c + b_c)     candidate cell
        o  = σ(x·W_o + h·U_o + b_o)        output gate
        c' = f ⊙ c + i ⊙ c̃,   h' = o ⊙ tanh(c')

    σ is ``recurrent_activation`` (sigmoid) and tanh is ``activation``. ``unit_forget_bias`` starts b_f at 1.
    With those two (the defaults), c' and h' are one op each (autodiff/ops_recurrent.py); with any others, each
    gate is its own op.
    """

    gates = 4
    state_symbols = ("h", "c")

    def __init__(self, units: int, recurrent_activation="sigmoid", unit_forget_bias: bool = True, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    def initial_bias(self, shape, dtype=None) -> np.ndarray:
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype)
        u = self.units
        return np.concatenate([np.asarray(self.bias_initializer((u,), dtype=dtype)), np.ones(u, dtype=dtype),
                               np.asarray(self.bias_initializer((2 * u,), dtype=dtype))])

    def call(self, xw, states, recurrent_mask=None, step=None):
        h, c = states
        u, sigma, act = self.units, self.recurrent_activation, self.activation
        z = self.step_sum(xw, h, recurrent_mask, step)
        if sigma is activations.sigmoid and act is activations.tanh:  # [i, f, c̃, o], c' and h' as three ops
            a = named(ops_recurrent.LstmGates.apply(z), "a", step)
            c_new = named(ops_recurrent.LstmCellState.apply(a, c), "c", step)
            h_new = ops_recurrent.LstmCellOutput.apply(a, c_new)
            return h_new, [h_new, c_new]
        i = named(sigma(_gate_input(z, 0, u, "i", step)), "i", step)
        f = named(sigma(_gate_input(z, 1, u, "f", step)), "f", step)
        c_tilde = named(act(_gate_input(z, 2, u, "c", step)), "c̃", step)
        o = named(sigma(_gate_input(z, 3, u, "o", step)), "o", step)
        c_new = f * c + i * c_tilde
        h_new = o * act(c_new)
        return h_new, [h_new, c_new]


class GRUCell(RecurrentCell):
    """Gated recurrent unit, gates z, r, h in W's, U's and b's columns (Keras's order):

        z  = σ(x·W_z + b_z + h·U_z + b'_z)                 update gate
        r  = σ(x·W_r + b_r + h·U_r + b'_r)                 reset gate
        h̃  = tanh(x·W_h + b_h + r ⊙ (h·U_h + b'_h))        reset_after=True (default; PyTorch's GRU)
        h̃  = tanh(x·W_h + (r ⊙ h)·U_h + b_h)               reset_after=False
        h' = z ⊙ h + (1 − z) ⊙ h̃

    With reset_after=True the bias has two rows, b (input, b_W in a written-out step) and b' (recurrent, b_U):
    shape (2, 3·units). With that and the two default activations, the gates and h' are one op each
    (autodiff/ops_recurrent.py); otherwise each gate is its own ops.
    """

    gates = 3

    def __init__(self, units: int, recurrent_activation="sigmoid", reset_after: bool = True, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self) -> Tensor | None:
        """b_W, the bias's first row with reset_after (the second, b_U, is added to h·U)."""
        if not self.reset_after or self.bias is None:
            return self.bias
        return named_weight(self.bias[0], "b_W")

    def sequence_terms(self) -> dict[str, Tensor]:
        """With reset_after, b_U (the bias's second row, added to h·U); without, U's two parts: U_zr (the z and r
        gates' columns) and U_h (the candidate's, which meets r ⊙ h)."""
        if not self.reset_after:
            u = self.units
            return {"recurrent_kernels": (named_weight(self.recurrent_kernel[:, :2 * u], "U_zr"),
                                          named_weight(self.recurrent_kernel[:, 2 * u:], "U_h"))}
        return {} if self.bias is None else {"recurrent_bias": named_weight(self.bias[1], "b_U")}

    def call(self, xw, states, recurrent_mask=None, step=None, recurrent_bias=None, recurrent_kernels=None):
        (h,) = states
        u, sigma, act = self.units, self.recurrent_activation, self.activation
        h_in = self.dropped(h, recurrent_mask)
        if self.reset_after:  # h·U + b_U for all three gates; r then scales the candidate's recurrent term
            hu = named(ops.matmul(h_in, self.recurrent_kernel) if recurrent_bias is None else ops.affine(
                h_in, self.recurrent_kernel, recurrent_bias), "hU", step)
            if sigma is activations.sigmoid and act is activations.tanh:  # a = [z, r, h̃] and h' as two ops
                a = named(ops_recurrent.GruGates.apply(hu, xw), "a", step)
                h_new = ops_recurrent.GruState.apply(a, h)
                return h_new, [h_new]
        else:  # r scales h before it meets the candidate's U_h; h·U_zr feeds the gates z and r
            u_zr, u_h = recurrent_kernels
            hu = named(ops.matmul(h_in, u_zr), "hU", step)
        z = named(sigma(_block(xw, 0, u, "xW_z", step) + _block(hu, 0, u, "hU_z", step)), "z", step)
        r = named(sigma(_block(xw, 1, u, "xW_r", step) + _block(hu, 1, u, "hU_r", step)), "r", step)
        if self.reset_after:
            h_tilde = act(_block(xw, 2, u, "xW_h", step) + r * _block(hu, 2, u, "hU_h", step))
        else:
            h_tilde = act(_block(xw, 2, u, "xW_h", step) + ops.matmul(r * h_in, u_h))
        h_tilde = named(h_tilde, "h̃", step)
        h_new = z * h + (1 - z) * h_tilde
        return h_new, [h_new]

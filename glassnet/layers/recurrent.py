"""The recurrent layers SimpleRNN, LSTM and GRU: a cell (layers/rnn_cells.py) unrolled over the timesteps.

Inputs are (batch, timesteps, features). The layer runs the cell once per timestep, each step a few engine ops, so
the recorded graph is the unrolled network and backpropagation through time is the ordinary backward walk.
A mask (batch, timesteps) skips steps as Keras 3 does: a masked step keeps the previous states and repeats the
previous output (zeros before the first kept step, or zeros throughout with ``zero_output_for_mask``).
Dropout is drawn once per sequence: one mask on the inputs (shared by every timestep) and one on h as it enters
the recurrent kernel, both only when training. ``unroll`` is accepted and changes nothing (glassnet always unrolls);
``stateful=True`` is refused.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from glassnet import activations, backend, constraints, initializers, ops, regularizers
from glassnet.autodiff.tensor import Tensor, as_tensor
from glassnet.layers.base import InputSpec, Layer
from glassnet.layers.conv import serialize_optional
from glassnet.layers.rnn_cells import GRUCell, LSTMCell, RecurrentCell, SimpleRNNCell, named
from glassnet.layers.symbolic import KerasTensor

LAYOUT = "(batch, timesteps, features)"


class SequenceInputSpec(InputSpec):
    """What a recurrent layer accepts: inputs of rank 3 (batch, timesteps, features) and, once built, a fixed
    number of features. A wrong rank is refused with the layout and how to reshape."""

    def __init__(self, features: int | None = None):
        super().__init__(ndim=3, axes={-1: features} if features is not None else None)

    def check(self, layer: Layer, shape) -> None:
        shape = tuple(shape)
        if len(shape) != 3:
            if len(shape) == 2:
                target = tuple(-1 if d is None else d for d in (*shape, 1))
                hint = (f"; if each timestep has one feature, add a features axis: x.reshape({target}) "
                        "(or x[..., None])")
            else:
                hint = f"; reshape the inputs to {LAYOUT}"
            raise ValueError(f"{type(layer).__name__} '{layer.name}' expects inputs of rank 3 {LAYOUT}, received "
                             f"shape {shape}{hint}")
        super().check(layer, shape)


def prefix_weight_names(layer: Layer, prefix: str) -> None:
    """Name a held layer's weights by their path through the holder (``lstm/lstm_cell/kernel``), as Keras 3 does."""
    for variable in layer.weights:
        variable.name = f"{prefix}/{variable.name}"


#: Rows of one block of the input projection (timesteps × batch rows in all): a block's product still runs at the
#: matmul's full speed, and a long sequence does not hold every step's input part at once.
BLOCK_ROWS = 4096


def input_parts(cell: RecurrentCell, x: Tensor) -> Callable[[int], Tensor]:
    """xW⟨t⟩ = x⟨t⟩·W + b for each timestep t of x (batch, timesteps, features), as few products as can be: no step's
    input part depends on another step, so X·W + b runs on many timesteps' rows at once, laid out time-major (x_all:
    timestep 1's batch, then timestep 2's, …), and xW⟨t⟩ is its t-th block of rows. One (timesteps·batch)-row
    product instead of one small product per timestep, forward and backward; for a long sequence, one per block of
    BLOCK_ROWS rows (``xW⟨1:32⟩ = x⟨1:32⟩·W + b``, made when the loop reaches its first step), so that the forward
    pass holds one block's input parts, not all (200 words × 128 reviews × an LSTM(32)'s 128 gate columns: 13 MB,
    then again for their gradients), and the backward pass one block's gradients. Returns ``step_input(t)``, which
    cuts step t's block of rows when the loop reaches it: the slice then runs beside its step's ops, and in the
    backward walk its gradient is added into dxW right after the step's backward (in place, autodiff/fusions.py),
    not kept until every step is done."""
    batch, timesteps, features = x.shape
    rows = ops.reshape(ops.transpose(x, (1, 0, 2)), (timesteps * batch, features))
    rows.name = "x_all"
    bias, per_block = cell.input_bias(), max(1, BLOCK_ROWS // batch)
    if per_block >= timesteps:
        xw = cell.input_part(rows, bias)
        xw.name = "xW_all"
        return lambda t: named(xw[t * batch:(t + 1) * batch], "xW", t + 1)
    current: dict[int, Tensor] = {}  # the first timestep of the block in use -> its input parts

    def step_input(t: int) -> Tensor:
        first = t - t % per_block
        if first not in current:  # the block's product, when the loop (forwards or backwards) enters it
            last = min(first + per_block, timesteps)
            block = rows[first * batch:last * batch]
            block.name = f"x⟨{first + 1}:{last}⟩"
            current.clear()
            current[first] = cell.input_part(block, bias)
            current[first].name = f"xW⟨{first + 1}:{last}⟩"
        return named(current[first][(t - first) * batch:(t - first + 1) * batch], "xW", t + 1)

    return step_input


def output_specs(shape, dtype: str):
    """The KerasTensor of an output shape, or a tuple (list) of them for a layer with several outputs (the states
    after the output), as a symbolic call returns them."""
    if isinstance(shape, (tuple, list)) and shape and isinstance(shape[0], (tuple, list)):
        return type(shape)(output_specs(s, dtype) for s in shape)
    return KerasTensor(tuple(shape), dtype)


def _rate(value, name: str) -> float:
    """A dropout rate clipped to [0, 1] as Keras clips it (a rate of 1 then drops nothing: Keras's rule)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Argument `{name}` must be a float between 0 and 1. Received: {name}={value!r}")
    return min(1.0, max(0.0, float(value)))


class RNN(Layer):
    """The loop shared by SimpleRNN, LSTM and GRU: ``cell`` applied to each timestep in turn.

    Returns the last output (batch, units), or every output (batch, timesteps, units) with ``return_sequences``
    (in the order processed: reversed with ``go_backwards``, as in Keras); ``return_state`` adds the final states.
    """

    supports_masking = True

    def __init__(self, cell: RecurrentCell, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if stateful:
            raise NotImplementedError(
                f"{type(self).__name__} '{self.name}': stateful=True is not supported by glassnet (every batch "
                "starts from zero states). Pass stateful=False; to carry states between calls, use "
                "return_state=True and pass them back with initial_state=.")
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = False
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.dropout = _rate(dropout, "dropout")
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout")
        self.seed = seed
        self._rng = backend.make_rng(seed)  # the input mask's draws; the recurrent mask's come from their own
        self._recurrent_rng = np.random.default_rng(self._rng.integers(2**63))  # generator, so a replay draws alike
        self.input_spec = SequenceInputSpec()

    @property
    def units(self) -> int:
        return self.cell.units

    def build(self, input_shape) -> None:
        self.input_spec.check(self, input_shape)
        self.cell.build((input_shape[0], input_shape[-1]))
        prefix_weight_names(self.cell, self.name)
        self.input_spec = SequenceInputSpec(input_shape[-1])

    def call(self, inputs, training: bool = False, mask=None, initial_state=None):
        x = inputs
        batch, timesteps = x.shape[0], x.shape[1]
        if timesteps == 0:
            raise ValueError(f"{type(self).__name__} '{self.name}' needs at least one timestep in its inputs {LAYOUT}, "
                             f"received shape {x.shape}")
        states = self._initial_states(batch, initial_state)
        keep = self._step_masks(mask, batch, timesteps)
        if training and 0 < self.dropout < 1:  # one mask per sequence: shared by every timestep
            x = ops.dropout(x, self.dropout, self._rng, noise_shape=(None, 1, None))
        recurrent_mask = None
        if training and 0 < self.recurrent_dropout < 1:
            recurrent_mask = ops.dropout(ops.ones((batch, self.units), self.dtype), self.recurrent_dropout,
                                         self._recurrent_rng)
        previous = ops.zeros((batch, self.units), self.dtype) if keep is not None else None
        outputs = []
        step_input, shared = input_parts(self.cell, x), self.cell.sequence_terms()
        for t in (range(timesteps - 1, -1, -1) if self.go_backwards else range(timesteps)):
            output, new_states = self.cell.call(step_input(t), states, recurrent_mask=recurrent_mask, step=t + 1,
                                                **shared)
            if keep is not None:  # a masked step carries the states and the output forward
                output = ops.where(keep[t], output, previous)
                new_states = [ops.where(keep[t], new, old) for new, old in zip(new_states, states)]
                previous = output
                if self.zero_output_for_mask:
                    output = ops.where(keep[t], output, ops.zeros_like(output))
            states = [named(state, symbol, t + 1) for state, symbol in zip(new_states, self.cell.state_symbols)]
            if self.return_sequences or not outputs:
                outputs.append(output)
            else:
                outputs[0] = output
        result = ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return (result, *states) if self.return_state else result

    def _initial_states(self, batch: int, initial_state) -> list[Tensor]:
        """Zeros (h⟨0⟩, c⟨0⟩), or the given initial states after checking there is one (batch, size) tensor per
        state."""
        sizes = self.cell.state_size
        if initial_state is None:
            return [named(ops.zeros((batch, size), self.dtype), symbol, 0)
                    for size, symbol in zip(sizes, self.cell.state_symbols)]
        given = [as_tensor(s) for s in (initial_state if isinstance(initial_state, (list, tuple)) else
                                        [initial_state])]
        expected = [(batch, size) for size in sizes]
        if [s.shape for s in given] != expected:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects initial_state as {len(sizes)} tensor(s) "
                             f"of shapes {expected}, received shapes {[s.shape for s in given]}")
        return given

    def _step_masks(self, mask, batch: int, timesteps: int) -> list[Tensor] | None:
        """The mask cut into one (batch, 1) boolean column per timestep, or None without a mask."""
        if mask is None:
            return None
        mask = as_tensor(mask)
        if mask.shape != (batch, timesteps):
            raise ValueError(f"{type(self).__name__} '{self.name}' expects a mask of shape (batch, timesteps) = "
                             f"{(batch, timesteps)}, received a mask of shape {mask.shape}")
        if mask.dtype != bool:
            mask = ops.cast(mask, "bool")
        return [mask[:, t:t + 1] for t in range(timesteps)]

    def compute_mask(self, inputs, previous_mask=None):
        """The input's mask when every timestep is returned; None for the last output and for the states."""
        output_mask = previous_mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self.cell.state_size)
        return output_mask

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self.input_spec.check(self, input_shape)
        batch = input_shape[0]
        output = (batch, input_shape[1], self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return (output, *[(batch, size) for size in self.cell.state_size])
        return output

    def compute_output_spec(self, inputs, *args, **kwargs):
        """The output's KerasTensor (then the states' with return_state), whatever the mask or initial state."""
        return output_specs(self.compute_output_shape(inputs.shape), self.dtype)

    def get_config(self) -> dict:
        cell = self.cell
        config = {
            **super().get_config(),
            "return_sequences": self.return_sequences, "return_state": self.return_state,
            "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "units": cell.units, "activation": activations.serialize(cell.activation),
        }
        if hasattr(cell, "recurrent_activation"):
            config["recurrent_activation"] = activations.serialize(cell.recurrent_activation)
        config.update({
            "use_bias": cell.use_bias,
            "kernel_initializer": serialize_optional(initializers, cell.kernel_initializer),
            "recurrent_initializer": serialize_optional(initializers, cell.recurrent_initializer),
            "bias_initializer": serialize_optional(initializers, cell.bias_initializer),
            "kernel_regularizer": serialize_optional(regularizers, cell.kernel_regularizer),
            "recurrent_regularizer": serialize_optional(regularizers, cell.recurrent_regularizer),
            "bias_regularizer": serialize_optional(regularizers, cell.bias_regularizer),
            "activity_regularizer": serialize_optional(regularizers, self.activity_regularizer),
            "kernel_constraint": serialize_optional(constraints, cell.kernel_constraint),
            "recurrent_constraint": serialize_optional(constraints, cell.recurrent_constraint),
            "bias_constraint": serialize_optional(constraints, cell.bias_constraint),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
        })
        return config


class SimpleRNN(RNN):
    """``SimpleRNN(units, activation='tanh', use_bias=True, ..., dropout=0.0, recurrent_dropout=0.0,
    return_sequences=False, return_state=False, go_backwards=False)``: h_t = tanh(x_t·W + h_{t−1}·U + b).

    Weights (Keras's): kernel (features, units), recurrent_kernel (units, units), bias (units,).
    """

    def __init__(self, units: int, activation="tanh", use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False, seed=None, **kwargs):
        cell = SimpleRNNCell(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                             recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                             kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                             bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                             recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                             name="simple_rnn_cell", dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, seed=seed, activity_regularizer=activity_regularizer,
                         **kwargs)


class LSTM(RNN):
    """``LSTM(units, activation='tanh', recurrent_activation='sigmoid', use_bias=True, unit_forget_bias=True, ...,
    dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False)``.

    Each step is LSTMCell's equations (i, f, c̃, o gates; c' = f ⊙ c + i ⊙ c̃, h' = o ⊙ tanh(c')); the states are
    [h, c]. Weights (Keras's): kernel (features, 4·units), recurrent_kernel (units, 4·units), bias (4·units,), the
    gates' columns in the order i, f, c, o.
    """

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed=None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, use_cudnn="auto", **kwargs):
        cell = LSTMCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                        kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                        bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                        kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                        bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                        recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, name="lstm_cell",
                        dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, seed=seed, activity_regularizer=activity_regularizer,
                         **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["unit_forget_bias"] = self.cell.unit_forget_bias
        config["seed"] = self.seed
        return config


class GRU(RNN):
    """``GRU(units, activation='tanh', recurrent_activation='sigmoid', use_bias=True, ..., dropout=0.0,
    recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False, reset_after=True)``.

    Each step is GRUCell's equations (z, r gates; h' = z ⊙ h + (1 − z) ⊙ h̃). Weights (Keras's): kernel
    (features, 3·units), recurrent_kernel (units, 3·units), bias (2, 3·units) with reset_after (input and recurrent
    rows; this GRU is PyTorch's nn.GRU) or (3·units,) without; the gates' columns in the order z, r, h.
    """

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout: float = 0.0, recurrent_dropout: float = 0.0, seed=None,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, reset_after: bool = True, use_cudnn="auto",
                 **kwargs):
        cell = GRUCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                       kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                       bias_initializer=bias_initializer, reset_after=reset_after,
                       kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                       bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                       recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, name="gru_cell",
                       dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, seed=seed, activity_regularizer=activity_regularizer,
                         **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["reset_after"] = self.cell.reset_after
        config["seed"] = self.seed
        return config

"""Layers that wrap another layer: Bidirectional (a recurrent layer run forwards and backwards, merged) and
TimeDistributed (one layer applied to every timestep, its weights shared)."""

from __future__ import annotations

from glassnet import ops
from glassnet.autodiff.tensor import as_tensor
from glassnet.layers.base import Layer
from glassnet.layers.recurrent import RNN, output_specs, prefix_weight_names

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _copy(layer: Layer, **changes) -> Layer:
    """A new, unbuilt layer of the same class and config, with ``changes`` applied (Keras copies through config)."""
    return type(layer).from_config({**layer.get_config(), **changes})


def _serialize(layer: Layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _deserialize(config: dict, custom_objects: dict | None) -> Layer:
    """A held layer from its config, through the layer registry (imported here: the registry imports this module)."""
    from glassnet import layers

    return config if isinstance(config, Layer) else layers.deserialize(config, custom_objects)


class Bidirectional(Layer):
    """``Bidirectional(layer, merge_mode='concat', weights=None, backward_layer=None)``.

    Runs a copy of ``layer`` over the sequence (``forward_<name>``) and another with go_backwards=True
    (``backward_<name>``, or ``backward_layer`` when given), flips the backward outputs back into time order when
    they are sequences, and merges the two: concat (features side by side), sum, mul, ave, or None (both, as a
    list). Weights: the forward layer's, then the backward layer's. With return_state the final states of both
    follow the output.
    """

    supports_masking = True

    def __init__(self, layer: Layer, merge_mode="concat", weights=None, backward_layer: Layer | None = None,
                 **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: "
                             f"{backward_layer!r}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode!r}. Merge mode should be one of "
                             '{"sum", "mul", "ave", "concat", None}')
        if not isinstance(layer, RNN):
            raise NotImplementedError(f"Bidirectional wraps glassnet's recurrent layers (SimpleRNN, LSTM, GRU), "
                                      f"received {type(layer).__name__}")
        super().__init__(**kwargs)
        self.forward_layer = _copy(layer, name=f"forward_{layer.name.removeprefix('forward_')}")
        self.backward_layer = backward_layer if backward_layer is not None else _copy(
            layer, name=f"backward_{layer.name.removeprefix('backward_')}", go_backwards=True)
        self._check_pair()
        for inner in (self.forward_layer, self.backward_layer):  # Keras zeroes masked outputs of sequences
            inner.zero_output_for_mask = inner.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = False
        self._initial_weights = list(weights) if weights else None

    def _check_pair(self) -> None:
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(f"Forward layer and backward layer should have different `go_backwards` value. "
                             f"Received: forward_layer.go_backwards {forward.go_backwards}, "
                             f"backward_layer.go_backwards={backward.go_backwards}")
        for attribute in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, attribute) != getattr(backward, attribute):
                raise ValueError(f"Forward layer and backward layer are expected to have the same value for "
                                 f'attribute "{attribute}", got "{getattr(forward, attribute)}" for forward layer '
                                 f'and "{getattr(backward, attribute)}" for backward layer')

    def build(self, input_shape) -> None:
        for inner in (self.forward_layer, self.backward_layer):
            if not inner.built:
                inner.build(input_shape)
            prefix_weight_names(inner, self.name)
        if self._initial_weights is not None:
            half = len(self._initial_weights) // 2
            self.forward_layer.set_weights(self._initial_weights[:half])
            self.backward_layer.set_weights(self._initial_weights[half:])
            self._initial_weights = None

    def call(self, inputs, training: bool = False, mask=None, initial_state=None):
        """``initial_state``: the forward layer's states, then the backward layer's (as return_state gives them)."""
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        y = self.forward_layer(inputs, training=training, mask=mask, initial_state=forward_state)
        y_rev = self.backward_layer(inputs, training=training, mask=mask, initial_state=backward_state)
        states = ()
        if self.return_state:
            states = (*y[1:], *y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:  # the backward layer's outputs come last step first: put them in time order
            y_rev = y_rev[:, ::-1]
        output = self._merge(y, y_rev)
        if self.return_state:
            return (*output, *states) if self.merge_mode is None else (output, *states)
        return output

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return ops.concatenate([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) / 2
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = ()
        if self.return_state:
            shape, states = shape[0], tuple(shape[1:])
        if self.merge_mode == "concat":
            shape = (*shape[:-1], shape[-1] * 2)
        elif self.merge_mode is None:
            shape = [shape, shape]
        if self.return_state:
            return (*shape, *states, *states) if self.merge_mode is None else (shape, *states, *states)
        return shape

    def compute_output_spec(self, inputs, *args, **kwargs):
        return output_specs(self.compute_output_shape(inputs.shape), self.dtype)

    def compute_mask(self, inputs, previous_mask=None):
        mask = previous_mask if self.return_sequences else None
        output_mask = (mask, mask) if self.merge_mode is None else mask
        if self.return_state:
            states = [None] * (2 * len(self.forward_layer.cell.state_size))
            return [*output_mask, *states] if self.merge_mode is None else [output_mask, *states]
        return output_mask

    def get_config(self) -> dict:
        return {**super().get_config(), "merge_mode": self.merge_mode, "layer": _serialize(self.forward_layer),
                "backward_layer": _serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Bidirectional:
        config = dict(config)
        config["layer"] = _deserialize(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _deserialize(config["backward_layer"], custom_objects)
        return cls(**config)


class TimeDistributed(Layer):
    """``TimeDistributed(layer)``: ``layer`` applied to every timestep of (batch, timesteps, ...) inputs, with one
    set of weights for all timesteps.

    The timesteps are folded into the batch, y = layer(x reshaped to (batch·timesteps, ...)), and unfolded again:
    the same numbers as applying the layer step by step, in one call. A mask (batch, timesteps) is passed on, one
    entry per folded row, to a layer that takes one; the output keeps it.
    """

    supports_masking = True

    def __init__(self, layer: Layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def _child_shape(self, input_shape) -> tuple:
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(f"TimeDistributed '{self.name}' expects inputs of rank 3 or more (batch, timesteps, ...), "
                             f"received shape {tuple(input_shape) if input_shape is not None else None}")
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape) -> None:
        if not self.layer.built:
            self.layer.build(self._child_shape(input_shape))
        prefix_weight_names(self.layer, self.name)

    def call(self, inputs, training: bool = False, mask=None):
        self._child_shape(inputs.shape)
        batch, timesteps = inputs.shape[:2]
        folded = ops.reshape(inputs, (batch * timesteps, *inputs.shape[2:]))
        kwargs = {}
        if mask is not None and getattr(self.layer, "_call_takes_mask", False):
            mask = as_tensor(mask)
            if mask.shape[:2] != (batch, timesteps):
                raise ValueError(f"The `mask` passed to the `TimeDistributed` layer has a shape {mask.shape} that is "
                                 f"incompatible with the input shape {inputs.shape}.")
            kwargs["mask"] = ops.reshape(mask, (batch * timesteps, *mask.shape[2:]))
        y = self.layer(folded, training=training, **kwargs)
        return ops.reshape(y, (batch, timesteps, *y.shape[1:]))

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (child[0], input_shape[1], *child[1:])

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": _serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> TimeDistributed:
        config = dict(config)
        config["layer"] = _deserialize(config["layer"], custom_objects)
        return cls(**config)

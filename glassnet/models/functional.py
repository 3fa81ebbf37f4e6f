"""Functional models: ``Model(inputs, outputs)``, a graph of layer calls recorded on ``keras.Input`` tensors.

Each layer call on symbolic tensors left a Node (layers/symbolic.py). The model walks back from its outputs to
its inputs once, keeps the nodes in an order where every node comes after the nodes that feed it, and a call on
data replays them: each node's layer is called on the values its input tensors took. A layer called twice (shared
weights) has two nodes; a model can be called as a layer inside another.
"""

from __future__ import annotations

from glassnet import layers as layers_module
from glassnet.layers.base import Layer
from glassnet.layers.input_layer import InputLayer
from glassnet.layers.symbolic import KerasTensor, Node, flatten, map_structure, pack_like
from glassnet.models.model import Model


def _node_of(tensor: KerasTensor) -> Node:
    history = tensor.keras_history
    return history.operation.inbound_nodes[history.node_index]


def _ordered_nodes(outputs: list[KerasTensor]) -> list[Node]:
    """Every node the outputs depend on, each after the nodes that feed it (depth-first from the outputs)."""
    order: list[Node] = []
    seen: set[int] = set()

    def visit(node: Node) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        for parent in node.parent_nodes:
            visit(parent)
        order.append(node)

    for tensor in outputs:
        visit(_node_of(tensor))
    return order


def _replay(node: Node, layer, values: dict[int, object]) -> None:
    """Call ``layer`` as ``node`` recorded its call, on the values its tensors took (``values``, by tensor id), and
    add the values of the node's outputs."""
    def value_of(v):
        return values[id(v)] if isinstance(v, KerasTensor) else v

    outputs = layer(map_structure(value_of, node.call_args), *(map_structure(value_of, a) for a in node.extra_args),
                    **{k: map_structure(value_of, v) for k, v in node.call_kwargs.items()})
    for tensor, value in zip(node.output_tensors, flatten(outputs)):
        values[id(tensor)] = value


def _depths(nodes: list[Node]) -> dict[int, int]:
    """Each node's depth: 0 for a node no other node uses, else one more than the deepest node it feeds."""
    depth = {id(node): 0 for node in nodes}
    for node in reversed(nodes):
        for parent in node.parent_nodes:
            depth[id(parent)] = max(depth[id(parent)], depth[id(node)] + 1)
    return depth


class Functional(Model):
    """``Model(inputs, outputs, name=None, trainable=True)``: inputs and outputs are KerasTensors, or lists or
    dicts of them."""

    def __init__(self, inputs, outputs, name: str | None = None, trainable: bool = True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._check_tensors(inputs, "inputs")
        self._check_tensors(outputs, "outputs")
        self._inputs_structure, self._outputs_structure = inputs, outputs
        self._input_tensors, self._output_tensors = flatten(inputs), flatten(outputs)
        for tensor in self._input_tensors:
            if not isinstance(tensor.operation, InputLayer):
                raise ValueError(f"Model '{self.name}': every input must be a tensor made by `keras.Input`; "
                                 f"received {tensor} made by {type(tensor.operation).__name__} "
                                 f"'{tensor.operation.name}'.")
        self._nodes = _ordered_nodes(self._output_tensors)
        self._check_connected()
        depth = _depths(self._nodes)
        by_depth = sorted(range(len(self._nodes)), key=lambda i: -depth[id(self._nodes[i])])
        self._nodes_by_depth = [self._nodes[i] for i in by_depth]
        self._graph_layers: list[Layer] = []
        for node in self._nodes_by_depth:
            if all(node.operation is not layer for layer in self._graph_layers):
                self._graph_layers.append(node.operation)
        self._mark_built(map_structure(lambda t: t.shape, inputs))
        self._output_shape = map_structure(lambda t: t.shape, outputs)

    def _check_tensors(self, structure, what: str) -> None:
        bad = [leaf for leaf in flatten(structure) if not isinstance(leaf, KerasTensor)]
        if bad or not flatten(structure):
            raise ValueError(f"Model '{self.name}': `{what}` must be KerasTensors (from `keras.Input` and layer calls "
                             f"on them), or lists or dicts of them; received {structure!r}.")

    def _check_connected(self) -> None:
        """Every path back from an output must end at one of the model's inputs (Keras's message, naming the
        output by its path in the outputs' structure, and the Input it depends on)."""
        inputs = {id(t) for t in self._input_tensors}
        if isinstance(self._outputs_structure, dict):
            paths = sorted(self._outputs_structure)
        elif isinstance(self._outputs_structure, (list, tuple)):
            paths = [str(i) for i in range(len(self._output_tensors))]
        else:
            paths = [""]
        for path, output in zip(paths, self._output_tensors):
            for node in _ordered_nodes([output]):
                tensor = node.output_tensors[0]
                if isinstance(node.operation, InputLayer) and id(tensor) not in inputs:
                    raise ValueError(f"Output with path `{path}` is not connected to `inputs`: it depends on Input "
                                     f"'{node.operation.name}' ({tensor}), which is not among the model's inputs.")

    # ----- the graph ---------------------------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The layers, Input layers included, from the inputs to the outputs (by depth, as Keras lists them)."""
        return list(self._graph_layers)

    def _tracked_layers(self) -> list[Layer]:
        return self.layers

    def input_readers(self, x) -> list[tuple[object, list[Layer]]]:
        return [(data, [node.operation for node in self._nodes if any(t is tensor for t in node.input_tensors)])
                for data, tensor in zip(self._flat_inputs(x), self._input_tensors)]

    def step_layers(self) -> list[Layer]:
        """The Input layers, then the layer the input feeds when there is one input and one layer reads it, then
        the rest; when the input feeds several, the model itself comes next, so the input stays dense."""
        inputs = [t.operation for t in self._input_tensors]
        first = self._input_tensors[0]
        consumers = [node.operation for node in self._nodes if any(t is first for t in node.input_tensors)]
        rest = [layer for layer in self._graph_layers if not any(layer is i for i in inputs)]
        if len(inputs) == 1 and len(consumers) == 1:
            return [*inputs, consumers[0], *(layer for layer in rest if layer is not consumers[0])]
        return [*inputs, self, *rest]

    @property
    def output_names(self) -> list[str]:
        """The outputs' names: the layers that make them (a dict's keys when the outputs are a dict)."""
        if isinstance(self._outputs_structure, dict):
            return sorted(self._outputs_structure)
        return [t.keras_history.operation.name for t in self._output_tensors]

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._input_tensors)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._output_tensors)

    @property
    def input(self):
        """The model's input tensor(s), in the structure given to the constructor."""
        return self._inputs_structure

    @property
    def output(self):
        """The model's output tensor(s), in the structure given to the constructor."""
        return self._outputs_structure

    def _own_nodes(self, layer: Layer) -> list[Node]:
        return [node for node in layer.inbound_nodes if any(node is n for n in self._nodes)]

    # ----- calling -----------------------------------------------------------------------------------------------
    def call(self, inputs, training: bool | None = None):
        """Run the recorded layer calls on data: each node's layer on the values of its input tensors."""
        values = {id(t): v for t, v in zip(self._input_tensors, self._flat_inputs(inputs))}
        for node in self._nodes:
            if isinstance(node.operation, InputLayer):
                tensor = node.output_tensors[0]
                values[id(tensor)] = node.operation(values[id(tensor)])
                continue
            _replay(node, node.operation, values)
        return pack_like(self._outputs_structure, [values[id(t)] for t in self._output_tensors])

    def _flat_inputs(self, inputs) -> list:
        """The data for each model input, in order: matched by position (a list, or one array for one input) or
        by input name (a dict)."""
        names = [t.name for t in self._input_tensors]
        if isinstance(inputs, dict) and not isinstance(self._inputs_structure, dict):
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}' expects inputs named {names}; the dict received has keys "
                                 f"{sorted(inputs)} (missing {missing}).")
            return [inputs[n] for n in names]
        leaves = flatten(inputs)
        if len(leaves) != len(names):
            raise ValueError(f"Model '{self.name}' expects {len(names)} input(s) ({', '.join(names)}), but it "
                             f"received {len(leaves)} input tensors.")
        return leaves

    def build(self, input_shape=None) -> None:
        """A functional model is built when it is made: its layers were built by the calls that recorded it."""

    def clone(self, clone_layer) -> Functional:
        """The same graph over new layers: ``clone_layer(layer)`` makes each one (an Input becomes a new Input of
        the same shape, dtype and name), and the recorded calls are made again on them, in order."""
        made: dict[int, object] = {}
        values: dict[int, object] = {}
        for node in self._nodes:
            layer = node.operation
            if isinstance(layer, InputLayer):
                tensor = node.output_tensors[0]
                values[id(tensor)] = type(layer)(batch_shape=layer.batch_shape, dtype=layer.dtype,
                                                 name=layer.name).output
                continue
            if id(layer) not in made:
                made[id(layer)] = clone_layer(layer)
            _replay(node, made[id(layer)], values)
        return Functional(map_structure(lambda t: values[id(t)], self._inputs_structure),
                          map_structure(lambda t: values[id(t)], self._outputs_structure), name=self.name,
                          trainable=self.trainable)

    # ----- description -------------------------------------------------------------------------------------------
    def output_shape_of(self, layer: Layer):
        nodes = self._own_nodes(layer)
        if not nodes:
            return None
        shapes = [t.shape for t in nodes[0].output_tensors]
        return shapes[0] if len(shapes) == 1 else shapes

    def _sequential_like(self) -> bool:
        """Keras prints no "Connected to" column for a chain: one node per depth, one input each, no layer twice."""
        depths = _depths(self._nodes)
        counts: dict[int, int] = {}
        for node in self._nodes:
            counts[depths[id(node)]] = counts.get(depths[id(node)], 0) + 1
            if len(node.input_tensors) > 1:
                return False
        return all(c == 1 for c in counts.values()) and len(self._graph_layers) == len(self._nodes)

    def connections_of(self, layer: Layer) -> str | None:
        if self._sequential_like():
            return None
        cells = []
        for node in self._own_nodes(layer):
            for tensor in node.input_tensors:
                history = tensor.keras_history
                cells.append(f"{history.operation.name}[{history.node_index}][{history.tensor_index}]")
        return ", ".join(cells) or "-"

    # ----- configuration -----------------------------------------------------------------------------------------
    def _history_ref(self, tensor: KerasTensor) -> list:
        history = tensor.keras_history
        node = history.operation.inbound_nodes[history.node_index]
        return [history.operation.name, self._own_nodes(history.operation).index(node), history.tensor_index]

    def get_config(self) -> dict:
        """Keras 3's functional config: each layer's config with its calls (``inbound_nodes``: the tensors it was
        called on, by ``[layer name, node index, tensor index]``), and the model's input and output layers."""
        def tensor_config(value):
            if not isinstance(value, KerasTensor):
                return value
            return {"class_name": "__keras_tensor__", "config": {"shape": list(value.shape), "dtype": value.dtype,
                                                                 "keras_history": self._history_ref(value)}}

        layer_configs = []
        for layer in self._graph_layers:
            entry = layers_module.serialize(layer) if not isinstance(layer, Model) else {
                "class_name": type(layer).__name__, "config": layer.get_config()}
            entry["name"] = layer.name
            entry["inbound_nodes"] = [] if isinstance(layer, InputLayer) else [
                {"args": [map_structure(tensor_config, a) for a in (node.call_args, *node.extra_args)],
                 "kwargs": {k: map_structure(tensor_config, v) for k, v in node.call_kwargs.items()}}
                for node in self._own_nodes(layer)]
            layer_configs.append(entry)
        return {"name": self.name, "trainable": self.trainable, "layers": layer_configs,
                "input_layers": map_structure(self._history_ref, self._inputs_structure),
                "output_layers": map_structure(self._history_ref, self._outputs_structure)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Functional:
        """A new functional model from ``get_config()``'s output: the layers are made (only known classes, or
        ``custom_objects``), then called on the recorded tensors in an order where each call's inputs exist."""
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError(f"A functional model config must be a dict with a 'layers' list; received {config!r}")
        made: dict[str, Layer] = {}
        pending: list[tuple[Layer, dict]] = []
        for entry in config["layers"]:
            layer = _deserialize_layer(entry, custom_objects)
            made[entry.get("name", layer.name)] = layer
            pending += [(layer, node) for node in entry.get("inbound_nodes", [])]
        outputs_of: dict[str, list] = {name: [layer.output] if isinstance(layer, InputLayer) else []
                                       for name, layer in made.items()}

        def tensor(ref):
            name, node_index, tensor_index = ref
            produced = outputs_of[name]
            if node_index >= len(produced):
                raise LookupError
            value = produced[node_index]
            return flatten(value)[tensor_index]

        def resolve(value):
            if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
                return tensor(value["config"]["keras_history"])
            return value

        while pending:
            remaining = []
            for layer, node in pending:
                try:
                    args = [_map_configs(resolve, arg) for arg in node.get("args", [])]
                    kwargs = {k: _map_configs(resolve, v) for k, v in (node.get("kwargs") or {}).items()}
                except LookupError:
                    remaining.append((layer, node))
                    continue
                outputs_of[layer.name].append(layer(*args, **kwargs))
            if len(remaining) == len(pending):
                raise ValueError(f"Functional model config '{config.get('name')}': the calls of layers "
                                 f"{[layer.name for layer, _ in remaining]} refer to tensors no layer makes.")
            pending = remaining
        inputs = _map_refs(tensor, config["input_layers"])
        outputs = _map_refs(tensor, config["output_layers"])
        return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _is_ref(value) -> bool:
    return isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)


def _map_refs(fn, structure):
    """``fn`` on each ``[layer name, node index, tensor index]`` of a nest of them."""
    if _is_ref(structure):
        return fn(structure)
    if isinstance(structure, dict):
        return {key: _map_refs(fn, value) for key, value in structure.items()}
    return [_map_refs(fn, item) for item in structure]


def _map_configs(fn, value):
    """``fn`` on each tensor config of a nest of call arguments (lists and dicts)."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return fn(value)
    if isinstance(value, dict):
        return {key: _map_configs(fn, item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_map_configs(fn, item) for item in value]
    return value


def _deserialize_layer(entry: dict, custom_objects: dict | None) -> Layer:
    """A layer of a functional config: a nested functional or Sequential model, or a layer class."""
    class_name = entry.get("class_name")
    if class_name == "Functional":
        return Functional.from_config(entry.get("config") or {}, custom_objects=custom_objects)
    return layers_module.deserialize({"class_name": class_name, "config": entry.get("config")},
                                     custom_objects=custom_objects)


Model.functional_class = Functional

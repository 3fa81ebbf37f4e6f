"""``model.export("m.onnx", format="onnx")``: a Sequential model as an ONNX graph (opset 17) for inference.

Each layer becomes the ONNX ops that compute it, from its config and weights: Dense is ``MatMul`` + ``Add``, a
convolution or pooling runs channels-first between two ``Transpose``s (Keras's layout is channels-last), an
activation is its ONNX op, and the layers that do nothing at inference (Dropout, the noise layers,
ActivityRegularization) are left out. A model with any other layer is refused before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from glassnet.keras_format import objects
from glassnet.saving import atomic_write

OPSET = 17
SKIPPED_AT_INFERENCE = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
                        "ActivityRegularization")
ACTIVATIONS: dict[str, tuple[str, dict]] = {  # Keras activation → ONNX op and attributes
    "relu": ("Relu", {}), "sigmoid": ("Sigmoid", {}), "tanh": ("Tanh", {}), "softmax": ("Softmax", {"axis": -1}),
    "elu": ("Elu", {"alpha": 1.0}), "selu": ("Selu", {}), "softplus": ("Softplus", {}),
    "softsign": ("Softsign", {}), "exponential": ("Exp", {}), "leaky_relu": ("LeakyRelu", {"alpha": 0.2}),
    "hard_sigmoid": ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),
}


def onnx_module():
    try:
        import onnx
    except ImportError as e:
        raise ImportError("Exporting to ONNX needs the onnx package: pip install 'glassnet[onnx]'") from e
    return onnx


class Graph:
    """The nodes and constants of the graph being written; each op's output gets a fresh name."""

    def __init__(self, onnx):
        self.onnx, self.nodes, self.constants, self.count = onnx, [], [], 0

    def op(self, op_type: str, inputs: list[str], **attributes) -> str:
        self.count += 1
        output = f"{op_type.lower()}_{self.count}"
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, [output], **attributes))
        return output

    def constant(self, name: str, value: np.ndarray) -> str:
        """A named constant (a layer called twice names its weights once)."""
        if all(existing.name != name for existing in self.constants):
            self.constants.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name


def activation(graph: Graph, x: str, name: str, where: str) -> str:
    if name == "linear":
        return x
    if name in ("swish", "silu"):
        return graph.op("Mul", [x, graph.op("Sigmoid", [x])])
    if name not in ACTIVATIONS:
        raise ValueError(f"export: {where} uses activation {name!r}, which has no ONNX op here; exportable "
                         f"activations: linear, swish, silu, {', '.join(sorted(ACTIVATIONS))}")
    op_type, attributes = ACTIVATIONS[name]
    return graph.op(op_type, [x], **attributes)


def channels_first(graph: Graph, x: str, rank: int, run: Callable[[str], str]) -> str:
    """``run`` on ``x`` moved to channels-first (N, C, spatial...), the result moved back to channels-last."""
    spatial = list(range(1, rank - 1))
    inside = graph.op("Transpose", [x], perm=[0, rank - 1, *spatial])
    return graph.op("Transpose", [run(inside)], perm=[0, *[a + 1 for a in spatial], 1])


def pads(config: dict, shape: tuple, kernel: list[int]) -> list[int]:
    """ONNX's ``pads`` (all the starts, then all the ends) for Keras's padding of inputs of ``shape`` (channels
    last): none for 'valid'; for 'same', what makes ceil(size / stride) outputs, the extra one at the end."""
    spatial, strides = shape[1:-1], list(config["strides"])
    dilations = list(config.get("dilation_rate", [1] * len(spatial)))
    if config["padding"] != "same":
        return [0] * (2 * len(spatial))
    totals = [max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
              for n, s, k, d in zip(spatial, strides, kernel, dilations)]
    return [t // 2 for t in totals] + [t - t // 2 for t in totals]


def dense(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
    kernel, *bias = [np.asarray(w.numpy()) for w in layer.weights]
    z = graph.op("MatMul", [x, graph.constant(f"{layer.name}/kernel", kernel)])
    if bias:
        z = graph.op("Add", [z, graph.constant(f"{layer.name}/bias", bias[0])])
    return activation(graph, z, config["activation"], f"layer '{layer.name}'")


def conv(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
    """Keras's kernel (spatial..., in, out) is ONNX's (out, in, spatial...)."""
    kernel, *bias = [np.asarray(w.numpy()) for w in layer.weights]
    rank = kernel.ndim
    weights = graph.constant(f"{layer.name}/kernel", kernel.transpose(rank - 1, rank - 2, *range(rank - 2)))
    inputs = [weights] + ([graph.constant(f"{layer.name}/bias", bias[0])] if bias else [])
    z = channels_first(graph, x, rank, lambda t: graph.op(
        "Conv", [t, *inputs], kernel_shape=list(kernel.shape[:-2]), strides=list(config["strides"]),
        dilations=list(config["dilation_rate"]), pads=pads(config, shape, list(kernel.shape[:-2]))))
    return activation(graph, z, config["activation"], f"layer '{layer.name}'")


def pooling(op_type: str) -> Callable:
    def convert(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
        size = list(config["pool_size"])
        return channels_first(graph, x, len(size) + 2, lambda t: graph.op(
            op_type, [t], kernel_shape=size, strides=list(config["strides"]), pads=pads(config, shape, size)))
    return convert


def global_pooling(op_type: str, rank: int) -> Callable:
    def convert(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
        return graph.op(op_type, [x], axes=list(range(1, rank - 1)), keepdims=int(config.get("keepdims", False)))
    return convert


def relu_layer(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
    if config.get("max_value") is not None or config.get("threshold", 0) or config.get("negative_slope", 0):
        raise ValueError(f"export: layer '{layer.name}' (ReLU with max_value, threshold or negative_slope) has no "
                         "ONNX conversion here; only the plain ReLU exports")
    return graph.op("Relu", [x])


def flatten(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
    return graph.op("Flatten", [x], axis=1)


def activation_layer(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
    return activation(graph, x, config["activation"], f"layer '{layer.name}'")


def leaky_relu(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
    return graph.op("LeakyRelu", [x], alpha=float(config["negative_slope"]))


def elu(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
    return graph.op("Elu", [x], alpha=float(config["alpha"]))


def softmax(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
    return graph.op("Softmax", [x], axis=int(config["axis"]))


def batch_normalization(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
    """At inference y = γ·(x − μ)/√(σ² + ε) + β, written as y = x·a + b with a = γ/√(σ² + ε), b = β − μ·a."""
    if config["axis"] not in (-1, len(shape) - 1):
        raise ValueError(f"export: layer '{layer.name}' (BatchNormalization) normalizes axis {config['axis']}; only "
                         "the last (channels-last) axis exports")
    values = {w.name.rsplit("/", 1)[-1]: np.asarray(w.numpy(), dtype=np.float64) for w in layer.weights}
    ones = np.ones_like(values["moving_mean"])
    a = values.get("gamma", ones) / np.sqrt(values["moving_variance"] + config["epsilon"])
    b = values.get("beta", 0 * ones) - values["moving_mean"] * a
    scaled = graph.op("Mul", [x, graph.constant(f"{layer.name}/scale", a.astype(np.float32))])
    return graph.op("Add", [scaled, graph.constant(f"{layer.name}/shift", b.astype(np.float32))])


def rescaling(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
    """y = x·scale + offset."""
    scale = graph.constant(f"{layer.name}/scale", np.asarray(config["scale"], dtype=np.float32))
    offset = graph.constant(f"{layer.name}/offset", np.asarray(config["offset"], dtype=np.float32))
    return graph.op("Add", [graph.op("Mul", [x, scale]), offset])


def reshape(graph: Graph, layer, x: str, config: dict, shape: tuple) -> str:
    """The batch axis kept (0 copies it), the rest as the config says (-1 inferred)."""
    target = graph.constant(f"{layer.name}/shape", np.asarray([0, *config["target_shape"]], dtype=np.int64))
    return graph.op("Reshape", [x, target])


def merge(op_type: str) -> Callable:
    """A merging layer as ONNX's variadic op (Sum, Max, Min) or a chain of its binary one (Mul, Sub)."""
    def convert(graph: Graph, layer, xs: list[str], config: dict, shapes: list) -> str:
        if op_type in ("Sum", "Max", "Min"):
            return graph.op(op_type, xs)
        out = xs[0]
        for x in xs[1:]:
            out = graph.op(op_type, [out, x])
        return out
    return convert


def average(graph: Graph, layer, xs: list[str], config: dict, shapes: list) -> str:
    return graph.op("Mul", [graph.op("Sum", xs), graph.constant(f"{layer.name}/1_over_n",
                                                                np.asarray(1 / len(xs), dtype=np.float32))])


def concatenate(graph: Graph, layer, xs: list[str], config: dict, shapes: list) -> str:
    return graph.op("Concat", xs, axis=int(config["axis"]))


MERGING = {"Add": merge("Sum"), "Maximum": merge("Max"), "Minimum": merge("Min"), "Multiply": merge("Mul"),
           "Subtract": merge("Sub"), "Average": average, "Concatenate": concatenate}

CONVERTERS: dict[str, Callable] = {
    "Dense": dense, "Conv1D": conv, "Conv2D": conv,
    "MaxPooling1D": pooling("MaxPool"), "MaxPooling2D": pooling("MaxPool"),
    "AveragePooling1D": pooling("AveragePool"), "AveragePooling2D": pooling("AveragePool"),
    "GlobalMaxPooling1D": global_pooling("ReduceMax", 3), "GlobalMaxPooling2D": global_pooling("ReduceMax", 4),
    "GlobalAveragePooling1D": global_pooling("ReduceMean", 3),
    "GlobalAveragePooling2D": global_pooling("ReduceMean", 4),
    "Flatten": flatten, "Activation": activation_layer, "ReLU": relu_layer, "LeakyReLU": leaky_relu, "ELU": elu,
    "Softmax": softmax, "BatchNormalization": batch_normalization, "Rescaling": rescaling, "Reshape": reshape,
    **MERGING,
}


def exportable_layers() -> list[str]:
    return sorted([*CONVERTERS, *SKIPPED_AT_INFERENCE])


def check_exportable(model) -> None:
    """Refuse, before anything is written, a model with a layer (or a setting) that has no conversion."""
    if type(model).__name__ not in ("Sequential", "Functional"):
        raise ValueError(f"export: ONNX export writes Sequential and functional models; '{model.name}' is a "
                         f"{type(model).__name__} (its call is Python code)")
    if not model.built:
        raise ValueError(f"export: model '{model.name}' is not built; build it or call it on data first")
    for layer in model.layers:
        name = type(layer).__name__
        config = layer.get_config()
        if name not in CONVERTERS and name not in (*SKIPPED_AT_INFERENCE, "InputLayer"):
            raise ValueError(f"export: layer '{layer.name}' ({name}) has no ONNX conversion; the layers that export "
                             f"are {', '.join(exportable_layers())}")
        dtypes = {str(w.dtype) for w in layer.weights}
        if config.get("data_format") not in (None, "channels_last") or dtypes - {"float32"}:
            raise ValueError(f"export: layer '{layer.name}' ({name}) must be float32 and channels_last to export; "
                             f"it is {config.get('data_format')} with weights of {sorted(dtypes)}")


def convert(graph: Graph, layer, x, shape) -> str:
    """One layer's ops on the tensor(s) ``x`` of shape(s) ``shape``; a layer that does nothing at inference passes
    ``x`` on."""
    name = type(layer).__name__
    return x if name in SKIPPED_AT_INFERENCE else CONVERTERS[name](graph, layer, x, layer.get_config(), shape)


def sequential_graph(graph: Graph, model, tensor_info) -> tuple[list, list]:
    """The layers in order on the input ``input``; the result is ``output``."""
    x, shape = "input", model.input_shape
    for layer in model.layers:
        x = convert(graph, layer, x, shape)
        shape = model.output_shape_of(layer)
    graph.nodes.append(graph.onnx.helper.make_node("Identity", [x], ["output"]))
    return [tensor_info("input", model.input_shape)], [tensor_info("output", model.output_shape)]


def functional_graph(graph: Graph, model, tensor_info) -> tuple[list, list]:
    """Each layer call of the functional config on the tensors it names (``keras_history``); the inputs are named
    after their Input layers, the outputs after the layers that make them."""
    config, tensors, inputs = model.get_config(), {}, []
    for entry in config["layers"]:
        layer = model.get_layer(entry["name"])
        if type(layer).__name__ == "InputLayer":
            tensors[(entry["name"], 0, 0)] = entry["name"]
            inputs.append(tensor_info(entry["name"], layer.batch_shape))
        for node_index, node in enumerate(entry["inbound_nodes"]):
            called_on = objects.keras_tensors(node["args"])
            xs = [tensors[tuple(t["config"]["keras_history"])] for t in called_on]
            shapes = [tuple(t["config"]["shape"]) for t in called_on]
            merging = type(layer).__name__ in MERGING
            tensors[(entry["name"], node_index, 0)] = convert(graph, layer, xs if merging else xs[0],
                                                              shapes if merging else shapes[0])
    refs = config["output_layers"]
    outputs = []
    for ref, output in zip(refs if isinstance(refs[0], list) else [refs], model.outputs):
        graph.nodes.append(graph.onnx.helper.make_node("Identity", [tensors[tuple(ref)]], [ref[0]]))
        outputs.append(tensor_info(ref[0], output.shape))
    return inputs, outputs


def export_onnx(model, filepath: str | os.PathLike) -> None:
    """Write ``model`` (a built Sequential or functional model) as an ONNX file for inference, atomically; the
    batch size stays free."""
    onnx = onnx_module()
    check_exportable(model)
    graph = Graph(onnx)

    def tensor_info(name: str, shape: tuple):
        return onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["batch", *shape[1:]])

    build = sequential_graph if type(model).__name__ == "Sequential" else functional_graph
    inputs, outputs = build(graph, model, tensor_info)
    proto = onnx.helper.make_model(onnx.helper.make_graph(graph.nodes, model.name, inputs, outputs, graph.constants),
                                   opset_imports=[onnx.helper.make_opsetid("", OPSET)], producer_name="glassnet")
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    atomic_write(filepath, lambda f: f.write(data))

"""TensorBoard: Keras 3's callback, writing TensorBoard's event files without TensorFlow.

The files are written with tensorboardX (the ``tensorboard`` extra): it is kept up to date, needs only NumPy and
protobuf, and writes scalars, histograms, text, images and graphs in the format TensorBoard reads. The
``tensorboard`` package itself brings its web server (grpcio, werkzeug) and its summary API wants TensorFlow, so it
is needed only to *view* the files (and by the tests, to read them back).

As in Keras: ``<log_dir>/train`` and ``<log_dir>/validation`` runs; ``epoch_<name>`` scalars per epoch (the
validation ones without ``val_``), ``epoch_learning_rate``; with ``update_freq='batch'`` or N, ``batch_<name>`` every
N batches; ``evaluation_<name>_vs_iterations``; ``<weight path>/histogram`` every ``histogram_freq`` epochs (and
``/image`` with ``write_images``). What TF2's Keras dropped or never had, glassnet adds: ``<weight path>/gradient``
(the last batch's gradient), ``<layer>/activation`` (each layer's output on ``activation_data``), the graph of the
model's ops grouped by layer (TensorBoard's Graphs tab), the model's summary as text, and, where a Watch callback
found something (``model.history.diagnoses``), its findings as text.
"""

from __future__ import annotations

import os
import time

import numpy as np

from glassnet.autodiff.graph import topological_order
from glassnet.autodiff.naming import layer_of
from glassnet.autodiff.tensor import Tensor, Variable, record
from glassnet.callbacks.callback import Callback


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError as error:
        raise ImportError("TensorBoard writes its event files with tensorboardX, which is not installed: "
                          "pip install 'glassnet[tensorboard]' (or tensorboardX)") from error
    return SummaryWriter


class TensorBoard(Callback):
    """``TensorBoard(log_dir='logs', histogram_freq=0, write_graph=True, write_images=False,
    write_steps_per_second=False, update_freq='epoch', profile_batch=0, embeddings_freq=0,
    embeddings_metadata=None, activation_data=None)``: Keras 3's arguments; ``activation_data`` (glassnet's) is a
    batch of inputs whose per-layer outputs are logged as histograms every ``histogram_freq`` epochs."""

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq: str | int = "epoch",
                 profile_batch: int = 0, embeddings_freq: int = 0, embeddings_metadata=None, activation_data=None):
        super().__init__()
        if not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"TensorBoard: argument `log_dir` must be a folder path, received {log_dir!r}")
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: argument `histogram_freq` must be a non-negative integer, received "
                             f"{histogram_freq!r}")
        if update_freq not in ("epoch", "batch") and (isinstance(update_freq, bool) or not isinstance(
                update_freq, int) or update_freq < 1):
            raise ValueError(f"TensorBoard: argument `update_freq` must be 'epoch', 'batch' or a positive integer, "
                             f"received {update_freq!r}")
        if profile_batch:
            raise ValueError("Profiling is not yet available with the glassnet backend (profile one step with "
                             f"glassnet.inspect.profile). Received: profile_batch={profile_batch} (must be 0)")
        if embeddings_freq:
            raise ValueError("TensorBoard: embeddings_freq needs TensorFlow checkpoints for the Projector, which "
                             f"glassnet does not write. Received: embeddings_freq={embeddings_freq} (must be 0)")
        _summary_writer()  # the dependency is missing: say so now, not after the first epoch
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_metadata = embeddings_metadata
        self.activation_data = activation_data
        self._writers: dict = {}
        self._global_train_batch = 0
        self._epoch_start = 0.0
        self._epoch_batches = 0
        self._batch_start = 0.0
        self._diagnoses_written = 0

    @property
    def uses_batch_hooks(self) -> bool:
        return self.update_freq != "epoch" or self.write_steps_per_second

    # ----- writers ---------------------------------------------------------------------------------------------
    def _writer(self, run: str):
        """The SummaryWriter of ``<log_dir>/<run>``, made on first use; a folder that cannot be written is named."""
        if run not in self._writers:
            folder = os.path.join(self.log_dir, run)
            try:
                os.makedirs(folder, exist_ok=True)
                if not os.access(folder, os.W_OK):
                    raise PermissionError(13, "Permission denied")
            except OSError as error:
                raise OSError(f"TensorBoard: cannot write event files to the log folder '{folder}' (log_dir="
                              f"'{self.log_dir}'): {error.strerror or error}") from error
            self._writers[run] = _summary_writer()(logdir=folder, flush_secs=10)
        return self._writers[run]

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # ----- hooks -----------------------------------------------------------------------------------------------
    def set_model(self, model) -> None:
        super().set_model(model)
        self._close_writers()

    def on_train_begin(self, logs=None) -> None:
        self._global_train_batch = 0
        self._diagnoses_written = 0
        train = self._writer("train")
        if self.write_graph:
            self._write_model(train)

    def on_train_end(self, logs=None) -> None:
        self._write_diagnoses(None)
        self._close_writers()

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch_start, self._epoch_batches = time.perf_counter(), 0

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        self._global_train_batch += 1
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self._epoch_batches += 1
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer, step = self._writer("train"), self._global_train_batch
        if self.write_steps_per_second:
            writer.add_scalar("batch_steps_per_second", 1.0 / max(time.perf_counter() - self._batch_start, 1e-9),
                              step)
        for name, value in (logs or {}).items():
            if np.ndim(value) == 0:
                writer.add_scalar(f"batch_{name}", float(value), step)

    def on_test_end(self, logs=None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not logs:
            return
        writer = self._writer("validation")
        for name, value in logs.items():
            if np.ndim(value) == 0:
                writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value), int(optimizer.iterations))
        writer.flush()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        validation = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            train["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            train["steps_per_second"] = self._epoch_batches / max(time.perf_counter() - self._epoch_start, 1e-9)
        for run, values in (("train", train), ("validation", validation)):
            scalars = {k: float(v) for k, v in values.items() if np.ndim(v) == 0}
            if scalars:
                writer = self._writer(run)
                for name, value in scalars.items():
                    writer.add_scalar(f"epoch_{name}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
        self._write_diagnoses(epoch)
        for writer in self._writers.values():
            writer.flush()

    # ----- what is written -------------------------------------------------------------------------------------
    def _write_histograms(self, epoch: int) -> None:
        """Every weight (``<path>/histogram``), its last gradient (``<path>/gradient``), each layer's output on
        ``activation_data`` (``<layer>/activation``) and, with ``write_images``, each weight as an image."""
        writer = self._writer("train")
        for weight in self.model.weights:
            path = _path(weight).replace(":", "_")
            value = np.asarray(weight.numpy())
            writer.add_histogram(f"{path}/histogram", value, epoch)
            if getattr(weight, "grad", None) is not None:
                writer.add_histogram(f"{path}/gradient", np.asarray(weight.grad), epoch)
            if self.write_images:
                image = _weight_image(value)
                if image is not None:
                    writer.add_image(f"{path}/image", image, epoch, dataformats="HW")
        if self.activation_data is not None:
            for layer, value in _layer_outputs(self.model, self.activation_data).items():
                writer.add_histogram(f"{layer}/activation", value, epoch)

    def _write_model(self, writer) -> None:
        """The model's summary as text (tag ``keras``) and its ops as a graph, one name scope per layer."""
        summary = getattr(self.model, "summary", None)
        if callable(summary) and getattr(self.model, "built", False):
            lines: list[str] = []
            summary(print_fn=lines.append)
            writer.add_text("keras", "<pre>" + "\n".join(lines) + "</pre>", 0)
        graph = _graph_def(self.model, self.activation_data)
        if graph is not None:
            from tensorboardX.proto.event_pb2 import Event

            writer.file_writer.add_event(Event(graph_def=graph.SerializeToString()))

    def _write_diagnoses(self, epoch: int | None) -> None:
        """New findings of a Watch callback (``model.history.diagnoses``), one text entry each."""
        found = getattr(getattr(self.model, "history", None), "diagnoses", None)
        if not found or len(found) <= self._diagnoses_written:
            return
        writer = self._writer("train")
        step = epoch if epoch is not None else self._global_train_batch
        for finding in list(found)[self._diagnoses_written:]:
            code = getattr(finding, "code", None)
            message = getattr(finding, "message", None) or str(finding)
            writer.add_text("diagnoses", f"**{code}**: {message}" if code else message, step)
        self._diagnoses_written = len(found)


def _path(weight) -> str:
    return getattr(weight, "path", None) or weight.name


def _weight_image(value: np.ndarray) -> np.ndarray | None:
    """A weight as Keras draws it (a bias as one row, a kernel with its longer side across, a 1-D convolution's
    kernels side by side), scaled to [0, 1]; None for shapes Keras does not draw."""
    image = np.squeeze(value)
    if image.ndim == 1:
        image = image[None, :]
    elif image.ndim == 2 and image.shape[0] > image.shape[1]:
        image = image.T
    elif image.ndim == 3:
        image = np.concatenate(list(np.moveaxis(image, -1, 0)), axis=1)
    if image.ndim != 2:
        return None
    low, high = float(image.min()), float(image.max())
    return (image - low) / (high - low) if high > low else np.zeros_like(image, dtype=np.float32)


def _example_inputs(model, data):
    """``data``, or one sample of zeros of the model's input shape (a list of them for several inputs)."""
    if data is not None:
        return data
    shape = getattr(model, "input_shape", None)
    if shape is None:
        return None
    if isinstance(shape, list):
        return [np.zeros((1, *s[1:]), dtype="float32") for s in shape]
    return np.zeros((1, *shape[1:]), dtype="float32")


def _recorded(model, data) -> list[Tensor]:
    """The ops of one forward pass of ``model`` on ``data``, in the order they ran."""
    with record():
        outputs = model(data, training=False)
    leaves = outputs if isinstance(outputs, (list, tuple)) else list(outputs.values()) if isinstance(
        outputs, dict) else [outputs]
    return topological_order(*leaves)


def _layer_outputs(model, data) -> dict[str, np.ndarray]:
    """Each layer's output (the last value computed in its name scope) on ``data``."""
    outputs: dict[str, np.ndarray] = {}
    for t in _recorded(model, data):
        if layer_of(t):
            outputs[layer_of(t)] = np.asarray(t.numpy())
    return outputs


def _graph_def(model, data):
    """TensorBoard's GraphDef of one forward pass: every op as ``<layer>/<Op>``, every weight as ``<path>``
    (a VariableV2 node), every input as ``input_<k>``, each with its output shape; None without a built model."""
    if not getattr(model, "built", False):
        return None
    from tensorboardX.proto import attr_value_pb2, graph_pb2, node_def_pb2, tensor_shape_pb2, versions_pb2

    def shape_attr(shape) -> attr_value_pb2.AttrValue:
        dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=int(d)) for d in shape]
        return attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(
            shape=[tensor_shape_pb2.TensorShapeProto(dim=dims)]))

    order = _recorded(model, _example_inputs(model, data))
    names: dict[int, str] = {}
    nodes = []

    def node(t: Tensor, name: str, op: str, inputs: list[str]) -> str:
        unique, k = name, 1
        while unique in {n.name for n in nodes}:
            k += 1
            unique = f"{name}_{k}"
        nodes.append(node_def_pb2.NodeDef(name=unique, op=op, input=inputs, attr={
            "_output_shapes": shape_attr(t.shape), "dtype": attr_value_pb2.AttrValue(s=str(t.dtype).encode())}))
        names[id(t)] = unique
        return unique

    inputs_seen = 0
    for t in order:
        for x in t.op.inputs:
            if id(x) in names:
                continue
            if isinstance(x, Variable):
                node(x, _path(x), "VariableV2", [])
            elif x.op is None:
                inputs_seen += 1
                node(x, f"input_{inputs_seen}" if x.size > 1 else "constant", "Placeholder" if x.size > 1 else
                     "Const", [])
        node(t, f"{t.op.scope or 'op'}/{type(t.op).__name__}", type(t.op).__name__,
             [names[id(x)] for x in t.op.inputs])
    return graph_pb2.GraphDef(node=nodes, versions=versions_pb2.VersionDef(producer=22))

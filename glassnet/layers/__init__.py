"""Layers, like ``keras.layers``: Input, Dense, Activation, Dropout, Flatten, ReLU, LeakyReLU, ELU, Softmax; Conv1D,
Conv2D, DepthwiseConv1D/2D, SeparableConv1D/2D, Conv1DTranspose/Conv2DTranspose and the pooling layers
(MaxPooling1D/2D, AveragePooling1D/2D, GlobalMaxPooling1D/2D, GlobalAveragePooling1D/2D); the shaping layers
Reshape, Permute, RepeatVector, ZeroPadding2D, Cropping2D and UpSampling2D; LayerNormalization; the training-only
noise and penalty layers GaussianNoise, GaussianDropout, SpatialDropout1D/2D, ActivityRegularization; Rescaling; the
merging layers Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot (and their functions add,
concatenate, ...), which join a functional model's branches; BatchNormalization; Embedding and Masking, whose masks
reach the layers after them; Lambda (any function of the inputs; saved by its function's name only).

The preprocessing layers: Normalization (``adapt``); the image layers Resizing, CenterCrop,
RandomFlip, RandomRotation, RandomZoom, RandomTranslation and RandomContrast; the categorical ones StringLookup,
IntegerLookup, CategoryEncoding, Discretization, Hashing and TextVectorization (raw strings in, indices or
vectors out).

``serialize(layer)`` / ``deserialize(config)`` turn a layer into ``{'class_name': 'Dense', 'config': {...}}`` and
back; deserialize only builds the classes listed here (or ones passed in ``custom_objects``), never code from a file.
"""

from __future__ import annotations

from glassnet.keras_names import missing_attribute
from glassnet.layers.activation import ELU, Activation, LeakyReLU, ReLU, Softmax
from glassnet.layers.base import InputSpec, Layer, clear_session, reset_uids
from glassnet.layers.batch_normalization import BatchNormalization
from glassnet.layers.conv import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from glassnet.layers.core_lambda import Lambda
from glassnet.layers.dense import Dense
from glassnet.layers.dropout import Dropout
from glassnet.layers.embedding import Embedding
from glassnet.layers.flatten import Flatten
from glassnet.layers.image_preprocessing import (
    CenterCrop,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Resizing,
)
from glassnet.layers.input_layer import Input, InputLayer
from glassnet.layers.lookup import (
    CategoryEncoding,
    Discretization,
    Hashing,
    IntegerLookup,
    StringLookup,
)
from glassnet.layers.masking import Masking
from glassnet.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from glassnet.layers.noise import (
    ActivityRegularization,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
)
from glassnet.layers.normalization import LayerNormalization
from glassnet.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from glassnet.layers.preprocessing import Normalization, Rescaling
from glassnet.layers.recurrent import GRU, LSTM, SimpleRNN
from glassnet.layers.rnn_wrappers import Bidirectional, TimeDistributed
from glassnet.layers.shaping import Cropping2D, Permute, RepeatVector, Reshape, UpSampling2D, ZeroPadding2D
from glassnet.layers.symbolic import KerasTensor
from glassnet.layers.text_vectorization import TextVectorization

LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (InputLayer, Dense, Activation, Dropout, Flatten, ReLU, LeakyReLU, ELU, Softmax)
}
LAYER_CLASSES.update({cls.__name__: cls for cls in (
    Conv1D, Conv2D, MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
    GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
)})
LAYER_CLASSES.update({cls.__name__: cls for cls in (
    Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot,
)})
LAYER_CLASSES.update({cls.__name__: cls for cls in (
    Reshape, Permute, RepeatVector, ZeroPadding2D, Cropping2D, UpSampling2D,
)})
LAYER_CLASSES.update({cls.__name__: cls for cls in (
    LayerNormalization, GaussianNoise, GaussianDropout, SpatialDropout1D, SpatialDropout2D, ActivityRegularization,
    Rescaling,
)})
LAYER_CLASSES.update({cls.__name__: cls for cls in (SimpleRNN, LSTM, GRU, Bidirectional, TimeDistributed)})
LAYER_CLASSES.update({cls.__name__: cls for cls in (BatchNormalization, Embedding, Masking)})
LAYER_CLASSES.update({cls.__name__: cls for cls in (  # preprocessing
    Normalization, Resizing, CenterCrop, RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast,
    StringLookup, IntegerLookup, CategoryEncoding, Discretization, Hashing, TextVectorization,
)})
LAYER_CLASSES["Lambda"] = Lambda
LAYER_CLASSES.update({cls.__name__: cls for cls in (
    DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D, Conv1DTranspose, Conv2DTranspose,
)})

# Keras's other names for the same classes (a layer made under either name is saved under the class's own)
Convolution1D, Convolution2D, Convolution1DTranspose, Convolution2DTranspose = Conv1D, Conv2D, Conv1DTranspose, \
    Conv2DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D


def serialize(layer: Layer) -> dict:
    """``{'class_name': 'Dense', 'config': layer.get_config()}``."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: dict, custom_objects: dict[str, type] | None = None) -> Layer:
    """A new (unbuilt) layer from ``{'class_name': ..., 'config': {...}}``; unknown class names raise ValueError."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config must be a dict with 'class_name' and 'config' keys, received {config!r}")
    name = config["class_name"]
    classes = {**LAYER_CLASSES, **(custom_objects or {})}
    if name not in classes:
        raise ValueError(f"Unknown layer: {name!r}. Known layers: {sorted(classes)}. Pass custom layer classes in "
                         "custom_objects={'Name': Class}.")
    if classes[name] is Lambda:  # its function is taken by name from custom_objects, never from the config
        return Lambda.from_config(dict(config.get("config") or {}), custom_objects)
    return classes[name].from_config(dict(config.get("config") or {}))


def get(identifier: str | dict | Layer) -> Layer:
    """A layer from an instance (returned as is), a config dict, or a class name with default arguments."""
    if isinstance(identifier, Layer):
        return identifier
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    return deserialize(identifier)


__all__ = [
    "BatchNormalization", "Embedding", "Masking",
    "Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract", "add", "average",
    "concatenate", "dot", "maximum", "minimum", "multiply", "subtract",
    "GRU", "LSTM", "Bidirectional", "SimpleRNN", "TimeDistributed",
    "AveragePooling1D", "AveragePooling2D", "Conv1D", "Conv2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D",
    "ELU", "LAYER_CLASSES", "Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "InputSpec",
    "KerasTensor", "Layer", "LeakyReLU", "ReLU", "Softmax", "clear_session", "deserialize", "get",
    "reset_uids", "serialize",
    "Cropping2D", "Permute", "RepeatVector", "Reshape", "UpSampling2D", "ZeroPadding2D",
    "ActivityRegularization", "GaussianDropout", "GaussianNoise", "LayerNormalization", "Rescaling",
    "SpatialDropout1D", "SpatialDropout2D",
    "CenterCrop", "Normalization", "RandomContrast", "RandomFlip", "RandomRotation", "RandomTranslation",
    "RandomZoom", "Resizing",
    "CategoryEncoding", "Discretization", "Hashing", "IntegerLookup", "StringLookup", "TextVectorization",
    "Lambda",
    "Conv1DTranspose", "Conv2DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "AvgPool1D", "AvgPool2D", "Convolution1D", "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D", "MaxPool1D", "MaxPool2D",
    "SeparableConvolution1D", "SeparableConvolution2D",
]


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

"""Datasets with Keras's loaders (``mnist``, ``fashion_mnist``, ``imdb``, ``boston_housing``) and the playground's
two-dimensional ones (``toy2d``). Where files come from, and how they are verified: see ``_download``."""

from glassnet.datasets import boston_housing, fashion_mnist, imdb, mnist, toy2d
from glassnet.datasets._download import CacheNotWritableError, DatasetNotFoundError, IntegrityError
from glassnet.keras_names import missing_attribute

__all__ = ["CacheNotWritableError", "DatasetNotFoundError", "IntegrityError",
           "boston_housing", "fashion_mnist", "imdb", "mnist", "toy2d"]


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

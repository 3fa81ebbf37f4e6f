"""Datasets with Keras's loaders (``mnist``, ``fashion_mnist``, ``imdb``, ``boston_housing``) and the playground's
two-dimensional ones (``toy2d``). Where files come from, and how they are verified: see ``_download``."""

from glassnet.datasets import boston_housing, fashion_mnist, imdb, mnist, toy2d
from glassnet.datasets._download import CacheNotWritableError, DatasetNotFoundError, IntegrityError

__all__ = ["CacheNotWritableError", "DatasetNotFoundError", "IntegrityError",
           "boston_housing", "fashion_mnist", "imdb", "mnist", "toy2d"]

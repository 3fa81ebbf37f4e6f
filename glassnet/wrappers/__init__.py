"""scikit-learn estimators around glassnet models: ``GlassnetClassifier`` and ``GlassnetRegressor``.

They plug a glassnet network into scikit-learn's tools (``Pipeline``, ``cross_val_score``, ``GridSearchCV``) and
pass scikit-learn's own estimator checks with their default parameters. ``X`` may be a NumPy array or a scipy sparse
matrix or array (any format). Needs the ``sklearn`` extra: ``pip install 'glassnet[sklearn]'``.
"""

try:
    import sklearn  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError("glassnet.wrappers needs scikit-learn: pip install 'glassnet[sklearn]'") from e

from glassnet.keras_names import missing_attribute
from glassnet.wrappers.classifier import GlassnetClassifier
from glassnet.wrappers.regressor import GlassnetRegressor

__all__ = ["GlassnetClassifier", "GlassnetRegressor"]


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)

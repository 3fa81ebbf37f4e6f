"""step_source: the Python that ``fit`` runs for one training step of a model, as text you can read and run."""

from __future__ import annotations

from glassnet.autodiff.step_source import StepSource


def step_source(model, batch_size: int | None = None) -> StepSource:
    """``model.step_source(batch_size)``: ``forward`` and ``backward`` written out with the course's names, one
    line per op and its equation as a comment; ``exec(source, dict(source.bindings))`` defines what fit runs."""
    method = getattr(model, "step_source", None)
    if method is None:
        raise TypeError(f"step_source expects a compiled glassnet model (such as a Sequential), received "
                        f"{type(model).__name__}")
    return method(batch_size)

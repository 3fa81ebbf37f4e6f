"""Look inside a model in the course's terms: its graph, its equations, its cost, its measured time, and the
course's experiments.

``trace(model, x, y)`` → Graph (ops, shapes, FLOPs, SVG); ``explain(model, x, y)`` → the forward and backward
equations with real shapes; ``cost(model, batch_size)`` → parameters, FLOPs, memory and estimated time;
``profile(model, x, y)`` → measured time per op and layer; ``step_source(model)`` → the Python that fit runs for
one step; ``step(model, x, y)`` → every value of one training step, by those names;
``experiments.vectorization()`` and ``experiments.initialization()``; ``plot_history`` and
``plot_decision_boundary`` (matplotlib); ``diagnose(model, x, y)`` → the doctor's findings before training,
``watch(model)`` → the Watch callback that records and diagnoses during fit.
"""

from glassnet.inspect import experiments
from glassnet.inspect.cost import cost
from glassnet.inspect.diagnose import diagnose, watch
from glassnet.inspect.explain import explain
from glassnet.inspect.graph import Graph, trace
from glassnet.inspect.plots import plot_decision_boundary, plot_history
from glassnet.inspect.profile import profile
from glassnet.inspect.step_debugger import StepValues, step
from glassnet.inspect.step_source import step_source

__all__ = ["Graph", "StepValues", "cost", "diagnose", "experiments", "explain", "plot_decision_boundary",
           "plot_history", "profile", "step", "step_source", "trace", "watch"]

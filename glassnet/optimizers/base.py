"""Optimizer base: the learning rate (float, schedule or callable), gradient clipping, decoupled weight decay,
per-variable state created on first use, and in-place updates through ``Variable.assign_sub``/``assign_add``.

One step, as in Keras 3: lr = learning_rate(iterations); clip the gradients (clipnorm per variable, global_clipnorm
over all of them, or clipvalue); w ← w − w·weight_decay·lr; ``update_step`` (the optimizer's own rule);
w ← constraint(w) for each variable that has one (``variable.constraint``); iterations += 1. Each optimizer
writes its rule as the math of one weight; ``updates.update`` runs it in place, as one compiled pass over each large
variable (Numba) or with NumPy.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from glassnet import backend
from glassnet.autodiff.tensor import Tensor, Variable, no_grad
from glassnet.kernels import storage, updates
from glassnet.optimizers import schedules


def _takes_step(fn: Callable) -> bool:
    """Whether a learning-rate callable wants the step (``lambda step: ...``) or nothing (Keras's ``lambda: ...``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params)


class Optimizer:
    """Base class. Subclasses define ``slot_names()`` (the state kept per variable) and ``update_step(g, w, lr)``.

    ``apply_gradients([(grad, variable), ...])`` or ``apply(grads, variables)`` performs one step in place.
    """

    def __init__(self, learning_rate, weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, name: str | None = None):
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm),
                           ("weight_decay", weight_decay)):
            if value is not None and not (isinstance(value, (int, float)) and value >= 0):
                raise ValueError(f"Argument `{arg}` must be a non-negative float. Received: {arg}={value!r}")
        self.name = name or type(self).__name__.lower()
        self.weight_decay, self.clipnorm, self.clipvalue, self.global_clipnorm = (
            weight_decay, clipnorm, clipvalue, global_clipnorm)
        self._lr_takes_step = False
        self.learning_rate = learning_rate
        self.iterations = 0
        self._variables: list[Variable] = []
        self._slots: dict[Variable, dict[str, np.ndarray]] = {}
        self._slot_storage = storage.Twins()  # each slot lies where its variable does, in a twin block
        self._updates = updates.GroupedUpdates()
        self._arrays: tuple | None = None  # the last call's variables, their storage, their slots by names
        self._exclude_ids: set[int] = set()
        self._exclude_names: tuple[str, ...] = ()

    # ----- learning rate ---------------------------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The learning rate of the next update: the schedule or callable evaluated at ``iterations``."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(lr(self.iterations))
        if callable(lr):
            return float(lr(self.iterations) if self._lr_takes_step else lr())
        return lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(getattr(self, "_learning_rate", None), schedules.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                "constructor argument, hence its learning rate is not settable. If you need the learning rate to "
                "be settable, you should instantiate the optimizer with a float `learning_rate` argument."
            )
        if isinstance(value, Tensor):
            value = value.item()
        if isinstance(value, (int, float, np.floating, np.integer)):
            value = float(value)
            if value < 0:
                raise ValueError(f"Argument `learning_rate` must be >= 0. Received: learning_rate={value}")
        elif callable(value):
            self._lr_takes_step = isinstance(value, schedules.LearningRateSchedule) or _takes_step(value)
        else:
            raise TypeError(f"Argument `learning_rate` must be a float, a LearningRateSchedule or a callable "
                            f"of the step. Received: learning_rate={value!r}")
        self._learning_rate = value

    # ----- state -----------------------------------------------------------------------------------------------
    def slot_names(self) -> tuple[str, ...]:
        """Names of the arrays kept per variable (e.g. ('momentum', 'velocity') for Adam)."""
        return ()

    def slot_initial_value(self, name: str) -> float:
        """The value the slot ``name`` starts at for each weight (0, unless the optimizer says otherwise, as Ftrl's
        accumulator does)."""
        return 0.0

    def build(self, variables: Iterable[Variable]) -> None:
        """Create the state of every variable now (otherwise it is created on the variable's first update)."""
        for var in variables:
            self._slots_of(var)

    def slots(self, var: Variable) -> dict[str, np.ndarray]:
        """The state kept for ``var``, by slot name (RMSprop's 'velocity', Adam's 'momentum' and 'velocity'): the
        live arrays the next update reads and writes, created now if the variable has none yet."""
        return dict(self._slots_of(var))

    def _slots_of(self, var: Variable) -> dict[str, np.ndarray]:
        slots = self._slots.get(var)
        if slots is None:
            slots = {name: self._slot_storage.zeros_like(var.storage, name) for name in self.slot_names()}
            for name, slot in slots.items():
                slot.fill(self.slot_initial_value(name))
            self._slots[var] = slots
            self._variables.append(var)
        return slots

    @property
    def variables(self) -> list[np.ndarray]:
        """The optimizer's state arrays (the live ones): iterations, then each variable's slots in build order."""
        return [np.asarray(self.iterations, dtype=np.int64)] + [
            self._slots[var][name] for var in self._variables for name in self.slot_names()]

    def get_state(self) -> list[np.ndarray]:
        """Copies of ``variables``, for saving."""
        return [np.array(a, copy=True) for a in self.variables]

    def set_state(self, state: Sequence[np.ndarray]) -> None:
        """Restore what ``get_state`` returned; the optimizer must be built on the same variables first."""
        expected = 1 + len(self._variables) * len(self.slot_names())
        if len(state) != expected:
            raise ValueError(
                f"Optimizer '{self.name}'.set_state expects {expected} arrays (iterations and "
                f"{len(self.slot_names())} per each of {len(self._variables)} variables), received {len(state)}; "
                "call optimizer.build(model.trainable_variables) before set_state"
            )
        arrays = [np.asarray(a) for a in state]
        for target, value in zip(self.variables[1:], arrays[1:]):
            if target.shape != value.shape:
                raise ValueError(f"Optimizer '{self.name}'.set_state expects an array of shape {target.shape}, "
                                 f"received shape {value.shape}")
        self.iterations = int(arrays[0])
        for target, value in zip(self.variables[1:], arrays[1:]):
            np.copyto(target, value, casting="same_kind")

    def precompile(self, dtype: str = "float32") -> None:
        """Compile this optimizer's fused update for ``dtype`` now instead of at the first large update (Numba
        takes about 0.4 s and 50 MB the first time), by running its rule once on throwaway arrays."""
        if type(self).update_rule is Optimizer.update_rule or backend.numba() is None:
            return  # a custom update_step, or nothing to compile
        rule, names, constants = self.update_rule(self.learning_rate)
        arrays = [np.zeros(updates.COMPILED_MIN_SIZE, dtype=dtype) for _ in range(2 + len(names))]
        updates.update(rule, arrays[0], arrays[1], arrays[2:], constants)

    # ----- weight decay ----------------------------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list: Iterable[Variable] | None = None,
                                  var_names: Iterable[str] | None = None) -> None:
        """Leave these variables (or those whose name contains one of ``var_names``, e.g. 'bias') undecayed."""
        self._exclude_ids |= {id(v) for v in var_list or ()}
        self._exclude_names += tuple(var_names or ())

    def _uses_weight_decay(self, var: Variable) -> bool:
        if id(var) in self._exclude_ids:
            return False
        return not any(name in var.name for name in self._exclude_names)

    # ----- one step --------------------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable[tuple]) -> None:
        """One update from ``[(grad, variable), ...]``; pairs whose grad is None are skipped."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads: Sequence, variables: Sequence[Variable] | None = None) -> None:
        """One update of ``variables`` (default: those the optimizer was built with) from ``grads``, in place."""
        variables = self._variables if variables is None else variables
        variables = variables if type(variables) is list else list(variables)
        if len(grads) != len(variables):
            raise ValueError(f"Optimizer '{self.name}' received {len(grads)} gradients for {len(variables)} "
                             "variables; expected one gradient per variable")
        if any(g is None for g in grads):  # a variable without a gradient is left as it is
            variables = [v for g, v in zip(grads, variables) if g is not None]
            grads = [g for g in grads if g is not None]
        weights = self._storage_of(variables)
        grads = self._clipped([self._as_gradient(g, v, w) for g, v, w in zip(grads, variables, weights)])
        lr = self.learning_rate
        if self.weight_decay:
            for var in variables:
                if self._uses_weight_decay(var):
                    var.assign_sub(var.value * (self.weight_decay * lr))
        if type(self).update_step is not Optimizer.update_step:  # a custom optimizer's own per-variable step
            for g, var in zip(grads, variables):
                self._slots_of(var)
                self.update_step(g, var, lr)
        else:
            rule, names, constants = self.update_rule(lr)
            self._updates.apply(rule, weights, grads, self._states_of(names), constants)
        self._constrain(variables)
        self.iterations += 1

    @staticmethod
    def _constrain(variables: list[Variable]) -> None:
        """w ← constraint(w) for each updated variable that has a constraint, on its value after the update (in
        both kernel modes: the rule has written the storage by now)."""
        for var in variables:
            if var.constraint is not None:
                with no_grad():
                    var.assign(var.constraint(var))

    def _storage_of(self, variables: list[Variable]) -> list[np.ndarray]:
        """The variables' storage arrays, the same list while the same variables return (checked by identity)."""
        cached = self._arrays
        if cached is not None and len(cached[0]) == len(variables) and all(
                a is b for a, b in zip(cached[0], variables)):
            return cached[1]
        for var in variables:
            if not isinstance(var, Variable):
                raise TypeError(f"Optimizer '{self.name}' updates glassnet Variables, received {type(var).__name__}")
        self._arrays = (variables, [var.storage for var in variables], {})
        return self._arrays[1]

    def _states_of(self, names: tuple[str, ...]) -> list[list[np.ndarray]]:
        """For the variables of the last ``_storage_of``, their slots named ``names``, in that order."""
        variables, _, states = self._arrays
        if names not in states:
            states[names] = [[self._slots_of(var)[n] for n in names] for var in variables]
        return states[names]

    def update_rule(self, learning_rate: float) -> tuple[Callable, tuple[str, ...], list[float]]:
        """The optimizer's rule (see kernels/updates.py), the names of the slots it updates in its argument order,
        and its constants for this step."""
        raise NotImplementedError(f"{type(self).__name__} must define update_rule(lr) or update_step(g, w, lr)")

    def update_step(self, gradient: np.ndarray, variable: Variable, learning_rate: float) -> None:
        """Update one variable in place (Keras's hook: a custom optimizer may override this instead)."""
        rule, names, constants = self.update_rule(learning_rate)
        slots = self._slots_of(variable)
        updates.update(rule, variable.storage, gradient, [slots[n] for n in names], constants)

    def _as_gradient(self, grad, var: Variable, storage: np.ndarray) -> np.ndarray:
        """The gradient as an array of the variable's shape and dtype (checked cheaply for a training step's)."""
        if type(grad) is np.ndarray and grad.shape == storage.shape and grad.dtype == storage.dtype:
            return grad
        g = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
        if g.shape != storage.shape:
            raise ValueError(f"Optimizer '{self.name}' received a gradient of shape {g.shape} for variable "
                             f"'{var.name}' of shape {var.shape}")
        return g.astype(var.dtype, copy=False)

    def _clipped(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """The gradients clipped as configured: g·c / max(‖g‖, c) over all of them (global_clipnorm) or per
        variable (clipnorm), or each value into [−c, c] (clipvalue)."""
        if self.global_clipnorm:
            norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
            scale = self.global_clipnorm / max(norm, self.global_clipnorm)
            return [g * g.dtype.type(scale) if scale != 1.0 else g for g in grads]
        if self.clipnorm:
            scales = [self.clipnorm / max(math.sqrt(float(np.vdot(g, g))), self.clipnorm) for g in grads]
            return [g * g.dtype.type(c) if c != 1.0 else g for c, g in zip(scales, grads)]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    # ----- config ----------------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            raise ValueError(
                f"Optimizer '{self.name}' cannot be serialized: its learning_rate is a plain callable "
                f"({lr!r}); use a glassnet.optimizers.schedules.LearningRateSchedule subclass instead"
            )
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self._learning_rate!r}>"

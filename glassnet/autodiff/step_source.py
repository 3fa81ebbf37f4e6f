"""Write a recorded step out as Python: ``forward`` (one line per op) and ``backward`` (one line per op visited
by the backward walk), each line calling the op's own ``forward`` or ``backward`` and carrying its equation.

A line deletes what it read for the last time (``; del dZ2``): every gradient once its op's backward has used it,
and a forward value that no op keeps for backward (a pre-activation whose activation saved its output). A
function's locals live until it returns: an LSTM's step over 200 words peaked at 149 MB of arrays, 47 MB with
the deletes.

Nothing here knows any op's math. The lines call the recorded Function objects, the gradients' bookkeeping
(conversion to the input's dtype, the sum that undoes broadcasting, the sum over paths) is written exactly where
the walk did it on the recorded batch, and each comment is the op's docstring rule with the course's names
substituted (``dW[1] = Xᵀ·dZ[1]``). A value computed in the forward is written by its name in later equations
(``σ(Z[2])`` becomes ``A[2]``).
"""

from __future__ import annotations

import heapq
import inspect
import re
from collections.abc import Sequence

import numpy as np

from glassnet.autodiff.equations import atom, rule_of, substitute
from glassnet.autodiff.graph import Visit
from glassnet.autodiff.naming import identifier, layer_of, snake
from glassnet.autodiff.release import memory_root, saved_memory
from glassnet.autodiff.tensor import Tensor, Variable


class StepSource(str):
    """The text of a written-out step; ``bindings`` are the objects its names refer to (the recorded ops, the
    weights' arrays, the constants). ``exec(source, dict(source.bindings))`` defines the ``forward`` and
    ``backward`` that the step runs."""

    bindings: dict[str, object]

    def __new__(cls, text: str, bindings: dict[str, object]) -> StepSource:
        source = super().__new__(cls, text)
        source.bindings = bindings
        return source

    def __repr__(self) -> str:
        return str(self)


class NamedExpressions:
    """Expressions already computed and their values' names, replaced in a text in the order they were named (a
    later expression may contain an earlier one's name), each only where it stands whole: never inside a longer
    name (``get_item`` is not replaced inside ``get_item_5``).

    An expression can only stand whole in a text whose words include all of its own (a word: a name or number, with
    its step's label), so each is indexed under its longest word and a text tries only the expressions of its
    words: an LSTM over 200 words names thousands of expressions, and trying each on each of its thousands of
    equations took minutes."""

    def __init__(self) -> None:
        self.entries: list[tuple[re.Pattern, str]] = []
        self.index: dict[str, int] = {}  # expression -> its place in entries
        self.by_word: dict[str, list[int]] = {}

    def add(self, expression: str, name: str) -> None:
        pattern = re.compile(rf"(?<![\w⟩\]]){re.escape(expression)}(?![\w⟨\[])")
        if expression in self.index:  # renamed: it keeps its place in the order
            self.entries[self.index[expression]] = (pattern, name)
            return
        self.index[expression] = len(self.entries)
        self.by_word.setdefault(max(_words(expression), key=len, default=""), []).append(len(self.entries))
        self.entries.append((pattern, name))

    def candidates(self, text: str, after: int = -1) -> list[int]:
        return [k for word in {"", *_words(text)} for k in self.by_word.get(word, ()) if k > after]

    def replace(self, text: str) -> str:
        pending = self.candidates(text)
        heapq.heapify(pending)
        tried = set()
        while pending:
            k = heapq.heappop(pending)
            if k in tried:
                continue
            tried.add(k)
            pattern, name = self.entries[k]
            text, count = pattern.subn(lambda _, n=name: n, text)
            if count:  # the name may complete a later expression
                for later in self.candidates(name, after=k):
                    heapq.heappush(pending, later)
        return text


class StepWriter:
    """Writes ``forward(inputs…)`` and ``backward(d<loss>)`` for a recorded step and collects the names its text
    needs bound (the op objects, the weights' arrays, the constants) in ``bindings``."""

    def __init__(self, order: Sequence[Tensor], inputs: Sequence[Tensor], outputs: Sequence[Tensor],
                 names: dict[int, str]):
        self.order, self.inputs, self.outputs, self.display = order, inputs, outputs, names
        self.bindings: dict[str, object] = {"np": np}
        self.op_names: dict[int, str] = {}
        self.named_expressions = NamedExpressions()  # "σ(Z[2])" -> "A[2]"
        self.taken = {identifier(name) for name in names.values()}  # value names, which op names must avoid

    def name(self, t: Tensor) -> str:
        """The identifier of a value, binding it first when it is a weight or a constant."""
        ident = identifier(self.display[id(t)])
        if t.op is None and all(t is not x for x in self.inputs):
            self.bindings[ident] = t._data  # a Variable's array keeps its identity: assign* writes into it
        return ident

    def op_name(self, t: Tensor) -> str:
        """``dense_affine``: the layer's name and the op's, bound to the recorded Function."""
        if id(t) not in self.op_names:
            wanted = snake(f"{layer_of(t) or 'op'}_{type(t.op).__name__}")
            unique, k = wanted, 1
            while unique in self.bindings or unique in self.taken or f"d{unique}" in self.taken:
                k += 1
                unique = f"{wanted}_{k}"
            self.bindings[unique] = t.op
            self.op_names[id(t)] = unique
        return self.op_names[id(t)]

    # ----- equations -------------------------------------------------------------------------------------------
    def shown(self, x: Tensor) -> str:
        """How a value is written in an equation: its course name, or its number for a one-element constant."""
        if x.op is None and not isinstance(x, Variable) and x.size == 1 and all(x is not i for i in self.inputs):
            return f"{float(x._data.reshape(())):g}"
        return self.display[id(x)]

    def symbols(self, t: Tensor) -> dict[str, str]:
        """The docstring's symbols of t's op mapped to the course names of its output, inputs and gradients."""
        fn = t.op
        out = self.display[id(t)]
        table = {}
        parameters = [p.name for p in inspect.signature(type(fn).forward).parameters.values()
                      if p.kind is p.POSITIONAL_OR_KEYWORD][1:]
        for symbol, x in zip(parameters, fn.inputs):
            table.setdefault(symbol, atom(self.shown(x)))
        rule = rule_of(type(fn))
        if rule is not None:
            for (grad, _), x in zip(rule.grads, fn.inputs[len(fn.inputs) - len(rule.grads):]):
                table[grad[1:]] = atom(self.shown(x))
                table[grad] = f"d{self.display[id(x)]}"
            table[rule.output] = out
            table[f"d{rule.output}"] = f"d{out}"
        terms = getattr(fn, "equation_terms", None)  # an op's own parameters in its equation (a slice's index)
        return {**table, **terms(table)} if terms is not None else table

    def named(self, text: str) -> str:
        """Each expression already computed written as its value's name (``σ(Z[2])`` as ``A[2]``)."""
        return self.named_expressions.replace(text)

    def forward_equation(self, t: Tensor) -> str:
        rule = rule_of(type(t.op))
        if rule is not None and rule.forward is not None:
            rhs = self.named(substitute(rule.forward, self.symbols(t)))
        else:
            rhs = f"{snake(type(t.op).__name__)}({', '.join(self.shown(x) for x in t.op.inputs)})"
        if len(t.op.inputs) == 1:
            self.named_expressions.add(rhs, self.display[id(t)])
        return f"{self.display[id(t)]} = {rhs}"

    def backward_equations(self, visit: Visit) -> str:
        t = visit.output
        rule = rule_of(type(t.op))
        grads = dict(zip(range(len(t.op.inputs) - len(rule.grads), len(t.op.inputs)), rule.grads)) if rule else {}
        table = self.symbols(t)
        lines = []
        for j, received in enumerate(visit.received):
            if received is None:
                continue
            lhs = f"d{self.display[id(received.tensor)]}"
            if j in grads:
                lines.append(f"{lhs} = {self.named(substitute(grads[j][1], table))}")
            else:
                lines.append(f"{lhs} = the backward of {snake(type(t.op).__name__)}, from d{self.display[id(t)]}")
        return "; ".join(lines)

    # ----- the two functions -----------------------------------------------------------------------------------
    def forward(self) -> list[str]:
        lines = [f"def forward({', '.join(self.name(x) for x in self.inputs)}):"]
        last_read = {id(x): k for k, t in enumerate(self.order) for x in t.op.inputs if x.op is not None}
        saved = saved_memory(t.op for t in self.order)
        kept = {id(t) for t in self.outputs} | {id(t) for t in self.order if memory_root(t._data) in saved}
        for k, t in enumerate(self.order):
            call = f"{self.name(t)} = {self.op_name(t)}.forward({', '.join(self.name(x) for x in t.op.inputs)})"
            done = dict.fromkeys(self.name(x) for x in t.op.inputs if last_read.get(id(x)) == k and id(x) not in kept)
            if done:  # read for the last time, and kept by no op for backward: its memory can go
                call += f"; del {', '.join(done)}"
            lines.append(_commented(f"    {call}", self.forward_equation(t)))
        lines.append(f"    return [{', '.join(self.name(t) for t in self.outputs)}]")
        return lines

    def backward(self, visits: Sequence[Visit], variables: Sequence[Variable]) -> list[str]:
        lines = [f"def backward(d{self.name(self.outputs[0])}):"]
        for visit in visits:
            upstream = f"d{self.name(visit.output)}"
            into = visit.received[0] is not None and visit.received[0].into  # added in place into the paths' sum
            targets, after = [], []
            for received in visit.received[1:] if into else visit.received:
                if received is None:
                    targets.append("_")
                    continue
                x = received.tensor
                grad = f"d{self.name(x)}"
                part = f"{grad}_part" if received.added else grad
                targets.append(part)
                if received.cast:
                    cast = f"np.asarray({part}, dtype=np.{x.dtype.name})"
                    after.append(f"    {part} = {cast}  # to {self.display[id(x)]}'s dtype")
                if received.unbroadcast:
                    after.append(f"    {part} = unbroadcast({part}, {tuple(x.shape)})  # Σ over broadcast axes")
                if received.added:
                    after.append((grad, part))
            if into:
                call = (f"{self.op_name(visit.output)}.backward_into(d{self.name(visit.received[0].tensor)}, "
                        f"{upstream}); del {upstream}")
                equation = substitute(type(visit.output.op).into, self.symbols(visit.output))
                equation = f"{self.named(equation)}  (the sum over paths, in place)"
            else:
                call = f"{self.op_name(visit.output)}.backward({upstream})"
                if visit.output is not self.outputs[0]:  # used: freed, so the walk holds only the gradients ahead
                    call += f"; del {upstream}"
                equation = self.backward_equations(visit)
            if any(target != "_" for target in targets):
                call = ", ".join(targets) + ("," if visit.returned_tuple and len(targets) == 1 else "") + " = " + call
            lines.append(_commented(f"    {call}", equation))
            last_use = {entry[1]: k for k, entry in enumerate(after) if isinstance(entry, tuple)}
            lines += [entry if isinstance(entry, str) else _path_sum(*entry, last_use[entry[1]] == k)
                      for k, entry in enumerate(after)]
        lines.append(f"    return [{', '.join(f'd{self.name(v)}' for v in variables)}]")
        return lines


def _path_sum(grad: str, part: str, last_use: bool) -> str:
    """``dc_2 = dc_2 + dc_2_part``, deleting the part once added for the last time (else a step's dc⟨t⟩ parts, one
    name per timestep, would all stay until the backward returns)."""
    return f"    {grad} = {grad} + {part}{f'; del {part}' if last_use else ''}  # the sum over paths"


def _words(text: str) -> list[str]:
    """The names and numbers in a text, a step's label kept whole (``z_i⟨5⟩``, not ``z_i`` shared by every step)."""
    return re.findall(r"\w+(?:⟨\w+⟩)?", text)


def _commented(code: str, equation: str) -> str:
    return f"{code.ljust(60)}  # {equation}"

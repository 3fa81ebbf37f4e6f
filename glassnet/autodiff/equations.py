"""An op's equations, read from its Function's docstring, and written with the names of the tensors it ran on.

Every op states its math once, in the first lines of its docstring: the forward, then ``Backward:`` and one
gradient per input (``a = σ(z).  Backward: dz = da · a(1 − a)``). ``inspect.explain`` and the written-out training
step (``autodiff.plan``) both read it from here, so the comment beside a line of the step and the equation in
``explain`` are the same text, and a custom op documents itself the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REMARK = re.compile(r"\s*\((?=[^()]*[a-z]{4,})(?![^()]*[−+·/*=])[^()]*\)")  # "(elementwise)", not "(1 − rate)"
_LETTER = "A-Za-zα-ωΑ-Ω_"


@dataclass
class Rule:
    """What an op's docstring says: its output's symbol, its forward expression, its gradients in input order."""

    output: str  # the output's symbol in the docstring ("a")
    forward: str | None  # the forward expression ("σ(z)"), None when unreadable
    grads: list[tuple[str, str]]  # [("dz", "da · a(1 − a)")], in input order: the last len(grads) inputs


def cut(expr: str) -> str:
    """An expression up to the first ', ' or '. ' outside brackets, without English remarks in parentheses."""
    depth = 0
    for i, ch in enumerate(expr):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and expr[i:i + 2] in (", ", ". ") or (depth == 0 and expr[i:] == "."):
            expr = expr[:i]
            break
    return _REMARK.sub("", expr).strip()


def rule_of(fn_type: type) -> Rule | None:
    """The Rule in ``fn_type``'s docstring (``out = forward.  Backward: dx = …, dy = …``), None if it has none."""
    doc = " ".join((fn_type.__doc__ or "").split())
    head = re.match(r"\s*([A-Za-z]\w*)\s*=\s*(.*)", doc)
    if not head:
        return None
    forward_text, _, backward_text = head.group(2).partition("Backward:")
    grads = []
    marks = list(re.finditer(r"\b(d[A-Za-z]\w*)\s*=\s*", backward_text))
    for i, mk in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(backward_text)
        grads.append((mk.group(1), cut(backward_text[mk.end():end])))
    return Rule(head.group(1), cut(forward_text) or None, grads)


def substitute(text: str, names: dict[str, str]) -> str:
    """Replace whole symbols in one pass (so a replacement is never replaced again)."""
    if not names:
        return text
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    pattern = rf"(?<![{_LETTER}\]])(" + alternatives + rf")(?![{_LETTER}\[])"  # "2x", "z²", "Xᵀ" are matches
    return re.sub(pattern, lambda m: names[m.group(1)], text)


def atom(expr: str) -> str:
    """Parenthesize an expression before it is placed inside another, when it has a space outside brackets
    (``A[1] − Y``); tight ones (``X·W[1]``, ``σ(Z[1])``) stay as they are."""
    depth = 0
    for ch in expr.strip():
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == " " and depth == 0:
            return f"({expr})"
    return expr

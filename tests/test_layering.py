"""What the import contract (pyproject's [tool.importlinter], checked by ``lint-imports``) does not see: private
names taken from another module, and Tensor's operators when only the engine is imported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import glassnet

PACKAGE = Path(glassnet.__file__).parent

# module that uses the name → the private names it may still use; to be removed by the step rewrite
ALLOWED = {"glassnet.autodiff.function": {"glassnet.autodiff.tensor._state"}}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_names_used(path: Path) -> list[tuple[int, str]]:
    """(line, module.name) for each private name of another glassnet module that ``path`` imports or reads."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: dict[str, str] = {}  # local name → the glassnet module it is bound to
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "glassnet":
                    modules[alias.asname or "glassnet"] = alias.name if alias.asname else "glassnet"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "glassnet":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if _is_module(full):
                    modules[alias.asname or alias.name] = full
                elif _private(alias.name):
                    found.append((node.lineno, full))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                and node.value.id in modules):
            found.append((node.lineno, f"{modules[node.value.id]}.{node.attr}"))
    return found


def test_no_module_uses_a_private_name_of_another():
    misuses = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = _module_name(path)
        for line, name in _private_names_used(path):
            if name.rpartition(".")[0] != me and name not in ALLOWED.get(me, set()):
                misuses.append(f"{path.relative_to(PACKAGE.parent)}:{line} uses {name}")
    assert not misuses, "private names used outside their module:\n" + "\n".join(misuses)


def test_the_check_finds_a_private_name(tmp_path):
    source = tmp_path / "user.py"
    source.write_text("from glassnet.models import summary\n"
                      "from glassnet.models.summary import _hidden, param_count\n"
                      "x = summary._other(param_count)\n")
    assert sorted(_private_names_used(source)) == [(2, "glassnet.models.summary._hidden"),
                                                   (3, "glassnet.models.summary._other")]


def test_tensor_operators_come_with_the_engine_alone():
    """autodiff never imports glassnet.ops (which attaches the operators); importing any glassnet module runs
    glassnet/__init__.py first, which does."""
    code = ("from glassnet.autodiff import Tensor\n"
            "t = Tensor([1.0, 2.0])\n"
            "print((t * 2 + 1).sum().item(), (-t)[0].item(), (t @ t).item())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["8.0", "-1.0", "5.0"]

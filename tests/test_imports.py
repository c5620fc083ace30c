"""The import rules of the monorepo, read from the sources with ``ast`` (nothing is imported).

- Layering: a package imports only the packages below it (see DEVELOPERS.md), declares each of
  them in its pyproject.toml, never imports the heavy third-party modules its layer must not need,
  and no distribution ships ``dings/__init__.py``.
- Public names only: what one package takes from another comes from the other's top level
  (``from dings.format import FileWriter``), is listed in its ``__all__`` and has no leading
  underscore. Submodules of another package (``dings.format.verify``) are its own business.
- No import cycles between the modules of a package, counting imports inside functions too
  (a lazy import that closes a cycle still ties two modules to each other).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "packages"

# package -> the dings packages it may import
ALLOWED = {
    "format": set(),
    "readers": {"format"},
    "tools": {"format", "readers"},
    "sets": {"format", "readers", "tools"},
    "torch": {"format", "readers"},
    "cli": {"format", "readers", "tools", "sets"},
}
# third-party modules a package must never import
FORBIDDEN_THIRD_PARTY = {
    "format": {"torch", "PIL", "scipy", "cv2"},
    "readers": {"torch", "PIL", "scipy", "cv2"},
    "tools": {"torch"},
    "torch": set(),
    "sets": set(),
    "cli": set(),
}


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    module: str  # absolute module imported from (or imported)
    names: tuple[str, ...]  # names taken with ``from … import``; empty for ``import x``
    top_level: bool  # executed on import of the module (not inside a function or TYPE_CHECKING)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(source_root(path)).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_root(path: Path) -> Path:
    """The ``src`` folder that holds ``path``."""
    for parent in path.parents:
        if parent.name == "src":
            return parent
    raise ValueError(path)


def package_sources() -> dict[str, list[Path]]:
    return {name: sorted((PACKAGES / f"dings-{name}" / "src" / "dings" / name).rglob("*.py")) for name in ALLOWED}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, False)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit(ast.Module(body=[stmt], type_ignores=[]), False)
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), top)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(path, child.lineno, alias.name, (), top))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                found.append(Import(path, child.lineno, module, tuple(a.name for a in child.names), top))
            else:
                visit(child, top)

    visit(tree, True)
    return found


def exported(package: str) -> set[str]:
    """The names in ``dings.<package>.__all__``, read from its ``__init__.py``."""
    init = PACKAGES / f"dings-{package}" / "src" / "dings" / package / "__init__.py"
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets) and node.value is not None:
                return set(ast.literal_eval(node.value))
    return set()


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


ALL_IMPORTS = {name: [imp for path in paths for imp in imports_of(path)] for name, paths in package_sources().items()}


def declared_deps(package: str) -> set[str]:
    text = (PACKAGES / f"dings-{package}" / "pyproject.toml").read_text(encoding="utf-8")
    return set(re.findall(r'"dings-([a-z]+)', text))


@pytest.mark.parametrize("package", list(ALLOWED))
def test_layering_holds(package):
    deps = declared_deps(package)
    problems = []
    if (PACKAGES / f"dings-{package}" / "src" / "dings" / "__init__.py").exists():
        problems.append(f"dings-{package} ships dings/__init__.py: 'dings' must stay a namespace package")
    for imp in ALL_IMPORTS[package]:
        parts = imp.module.split(".")
        where = f"{rel(imp.file)}:{imp.line}"
        if parts[0] == "dings" and len(parts) > 1 and parts[1] != package:
            if parts[1] not in ALLOWED[package]:
                problems.append(f"{where}: dings.{package} must not import dings.{parts[1]}")
            elif parts[1] not in deps:
                problems.append(f"{where}: imports dings.{parts[1]} but pyproject does not depend on dings-{parts[1]}")
        elif parts[0] in FORBIDDEN_THIRD_PARTY[package]:
            problems.append(f"{where}: dings.{package} must not import {parts[0]}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("package", list(ALLOWED))
def test_other_packages_are_used_through_their_public_names(package):
    problems = []
    for imp in ALL_IMPORTS[package]:
        parts = imp.module.split(".")
        if parts[0] != "dings" or len(parts) < 2 or parts[1] == package:
            continue
        target = parts[1]
        where = f"{rel(imp.file)}:{imp.line}"
        if len(parts) > 2:
            problems.append(f"{where}: imports {imp.module}; import from dings.{target} (its top level) instead")
            continue
        public = exported(target)
        for name in imp.names:
            if name.startswith("_"):
                problems.append(f"{where}: imports the private name {name} from dings.{target}")
            elif name not in public:
                problems.append(f"{where}: imports {name}, which dings.{target}.__all__ does not export")
    assert not problems, "\n".join(problems)


def module_graph(package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (at import time or inside functions)."""
    paths = package_sources()[package]
    modules = {module_name(p) for p in paths}
    graph: dict[str, set[str]] = {module_name(p): set() for p in paths}
    for path in paths:
        source = module_name(path)
        for imp in imports_of(path):
            if imp.module.split(".")[:2] != ["dings", package]:
                continue
            targets = {f"{imp.module}.{n}" for n in imp.names if f"{imp.module}.{n}" in modules}
            if len(targets) < len(imp.names) or not imp.names:
                targets.add(imp.module)  # names defined in the module itself (or ``import x``)
            # importing a.b.c runs a and a.b first
            for target in list(targets):
                parts = target.split(".")
                targets.update(".".join(parts[:i]) for i in range(3, len(parts)))
            graph[source].update(t for t in targets if t in modules and t != source)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def _is_package_init_edge(source: str, target: str) -> bool:
    # a package's __init__ imports its modules; those modules importing a sibling through the
    # package (``from . import x`` where x is a module) do not form a cycle of their own
    return source.startswith(target + ".")


@pytest.mark.parametrize("package", list(ALLOWED))
def test_no_import_cycles_between_modules(package):
    graph = module_graph(package)
    graph = {m: {t for t in targets if not _is_package_init_edge(m, t)} for m, targets in graph.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_rules_catch_what_they_are_meant_to(tmp_path):
    """The checker itself: a cross-package private import, a submodule import and a cycle are seen."""
    src = tmp_path / "src" / "dings" / "demo"
    src.mkdir(parents=True)
    (src / "__init__.py").write_text("from .a import f\n__all__ = ['f']\n")
    (src / "a.py").write_text("from .b import g\n\ndef f():\n    from dings.format.verify import x\n")
    (src / "b.py").write_text("from dings.format import _private\nfrom . import a\n")
    imports = {module_name(p): imports_of(p) for p in sorted(src.rglob("*.py"))}
    assert set(imports) == {"dings.demo", "dings.demo.a", "dings.demo.b"}
    (a_b,) = [i for i in imports["dings.demo.a"] if i.top_level]
    assert a_b.module == "dings.demo.b"
    (lazy,) = [i for i in imports["dings.demo.a"] if not i.top_level]
    assert lazy.module == "dings.format.verify"
    assert ("dings.format", ("_private",)) in [(i.module, i.names) for i in imports["dings.demo.b"]]
    assert find_cycle({"a": {"b"}, "b": {"a"}, "c": set()}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None

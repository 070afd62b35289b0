"""The import structure of the packages, read from the source with ``ast``.

- No import cycle among the modules of a package, counting imports inside functions
  (a function-local import hides a cycle from Python, not from a reader); imports under
  ``if TYPE_CHECKING:`` never run and do not count.
- ``algebra`` never imports torch; ``neural`` never imports algebra or bridge.
- ``bridge`` uses only the public names of ``algebra`` and ``neural``: no
  ``from algebra._x import ...``, ``import neural._x``, ``from neural import _x`` or
  ``algebra._x`` attribute access.
- Inside a package, a module imports no ``_name`` from a sibling module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("algebra", "neural", "bridge")


def modules(package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package`` (subpackages too)."""
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """Every module ``path`` imports, anywhere in the file (resolved to ``known`` names
    where a ``from package import submodule`` names a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
            and _is_type_checking(node) for b in node.body for n in ast.walk(b)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            subs = {f"{base}.{a.name}" for a in node.names} & known
            found.update(subs)
            if len(subs) < len(node.names):  # a name defined in ``base`` itself
                found.add(base)
    return found


def graph(package: str) -> dict[str, set[str]]:
    mods = modules(package)
    known = set(mods)
    return {name: imported_modules(path, name, known) & known for name, path in mods.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph as a list of nodes, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_one_and_only_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_function_local_imports_count(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.t\n"
                    "def f():\n    from pkg import sub\n    import pkg._x\n")
    assert imported_modules(path, "pkg.m", {"pkg.sub", "pkg._x", "pkg.t"}) == {
        "typing", "pkg.sub", "pkg._x"}
    assert "pkg.t" not in imported_modules(path, "pkg.m", {"pkg.t"})


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_a_package(package):
    edges = graph(package)
    assert len(edges) > 5  # the package's modules were found
    cycle = find_cycle(edges)
    assert cycle is None, f"import cycle in {package}: {' -> '.join(cycle)}"


@pytest.mark.parametrize(("package", "forbidden"),
                         [("algebra", ("torch", "neural", "bridge")),
                          ("neural", ("algebra", "bridge"))])
def test_package_layering(package, forbidden):
    bad = sorted(
        f"{name} imports {mod}"
        for name, path in modules(package).items()
        for mod in imported_modules(path, name, set())
        if mod.split(".")[0] in forbidden
    )
    assert not bad, bad


def private_uses(path: Path) -> list[str]:
    """Private names of algebra or neural that a bridge file imports or reads."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad: list[str] = []

    def private(name: str) -> bool:
        return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
            bad += [f"line {node.lineno}: import {m}" for m in mods
                    if m.split(".")[0] in ("algebra", "neural") and any(map(private, m.split(".")))]
        elif isinstance(node, ast.ImportFrom) and node.module:
            top, *rest = node.module.split(".")
            if top in ("algebra", "neural") and (any(map(private, rest)) or any(
                    private(a.name) for a in node.names)):
                names = ", ".join(a.name for a in node.names)
                bad.append(f"line {node.lineno}: from {node.module} import {names}")
        elif (isinstance(node, ast.Attribute) and private(node.attr)
              and isinstance(node.value, ast.Name) and node.value.id in ("algebra", "neural")):
            bad.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return bad


def test_private_use_detection(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("from algebra._oracles import ORACLES\nimport neural._train\n"
                    "from neural import _train, DIGITS_RECIPE\nx = algebra._approx\n"
                    "from algebra import __version__, METHODS\ny = neural.__name__\n")
    found = " ".join(private_uses(path))
    for text in ("algebra._oracles", "neural._train", "from neural import _train",
                 "algebra._approx"):
        assert text in found
    assert "__version__" not in found and "__name__" not in found


def test_bridge_uses_only_public_names_of_algebra_and_neural():
    bad = {name: uses for name, path in modules("bridge").items()
           if (uses := private_uses(path))}
    assert not bad, (f"bridge reaches into private modules or names: {bad}; export the name "
                     "from the package's __init__ (and __all__) and import it from there.")


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_share_only_names_without_underscore(package):
    # A leading underscore means "this module only"; a helper another module needs is
    # named without one (its module still being private to the package).
    mods = modules(package)
    bad = []
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in mods:
                bad += [f"{name} line {node.lineno}: from {node.module} import {a.name}"
                        for a in node.names
                        if a.name.startswith("_") and f"{node.module}.{a.name}" not in mods]
    assert not bad, bad

"""The house plan: the import graph of gateway/ has no cycle and each layer imports only below.

The graph is read with the standard library (``ast``) from the source, so it holds every
import: module level, inside functions and under ``TYPE_CHECKING`` alike — a cycle broken by
an import placed late is still a cycle in the design. ``from package import name`` counts as
an import of the submodule when ``name`` is one, else of the package itself.

The layers, bottom up (a unit is a module at the root of gateway/ or a subpackage). A unit may
import its own layer and the layers below, never one above. docs/architecture.md explains
them and draws them; a test here keeps it naming every subpackage.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gateway"
DOC = ROOT / "docs" / "architecture.md"

LAYERS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (name, frozenset(units.split()))
    for name, units in (
        ("foundations", "__init__ errors log model jsonable fsutil"),
        ("transport", "transport"),  # below config: config reads transport's endpoint tables
        ("config", "config"),
        ("formats", "x12 ncpdp"),
        ("format tools", "detect render synth"),  # built on both formats, used above them
        ("store", "store"),
        ("routing", "routing"),
        ("reconcile/alerts", "reconcile alerts lifecycle"),
        ("daemon", "daemon"),
        ("service", "service"),
        ("faces", "console cli ops __main__"),
    )
)
FOUNDATIONS = LAYERS[0][1]

# Cycles allowed for now, each with why (an empty set is the goal; a listed cycle that is gone
# fails the test, so the list only shrinks).
ALLOWED_CYCLES: dict[frozenset[str], str] = {}

MAX_LINES = 400  # every module, no exception


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The gateway modules ``name`` imports, resolved to the most precise module known."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            subs = {f"{base}.{alias.name}" for alias in node.names}
            found.update(subs & modules.keys() if subs <= modules.keys() else {base})
    return {_known(target, modules) for target in found if target.split(".")[0] == "gateway"}


def _known(target: str, modules: dict[str, Path]) -> str:
    while target not in modules:
        target = target.rpartition(".")[0]
    return target


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) - {name} for name, path in modules.items()}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(unit: str) -> int:
    for rank, (_, units) in enumerate(LAYERS):
        if unit in units:
            return rank
    raise AssertionError(f"gateway/{unit} is in no layer: add it to LAYERS and the doc")


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))
    return found


def test_the_graph_is_read_from_the_source():
    graph = import_graph()
    assert "gateway.ncpdp.reader" in graph["gateway.detect"]
    assert "gateway.store.postgres" in graph["gateway.store"]  # an import inside a function


def test_no_import_cycle():
    found = set(cycles(import_graph()))
    unexpected = [sorted(c) for c in found - ALLOWED_CYCLES.keys()]
    assert not unexpected, f"import cycles: {unexpected}"
    gone = [sorted(c) for c in ALLOWED_CYCLES.keys() - found]
    assert not gone, f"no longer cycles, drop them from ALLOWED_CYCLES: {gone}"


def test_a_cycle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]


def test_each_layer_imports_only_its_own_and_lower_layers():
    upward = sorted(
        f"{source} -> {target}"
        for source, targets in import_graph().items()
        for target in targets
        if _rank(_unit(target)) > _rank(_unit(source))
    )
    assert not upward, "imports of a higher layer:\n" + "\n".join(upward)


def test_parsers_and_the_store_do_not_know_the_transport():
    """Transport sits low only because config builds Sources and Sinks from its tables; the
    formats, their tools and the store stay independent of it (file-system helpers are in
    fsutil, below all three)."""
    independent = {"x12", "ncpdp", "detect", "render", "synth", "store"}
    reaching = sorted(
        f"{source} -> {target}"
        for source, targets in import_graph().items()
        for target in targets
        if _unit(source) in independent and _unit(target) == "transport"
    )
    assert not reaching, "imports of the transport:\n" + "\n".join(reaching)


def test_the_root_holds_only_the_package_face_and_foundations():
    roots = {p.stem for p in PACKAGE.glob("*.py")}
    # detect sniffs X12 from NCPDP for everything above the formats: a root-level face
    assert roots <= FOUNDATIONS | {"__main__", "detect"}, sorted(roots - FOUNDATIONS)


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.relative_to(PACKAGE).as_posix()
)
def test_modules_are_at_most_400_lines(path):
    relative = path.relative_to(ROOT).as_posix()
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{relative} is {lines} lines (split it by concept)"


def test_the_architecture_doc_names_every_subpackage_and_layer():
    text = DOC.read_text(encoding="utf-8")
    packages = sorted(
        p.parent.relative_to(ROOT).as_posix() + "/" for p in PACKAGE.rglob("__init__.py")
    )
    missing = [p for p in packages if f"`{p}`" not in text]
    assert not missing, f"docs/architecture.md does not name {missing}"
    layers = [name for name, _ in LAYERS if name not in text]
    assert not layers, f"docs/architecture.md does not name the layers {layers}"

"""The import graph of casework/, web/ and workers/, read from the source (no module is imported):
no cycle through module-level imports, and the domain (casework/) never imports Flask.

An import at module level (also in a class body, an ``if`` or a ``try`` at module level) runs
when its module is imported; an import inside a function runs when the function is called.
Only the first kind can make a cycle that fails or half-initialises a module, so a cycle of
them is the failure. Imports at call time are kept apart: a cycle that one of them closes is
shown as a warning (often a function living in the wrong module). Imports under
``if TYPE_CHECKING:`` never run and count as imports at call time.

Importing ``a.b.c`` also runs ``a/__init__.py`` and ``a/b/__init__.py``; those implicit
parent imports are not edges here, or every package whose __init__ imports its own modules
would be a cycle with each of them.
"""
from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("casework", "web", "workers")

# Module-level imports (importer, imported) that close a known cycle and are left out of the
# graph. Delete an entry when its cycle is gone.
ALLOWED: set[tuple[str, str]] = set()  # no cycle is allowed; name one here only with the reason
# the web framework and its HTTP layer; flask_* extensions too (Jinja is only a template engine:
# casework/mediation/document.py uses it)
FLASK = ("flask", "werkzeug")


@dataclass
class Module:
    name: str
    path: Path
    at_import: set[str] = field(default_factory=set)  # internal modules imported at module level
    at_call: set[str] = field(default_factory=set)  # ... only inside functions
    external: dict[str, int] = field(default_factory=dict)  # top-level package -> first line


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.Module):
    """(names imported, at module level?, line) of every import statement; for ``from x import
    a, b`` the names are x.a and x.b (modules or not: resolved against the graph later)."""
    def visit(node: ast.AST, in_function: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                yield [a.name for a in child.names], not in_function, child.lineno, None
            elif isinstance(child, ast.ImportFrom):
                yield [a.name for a in child.names], not in_function, child.lineno, child
            else:
                yield from visit(child, in_function or isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) or _type_checking(child))
    yield from visit(tree, False)


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or \
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def build_graph() -> dict[str, Module]:
    modules = {_module_name(p): Module(_module_name(p), p)
               for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}
    for mod in modules.values():
        is_package = mod.path.name == "__init__.py"
        try:
            source = mod.path.read_text(encoding="utf-8")
        except FileNotFoundError:  # moved away while the tree was read
            continue
        for names, at_import, line, node in _imports(ast.parse(source)):
            if node is None:
                targets = names
            else:
                base = node.module or ""
                if node.level:  # relative: from the module's package upwards
                    package = mod.name.split(".") if is_package else mod.name.split(".")[:-1]
                    package = package[:len(package) - node.level + 1]
                    base = ".".join([*package, *([base] if base else [])])
                # `from x import y` imports the module x.y when there is one, else names of x
                targets = [f"{base}.{n}" if f"{base}.{n}" in modules else base for n in names]
            for target in targets:
                if target.split(".")[0] not in PACKAGES:
                    mod.external.setdefault(target.split(".")[0], line)
                    continue
                while target not in modules and "." in target:  # import a.b.name: the module a.b
                    target = target.rsplit(".", 1)[0]
                if target in modules and target != mod.name:
                    (mod.at_import if at_import else mod.at_call).add(target)
    return modules


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a list of modules, the first repeated at the end) for each strongly connected
    component of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return [_a_cycle(edges, component) for component in components]


def _a_cycle(edges: dict[str, set[str]], component: list[str]) -> list[str]:
    """The shortest way from the component's first module back to itself, inside it."""
    start, inside = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(edges.get(node, ()) & inside):
                if child == start:
                    return [*paths[node], start]
                if child not in paths:
                    paths[child] = [*paths[node], child]
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in {component}")


def module_level_edges(modules: dict[str, Module]) -> dict[str, set[str]]:
    return {name: {t for t in mod.at_import if (name, t) not in ALLOWED} for name, mod in modules.items()}


def test_no_import_cycle_at_module_level():
    modules = build_graph()
    assert len(modules) > 100 and "casework.workflow.machine" in modules  # the graph was read
    found = cycles(module_level_edges(modules))
    assert not found, (
        "modules that import each other when they are imported (move what one takes from the other to\n"
        "where it belongs; import at call time only when it has no better home):\n"
        + "\n".join("  " + " -> ".join(c) for c in found))


def test_cycles_through_imports_at_call_time_are_reported():
    """A cycle that only an import inside a function closes cannot fail an import, so it is not a
    failure; it is shown among pytest's warnings (a function that may live in the wrong module)."""
    modules = build_graph()
    at_import = module_level_edges(modules)
    both = {name: at_import[name] | mod.at_call for name, mod in modules.items()}
    found = [c for c in cycles(both) if any(b not in at_import[a] for a, b in zip(c, c[1:]))]
    for cycle in found:
        warnings.warn(f"import cycle closed by an import at call time: {' -> '.join(cycle)}", stacklevel=1)
    counts = (sum(len(m.at_import) for m in modules.values()),
              sum(len(m.at_call - m.at_import) for m in modules.values()))
    assert counts[0] > 0 and counts[1] > 0, counts  # both kinds were read


def test_casework_never_imports_flask():
    """The domain runs without the web framework: the workers and the CLI use it too."""
    offenders = [f"{mod.path.relative_to(ROOT)}:{line} imports {package}"
                 for mod in build_graph().values() if mod.name.split(".")[0] == "casework"
                 for package, line in sorted(mod.external.items())
                 if package in FLASK or package.startswith("flask_")]
    assert not offenders, "\n".join(offenders)


def test_casework_never_imports_web_or_workers():
    offenders = [f"{mod.path.relative_to(ROOT)} imports {target}"
                 for mod in build_graph().values() if mod.name.split(".")[0] == "casework"
                 for target in sorted(mod.at_import | mod.at_call) if target.split(".")[0] in ("web", "workers")]
    assert not offenders, "\n".join(offenders)


def test_cycles_are_found_and_printed():
    """The finder itself, on a small graph: a -> b -> c -> a and d -> e -> d; f alone."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "f"}, "d": {"e"}, "e": {"d"}, "f": set()}
    assert sorted(cycles(edges)) == [["a", "b", "c", "a"], ["d", "e", "d"]]
    assert cycles({"a": {"b"}, "b": set()}) == []

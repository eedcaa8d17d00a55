"""The house rules, checked on the source: who may import whom (no upward imports), no import cycle and no import
below a module's first statement, no private names across modules, the engine never imports streamlit, and pages
reach the engine through its public functions only. See docs/architecture.md for the picture."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "weakneg"

# Each engine part and its layer: a module may import its own part and parts of a lower layer, never higher.
LAYERS = {
    "errors": 0,
    "registry": 0,
    "declared": 0,
    "paths": 0,
    "metrics": 0,
    "claims": 0,
    "migrations": 0,
    "limits": 0,
    "liveness": 0,
    "targets": 0,
    "version": 0,
    "extras": 0,
    "config_file": 0,
    "run_result": 0,
    "threads": 0,
    "numba_cache": 0,
    "allocator": 0,
    "store": 1,
    "data": 1,
    "models": 1,
    "samplers": 2,
    "config": 3,
    "projection": 3,
    "train": 4,
    "train_multilabel": 4,
    "batched_seeds": 5,
    "jobs": 5,
    "comparison": 5,
    "paired_stats": 5,
    "curves": 5,
    "bench": 5,
    "playground": 5,
    "mil_benchmark": 5,
    "milcheck": 6,
    "sweep": 6,
    "run_actions": 6,
    "class_maps": 6,
    "named_selections": 6,
    "views": 7,
    "report": 7,
    "cli": 7,
    "tracking": 7,
    "__main__": 8,
    "__init__": 0,
}


def engine_modules():
    return sorted(p for p in ENGINE.rglob("*.py") if "versions" not in p.parts)


def part_of(path: Path) -> str:
    return path.relative_to(ENGINE).parts[0].removesuffix(".py")


def imports(path: Path):
    """(imported module as a dotted name, names taken from it) for every import in a file, relative ones resolved."""
    inside = ENGINE in path.parents
    package = ["weakneg", *path.relative_to(ENGINE).parent.parts] if inside else []  # pages: absolute only
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [a.name for a in node.names]
            if node.module is None:  # `from . import x`: x is a module of that package
                for name in names:
                    yield f"{module}.{name}", []
            else:
                yield module, names


@pytest.mark.parametrize("path", engine_modules(), ids=lambda p: str(p.relative_to(ENGINE)))
def test_no_upward_imports_and_no_streamlit_in_the_engine(path):
    here = part_of(path)
    for module, _ in imports(path):
        assert not module.startswith("streamlit"), f"{path.name} imports streamlit: the engine never does"
        if module.startswith("weakneg.") and module != "weakneg":
            there = module.split(".")[1]
            assert there == here or LAYERS[there] <= LAYERS[here], (
                f"{path.relative_to(ROOT)} ({here}, layer {LAYERS[here]}) imports {module} (layer {LAYERS[there]})"
            )


@pytest.mark.parametrize(
    "path",
    [*engine_modules(), *sorted((ROOT / "app_pages").glob("*.py")), ROOT / "app.py"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_private_names_from_other_modules(path):
    for module, names in imports(path):
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{path.relative_to(ROOT)} imports private {private} from {module}"


@pytest.mark.parametrize("path", [*sorted((ROOT / "app_pages").glob("*.py")), ROOT / "app.py"], ids=lambda p: p.name)
def test_pages_use_the_engine_not_the_database_or_models(path):
    for module, _ in imports(path):
        assert module.split(".")[0] not in ("sqlalchemy", "torch", "sqlite3"), f"{path.name} imports {module}"


def test_every_engine_part_has_a_layer():
    assert {part_of(p) for p in engine_modules()} <= set(LAYERS)


def module_name(path: Path) -> str:
    parts = ["weakneg", *path.relative_to(ENGINE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Engine module -> the engine modules it imports, inside functions too (a lazy import still closes a loop).
    `from package import name` points at the module `package.name` when there is one, else at the package."""
    modules = {module_name(p): p for p in engine_modules()}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for module, names in imports(path):
            for target in [f"{module}.{n}" for n in names] or [module]:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]  # a name defined in a module, not a module itself
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (the first repeated at the end), or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_one_and_only_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_engine_has_no_import_cycle():
    graph = import_graph()
    assert graph["weakneg.data"] >= {"weakneg.data.audio", "weakneg.data.registry"}  # the graph sees the imports
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("path", engine_modules(), ids=lambda p: str(p.relative_to(ENGINE)))
def test_imports_come_before_the_first_statement(path):
    """No import at the bottom of a module (the old way of registering plugins around a cycle)."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    started = False
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            assert not started, f"{path.relative_to(ROOT)}:{node.lineno} imports below the module's first statement"
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):  # the docstring
            started = True

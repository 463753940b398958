"""The layout's contracts: dependencies run one way with no cycles, and the code is lint-clean.

Besides import-linter's contracts, the layout is checked here on a graph of EVERY import of the
project's modules: module-level ones, those inside functions (how commands keep `--help` fast
and how the batch runner reaches the Dask engine), and modules named in a string to
`importlib.import_module` (how the code shipped to Dask workers reaches the project). A circle
through any of them, e.g. runner -> cluster -> worker_code -> "experiments.batch.runner", is
a failure.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("crypto401k", "cli", "viz", "experiments", "model", "agents")


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed in the project environment (uv sync installs it)")
    return found


def test_import_contracts_hold():
    # interfaces -> experiments -> model -> agents, and no cycle between the modules of a package
    result = subprocess.run([_tool("lint-imports")], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_ruff_lint_and_format_are_clean():
    ruff = _tool("ruff")
    lint = subprocess.run([ruff, "check", "."], cwd=REPO, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout[-3000:]
    fmt = subprocess.run([ruff, "format", "--check", "."], cwd=REPO, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout[-3000:]


def test_participants_have_no_step_of_their_own():
    # the quarter is one vectorised pass; a per-agent `do("step")` must not silently run another model
    from agents.participant import Participant
    from model.model import Crypto401kModel

    m = Crypto401kModel("baseline", rng=0, n_participants=200, n_employers=20)
    with pytest.raises(TypeError, match="vectorised pass"):
        m.agents_by_type[Participant].do("step")
    assert len(m.agents_by_type[Participant]) == 200


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(root: Path, path: Path, known: set[str]) -> set[str]:
    """Every project module `path` imports, wherever the import stands, and every project module
    it names in a string: passed to `import_module`, or a dotted module name ("a.b" or "a.b:name")
    anywhere (how code that may not import the project names what a worker imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(root, path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == (
            "import_module"
        ):
            names = [
                a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(PACKAGES)
        ):
            text = node.value.split(":")[0]
            if "." in text and text in known and text != me:  # a dotted module name: a reference by name
                names = [text]
        for name in names:
            while name and name not in known:  # `from a.b import c` names a module or a name in one
                name = name.rpartition(".")[0]
            if name and name != me:
                found.add(name)
    return found


def import_graph(root: Path, packages=PACKAGES) -> dict[str, set[str]]:
    """Project module -> the project modules it imports (by statement anywhere or by name)."""
    files = {module_name(root, f): f for pkg in packages for f in (root / pkg).rglob("*.py")}
    known = set(files)
    return {name: imports_of(root, path, known) for name, path in files.items()}


def sibling_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles between the children of any package (a child counts with its descendants)."""
    cycles = []
    packages = {m.rpartition(".")[0] for m in graph} | {
        m for m in graph if any(o.startswith(m + ".") for o in graph)
    }
    for pkg in sorted(p for p in packages if p):
        prefix = pkg + "."

        def child(module: str, prefix=prefix) -> str | None:
            if not module.startswith(prefix):
                return None
            return prefix + module[len(prefix) :].split(".")[0]

        edges: dict[str, set[str]] = {}
        for src, targets in graph.items():
            a = child(src)
            if a is None:
                continue
            for t in targets:
                b = child(t)
                if b is not None and b != a:
                    edges.setdefault(a, set()).add(b)
        cycles += _cycles(edges)
    return cycles


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of more than one node (depth-first search)."""
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_no_circle_through_function_level_or_by_name_imports():
    graph = import_graph(REPO)
    assert sibling_cycles(graph) == []
    # the batch engine: one way, through its leaf
    batch = {m: {t for t in ts if t.startswith("experiments.batch.")} for m, ts in graph.items()}
    assert batch["experiments.batch.worker_code"] == {"experiments.batch.task"}
    assert "experiments.batch.runner" not in batch["experiments.batch.cluster"]
    assert {"experiments.batch.cluster", "experiments.batch.task"} <= batch["experiments.batch.runner"]
    assert not batch["experiments.batch.task"] - {"experiments.batch.spec"}
    # and the layers hold for imports inside functions too
    order = {"agents": 0, "model": 1, "experiments": 2, "cli": 3, "viz": 3, "crypto401k": 3}
    upward = [
        (m, t) for m, ts in graph.items() for t in ts if order[t.split(".")[0]] > order[m.split(".")[0]]
    ]
    assert upward == []


def test_the_circle_check_sees_imports_inside_functions_and_by_name(tmp_path):
    # a package whose circle is invisible at module level: a -> b at module level, b -> c inside
    # a function, c names a in a string; and the same circle once it is broken
    pkg = tmp_path / "experiments" / "batch"
    pkg.mkdir(parents=True)
    (tmp_path / "experiments" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from experiments.batch import b\n")
    (pkg / "b.py").write_text("def f():\n    from experiments.batch.c import g\n    return g\n")
    (pkg / "c.py").write_text(
        "import importlib\n\ndef g():\n    return importlib.import_module('experiments.batch.a')\n"
    )
    graph = import_graph(tmp_path, ("experiments",))
    assert graph["experiments.batch.b"] == {"experiments.batch.c"}
    assert graph["experiments.batch.c"] == {"experiments.batch.a"}
    (cycle,) = sibling_cycles(graph)
    assert set(cycle) == {"experiments.batch.a", "experiments.batch.b", "experiments.batch.c"}
    (pkg / "c.py").write_text("def g():\n    return 'experiments.batch.d:run'\n")
    (pkg / "d.py").write_text("def run():\n    return 1\n")
    assert sibling_cycles(import_graph(tmp_path, ("experiments",))) == []

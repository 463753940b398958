"""The example notebooks run as committed: every docs/notebooks/*.md (jupytext MyST) is executed
top to bottom in a fresh Jupyter kernel of the project's environment (nbclient), in a fresh
folder, at tiny sizes; and none is committed with outputs.

Sizes are set the way papermill sets them: each notebook has one cell tagged `parameters`, and
a cell assigning the tiny values of `TINY` is inserted after it. Nothing else is changed, so a
notebook that runs here runs as a user opens it (with its own, larger sizes).
"""

from __future__ import annotations

import ast
import subprocess
import time
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "docs" / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.md"))
# The tiny values of the sizes a parameters cell may set (every other name it sets is kept).
TINY = {
    "N_PARTICIPANTS": 300,
    "N_EMPLOYERS": 20,
    "QUARTERS": 8,
    "REPLICATES": 4,
    "WORKERS": 1,
    "AGENT_SAMPLE": 100,
}
KEPT = {"SEED", "STORE", "POSTERIOR"}  # names a parameters cell may set that need no shrinking
CELL_TIMEOUT_S = 300


def parameters_cell(nb: nbformat.NotebookNode) -> tuple[int, set[str]]:
    """The index of the notebook's one `parameters` cell and the names it assigns."""
    found = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(found) == 1, "a notebook has exactly one cell tagged 'parameters'"
    tree = ast.parse(nb.cells[found[0]].source)
    names = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    return found[0], names


def test_the_notebooks_are_there_and_declare_their_sizes():
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.md", "batch_analysis.md", "posterior_walkthrough.md"}
    for path in NOTEBOOKS:
        nb = jupytext.read(path)
        _, names = parameters_cell(nb)
        assert names <= set(TINY) | KEPT, f"{path.name}: {sorted(names - set(TINY) - KEPT)} not shrunk"
        assert {"N_PARTICIPANTS", "QUARTERS"} <= names, path.name
        assert nb.metadata["kernelspec"]["name"] == "python3"


def test_no_notebook_is_committed_with_outputs():
    tracked = subprocess.run(
        ["git", "ls-files", "docs/notebooks"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked, "docs/notebooks holds no tracked file"
    for name in tracked:
        if name.endswith(".ipynb"):  # a notebook kept as .ipynb must be kept without outputs
            nb = nbformat.read(ROOT / name, as_version=4)
            assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), name
        else:
            assert name.endswith(".md"), f"{name}: notebooks are jupytext Markdown (or .ipynb)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_at_tiny_sizes(path, tmp_path):
    nb = jupytext.read(path)
    at, names = parameters_cell(nb)
    shrunk = "\n".join(f"{k} = {v!r}" for k, v in TINY.items() if k in names)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(shrunk, metadata={"tags": ["injected-parameters"]}))
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError naming the cell and its traceback
    elapsed = time.perf_counter() - t0
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} drew no figure"
    print(f"{path.name}: executed in {elapsed:.1f} s")

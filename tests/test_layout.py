"""The layout's contracts: dependencies run one way with no cycles, and the code is lint-clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


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

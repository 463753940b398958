"""Ctrl-C as a user presses it: `uv run crypto401k ...` in its own process group, SIGINT sent to
the whole group (the terminal does that, and `uv run` forwards it once more to its child).

Every command must end within a few seconds with exit status 130 and one line on standard
error saying what is kept and how to resume; no traceback; no worker or helper process left.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from experiments.batch.store import completed_run_ids

ROOT = Path(__file__).resolve().parent.parent
UV = shutil.which("uv")
EXIT_WITHIN_S = 10.0  # generous for a loaded 2-core machine; it is about 1-2 s when idle

pytestmark = pytest.mark.skipif(UV is None, reason="uv is not installed (CI installs it)")

EXPERIMENT = """
[experiment]
name = "interrupt_me"
scenarios = ["baseline"]
replicates = 24
quarters = 12
participants = 20000
[parameters]
n_employers = 200
"""


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [UV, "run", "--no-sync", "crypto401k", *args],
        cwd=ROOT,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def _wait_for(proc: subprocess.Popen, ready, what: str, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"ended before {what}: exit {proc.returncode}\n{out}\n{err}")
        if ready():
            return
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail(f"timed out waiting for {what}")


def _descendants(proc: subprocess.Popen) -> list[psutil.Process]:
    try:
        return psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _interrupt(proc: subprocess.Popen, expect_children: int) -> tuple[str, float]:
    """Ctrl-C to the whole group; the stderr and seconds to exit. Checks exit 130, one line, no
    traceback, and that every process the command started is gone."""
    deadline = time.time() + 60
    while len(_descendants(proc)) < expect_children and time.time() < deadline:
        time.sleep(0.1)
    family = _descendants(proc)
    assert len(family) >= expect_children, [p.cmdline() for p in family]
    t0 = time.time()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"still running 60 s after Ctrl-C\n{err[-3000:]}")
    elapsed = time.time() - t0
    assert proc.returncode == 130, (proc.returncode, err[-3000:])
    assert elapsed < EXIT_WITHIN_S, f"took {elapsed:.1f} s to stop"
    assert "Traceback" not in err + out, err[-3000:]
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), err
    gone_by = time.time() + 5
    while (
        any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family) and time.time() < gone_by
    ):
        time.sleep(0.1)
    left = [p.cmdline() for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not left, f"processes left after Ctrl-C: {left}"
    return lines[0], elapsed


def _stored(folder: Path) -> int:
    return len(list(folder.rglob("catalogue/*.parquet")))


def test_ctrl_c_stops_a_batch_under_uv_run_and_keeps_finished_runs(tmp_path):
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT)
    store = tmp_path / "store"
    proc = _start("batch", str(exp), "--out", str(store), "--workers", "2", "--no-progress")
    _wait_for(proc, lambda: _stored(store) >= 1, "a finished run")
    line, _ = _interrupt(proc, expect_children=3)  # python + 2 workers (+ resource tracker)
    assert str(store) in line and "run the same command again to resume" in line
    kept = completed_run_ids(store)
    assert 1 <= len(kept) < 24  # finished runs kept, the batch really was cut short


def test_ctrl_c_stops_a_sensitivity_analysis_and_says_so(tmp_path):
    out = tmp_path / "sa"
    proc = _start(
        "sensitivity",
        "--outcome",
        "adoption_rate@12",
        "--params",
        "attention_base,affinity_mean,clarity_weight",
        "--samples",
        "4",
        "--seeds",
        "1",
        "--participants",
        "20000",
        "--set",
        "n_employers=200",
        "--workers",
        "2",
        "--out",
        str(out),
    )
    _wait_for(proc, lambda: _stored(out / "runs") >= 1, "a finished run")
    line, _ = _interrupt(proc, expect_children=3)
    assert str(out / "runs") in line and "run the same command again to resume" in line
    assert not (out / "indices.csv").exists()


def test_ctrl_c_stops_a_calibration_and_says_what_is_kept(tmp_path):
    out = tmp_path / "cal"
    proc = _start(
        "calibrate",
        str(ROOT / "experiments" / "calibration_targets.toml"),
        "--out",
        str(out),
        "--params",
        "attention_base,affinity_mean",
        "--trials",
        "50",
        "--seeds",
        "1",
        "--participants",
        "20000",
        "--set",
        "n_employers=200",
    )
    _wait_for(proc, lambda: _stored(out / "runs") >= 1, "a finished trial run")
    line, _ = _interrupt(proc, expect_children=1)  # python under uv
    assert "study.journal" in line and "run the same command again to resume" in line
    assert not (out / "fit.csv").exists()


def test_ctrl_c_stops_a_run_and_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    proc = _start("run", "--out", str(out), "--participants", "200000", "--quarters", "40")

    def helper_started() -> bool:  # the dashboard helper starts once the inputs are checked
        return any("experiments.reports.dashboard" in " ".join(p.cmdline()) for p in _descendants(proc))

    _wait_for(proc, helper_started, "the dashboard helper")
    time.sleep(2.0)  # into the model build and run
    line, _ = _interrupt(proc, expect_children=2)
    assert "nothing was written" in line and "run the same command again" in line
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # no staging folder, no new file

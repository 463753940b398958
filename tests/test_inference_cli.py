"""`crypto401k calibrate --method abc` as a user runs it: bad priors and options refused in one line
before any work, and Ctrl-C (a real SIGINT to the process group under `uv run`) followed by the
same command, which completes the run without redoing the generations that had finished."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from toml_fuzz import check_clean_failure, invoke

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "experiments" / "calibration_targets.toml"
# the shipped file's targets without its own [prior.NAME] tables, so each case adds the one it tests
TARGETS_ONLY = TARGETS.read_text().split("\n[prior.", 1)[0]
UV = shutil.which("uv")

PRIORS = {
    "low above high": ("[prior.affinity_mean]\nlow = 1.0\nhigh = -1.0\nreason = 'x'\n", "empty range"),
    "outside the declared range": (
        "[prior.affinity_mean]\nlow = -9.0\nhigh = 1.0\nreason = 'x'\n",
        "outside the declared range",
    ),
    "no reason": ("[prior.affinity_mean]\nlow = -2.0\nhigh = 1.0\n", "needs a reason"),
    "empty reason": ("[prior.affinity_mean]\nlow = -2.0\nhigh = 1.0\nreason = ' '\n", "must say why"),
    "unknown parameter": ("[prior.afinity_mean]\nlow = -2.0\nhigh = 1.0\nreason = 'x'\n", "did you mean"),
    "unknown key": ("[prior.affinity_mean]\nlow = -2.0\nhigh = 1.0\nreason = 'x'\nsd = 1\n", "unknown key"),
    "a switch": ("[prior.news_shocks]\nlow = 0\nhigh = 1\nreason = 'x'\n", None),
    "not a number": ("[prior.affinity_mean]\nlow = 'a'\nhigh = 1.0\nreason = 'x'\n", "expected a number"),
}


@pytest.mark.parametrize("case", PRIORS, ids=list(PRIORS))
def test_a_bad_prior_is_refused_in_one_line_before_any_work(tmp_path, case):
    text, words = PRIORS[case]
    from model import parameters as P

    if case == "a switch":
        switch = next(p.name for p in P.PARAMETERS.values() if p.type is bool)
        text = text.replace("news_shocks", switch)
    bad = tmp_path / "t.toml"
    bad.write_text(TARGETS_ONLY + "\n" + text)
    out = tmp_path / "cal"
    result = invoke(
        ["calibrate", str(bad), "--method", "abc", "--out", str(out), "--params", "affinity_mean"]
    )
    check_clean_failure(result, source=str(bad))
    if words:
        assert words in result.stderr, result.stderr
    assert not out.exists()


def test_a_prior_narrowed_twice_and_the_other_methods_options_are_refused(tmp_path):
    narrowed = tmp_path / "t.toml"
    narrowed.write_text(TARGETS_ONLY + "\n[prior.affinity_mean]\nlow = -2.0\nhigh = 1.0\nreason = 'x'\n")
    out = str(tmp_path / "cal")
    twice = invoke(
        ["calibrate", str(narrowed), "--method", "abc", "--out", out, "--params", "affinity_mean=-3:0"]
    )
    check_clean_failure(twice, source=None)
    assert "both by the targets file" in twice.stderr
    for argv, key in (
        (["--method", "abc", "--trials", "5"], "--trials"),
        (["--budget", "5"], "--budget"),
        (["--method", "abc", "--budget", "0"], "--budget"),
        (["--method", "bayes"], "--method"),
        (["--method", "abc", "--params", "n_employers"], "n_employers"),
    ):
        result = invoke(["calibrate", str(TARGETS), "--out", out, *argv])
        check_clean_failure(result, source=None)
        assert key in result.stderr, result.stderr
    assert not Path(out).exists()


def _generations(db: Path) -> list[tuple]:
    """The finished generations in a pyabc history: (t, epsilon, samples, end time)."""
    if not db.is_file():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return con.execute(
                "SELECT t, epsilon, nr_samples, population_end_time FROM populations WHERE t >= 0 ORDER BY t"
            ).fetchall()
    except sqlite3.Error:
        return []


ABC_ARGS = [
    "--method", "abc", "--params", "attention_base,affinity_mean", "--participants", "300",
    "--set", "n_employers=20", "--population", "20", "--generations", "3", "--budget", "400",
    "--predictive", "5", "--workers", "2",
]  # fmt: skip


@pytest.mark.skipif(UV is None, reason="uv is not installed (CI installs it)")
def test_ctrl_c_keeps_the_finished_generations_and_the_same_command_completes_the_run(tmp_path):
    from test_interrupts import _interrupt, _start

    out = tmp_path / "abc"
    argv = ["calibrate", str(TARGETS), "--out", str(out), *ABC_ARGS]
    proc = _start(*argv)
    deadline = time.time() + 300
    while not _generations(out / "abc.db") and time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ended before its first generation: {proc.communicate()}")
        time.sleep(0.2)
    assert _generations(out / "abc.db"), "no generation finished in time"
    line, _ = _interrupt(proc, expect_children=3)  # python + 2 workers (+ resource tracker)
    assert str(out / "abc.db") in line and "run the same command again to resume" in line
    kept = _generations(out / "abc.db")
    assert 1 <= len(kept) < 3 and not (out / "posterior.parquet").exists()

    done = subprocess.run(
        [UV, "run", "--no-sync", "crypto401k", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    after = _generations(out / "abc.db")
    assert after[: len(kept)] == kept  # the finished generations were not redone
    assert len(after) > len(kept)  # and went on to its end (temperature 1 or the budget)
    assert "stopped: " in done.stdout and ("temperature 1" in done.stdout or "budget" in done.stdout)
    assert (out / "posterior.parquet").is_file() and (out / "report.md").is_file()
    assert "posterior.parquet" in done.stdout

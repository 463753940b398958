"""Fuzzed input files: every broken scenario, experiment or target file ends cleanly.

Each valid file is mutated into many broken variants (tests/toml_fuzz.py). A variant that no
reader could accept must end with exit status 2 and one line naming the file, the key and the
allowed values, with no traceback and no output folder created; any other variant must end
either like that or with a complete, correct run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from toml_fuzz import Mutant, check_clean_failure, invoke, mutants, tree

REPO = Path(__file__).resolve().parent.parent
SMALL_RUN = ["--participants", "60", "--quarters", "2", "--set", "n_employers=12", "--no-dashboard"]

# A valid scenario using every kind of value a scenario file holds.
SCENARIO = """\
[scenario]
name = "fuzz_base"
description = "a valid scenario the fuzzer breaks"
extends = "baseline"

[parameters]
flow_multiplier = 4.5
channel_401k = true
social_degree = 8
crash_depth = 0.5
crash_quarter = 1

[run]
quarters = 3
"""

SCENARIO_MUTANTS = mutants(SCENARIO)
# The scenario reader knows its whole format, so more of the mutants must fail there than the
# generic harness can promise: a wrong type anywhere, and any huge or non-finite quarters.
STRICT_PREFIXES = ("wrong_type:", "huge_int:run", "huge_float:run", "neg_huge:run", "inf:run",
                   "nan:run", "zero:run", "negative:run")


def _scenario_must_fail(m: Mutant) -> bool:
    return m.must_fail or m.name.startswith(STRICT_PREFIXES)


def _fuzz_one(tmp_path: Path, mutant: Mutant, argv_for, must_fail: bool) -> None:
    """Write the mutant, run the command on it, check a clean ending and nothing half-written."""
    path = tmp_path / "input.toml"
    path.write_bytes(mutant.content)
    out = tmp_path / "out"
    result = invoke(argv_for(path, out))
    if must_fail or result.code != 0:
        check_clean_failure(result, source=str(path), mutant=mutant if must_fail else None)
        assert not out.exists(), f"{mutant.name}: output folder left behind: {tree(out) if out.is_dir() else out}"
    else:
        assert out.is_dir(), mutant.name
        leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
        assert not leftovers, f"{mutant.name}: temporary files left: {leftovers}"


def test_mutation_harness_covers_every_kind_of_damage():
    kinds = {m.name.split(":")[0] for m in SCENARIO_MUTANTS}
    assert {"empty", "binary", "latin1", "truncated", "missing_section", "misspelt_section",
            "unknown_section", "misspelt_key", "unknown_key", "wrong_type", "huge_int", "inf",
            "nan", "out_of_range_above", "out_of_range_below"} <= kinds
    assert len(SCENARIO_MUTANTS) > 100
    assert sum(_scenario_must_fail(m) for m in SCENARIO_MUTANTS) > 80


@pytest.mark.parametrize("mutant", SCENARIO_MUTANTS, ids=lambda m: m.name)
def test_broken_scenario_file_ends_cleanly(tmp_path, mutant):
    _fuzz_one(tmp_path, mutant, lambda path, out: ["run", "--scenario", str(path), "--out", str(out), *SMALL_RUN],
              _scenario_must_fail(mutant))


def test_valid_scenario_file_runs(tmp_path):
    path = tmp_path / "valid.toml"
    path.write_text(SCENARIO)
    result = invoke(["run", "--scenario", str(path), "--out", str(tmp_path / "out"), *SMALL_RUN])
    assert result.code == 0, result.stderr
    assert {"quarters.csv", "summary.json"} <= set(tree(tmp_path / "out"))


@pytest.mark.parametrize("extends, problem", [
    ("no_such_scenario", "unknown scenario"),
    ("baselin", "did you mean 'baseline'"),
    ("SELF", "loop"),
    ("missing/dir/x.toml", "not found"),
])
def test_bad_extends_names_the_file_and_key(tmp_path, extends, problem):
    path = tmp_path / "child.toml"
    target = str(path) if extends == "SELF" else extends
    path.write_text(f'[scenario]\nname = "child"\nextends = "{target}"\n')
    result = invoke(["run", "--scenario", str(path), "--out", str(tmp_path / "out"), *SMALL_RUN])
    check_clean_failure(result, source=str(path), mutant=Mutant("extends", b"", True, key="extends"))
    assert problem in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["a[/b].toml", "[parameters].toml", "sp ace\u00e9.toml"])
def test_file_names_with_markup_or_spaces_are_printed_verbatim(tmp_path, name):
    # "[/b]" would be a closing markup tag for the terminal printer, "[parameters]" a style.
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[parameters]\nflow_multiplier = 'high'\n")
    result = invoke(["run", "--scenario", str(path), "--out", str(tmp_path / "out"), *SMALL_RUN])
    check_clean_failure(result, source=str(path),
                        mutant=Mutant("name", b"", True, key="flow_multiplier"))


@pytest.mark.parametrize("argv, key", [
    (["run", "--scenario", "no_such_scenario"], "no_such_scenario"),
    (["run", "--set", "flow_multiplier=1e999"], "flow_multiplier"),
    (["run", "--set", "n_participants=1" + "0" * 400], "n_participants"),
    (["run", "--set", "flow_multipler=3"], "flow_multipler"),
    (["run", "--set", "flow_multiplier"], "--set"),
    (["run", "--set", "channel_401k=maybe"], "channel_401k"),
    (["run", "--participants", "0"], "n_participants"),
    (["run", "--quarters", "401"], "--quarters"),
    (["run", "--quarters", "0"], "--quarters"),
    (["params", "--group", "nope"], "--group"),
])
def test_bad_command_line_values_end_cleanly(tmp_path, argv, key):
    out = tmp_path / "out"
    result = invoke([*argv, "--out", str(out)] if argv[0] == "run" else argv)
    check_clean_failure(result, source=None, mutant=Mutant("argv", b"", True, key=key))
    assert not out.exists()


def test_out_that_is_a_file_is_refused(tmp_path):
    out = tmp_path / "out"
    out.write_text("keep me")
    result = invoke(["run", "--out", str(out), *SMALL_RUN])
    check_clean_failure(result, source=str(out))
    assert out.read_text() == "keep me"


# --- experiment and calibration-target files (read by other subsystems, if present)
def _command_exists(name: str) -> bool:
    result = invoke([name, "--help"])
    return result.code == 0


def _example(*candidates: str) -> str | None:
    for c in candidates:
        p = REPO / c
        if p.is_file():
            return p.read_text()
    return None


EXPERIMENT = _example("experiments/experiments/smoke.toml", "experiments/experiments/example.toml",
                      "tests/data/experiment.toml")
TARGETS = _example("experiments/tuning/targets.toml", "experiments/targets.toml",
                   "tests/data/targets.toml")


@pytest.mark.skipif(EXPERIMENT is None, reason="no experiment file shipped yet")
@pytest.mark.parametrize("mutant", mutants(EXPERIMENT, strict_keys=True) if EXPERIMENT else [],
                         ids=lambda m: m.name)
def test_broken_experiment_file_ends_cleanly(tmp_path, mutant):
    _fuzz_one(tmp_path, mutant, lambda path, out: ["batch", str(path), "--out", str(out)], mutant.must_fail)


@pytest.mark.skipif(TARGETS is None, reason="no calibration-target file shipped yet")
@pytest.mark.parametrize("mutant", mutants(TARGETS, strict_keys=True) if TARGETS else [],
                         ids=lambda m: m.name)
def test_broken_target_file_ends_cleanly(tmp_path, mutant):
    _fuzz_one(tmp_path, mutant, lambda path, out: ["calibrate", str(path), "--out", str(out)], mutant.must_fail)


# --- the real console script, in a subprocess: exit status 2, no traceback
def _script() -> list[str]:
    exe = Path(sys.executable).parent / "crypto401k"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "experiments.cli"]


def test_console_script_exits_2_without_traceback(tmp_path):
    # One subprocess (each costs a full start-up); the in-process tests above cover the variety.
    path = tmp_path / "bad.toml"
    path.write_bytes(b"[parameters]\nn_participants = 1" + b"0" * 400 + b"\n")
    proc = subprocess.run([*_script(), "run", "--scenario", str(path), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "COLUMNS": "60"})
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0], proc.stderr
    assert not (tmp_path / "out").exists()

"""Scenario discovery: outcome expressions (parsed, never eval'd), PRIM boxes and feature scores over a
batch store, the report, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments.batch import store
from experiments.batch.spec import RunSpec
from experiments.discovery.analysis import discover, load_cases
from experiments.discovery.outcome import evaluate, parse
from model.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


# --- outcome expressions over a small hand-made table
def table() -> pd.DataFrame:
    """Three runs, quarters 0-3 (run c stops at 2): a number, a dollar amount and a text status."""
    rows = []
    values = {"a": [0, 1, 2, 3], "b": [0, 5, 1, 0], "c": [0, 0, 9]}
    status = {"a": ["final"] * 4, "b": ["final", "rescinded", "final", "final"], "c": ["final"] * 3}
    for run, vals in values.items():
        for q, v in enumerate(vals):
            rows.append(
                {
                    "run_id": run,
                    "quarter": q,
                    "x": float(v),
                    "flow_usd": v * 30e9,
                    "rule_status": status[run][q],
                }
            )
    return pd.DataFrame(rows)


def holds(text: str) -> dict[str, bool]:
    return evaluate(parse(text), table()).holds.to_dict()


@pytest.mark.parametrize(
    "text,expected",
    [
        ("x@1 >= 1", {"a": True, "b": True, "c": False}),
        ("x@2025Q4 >= 1", {"a": True, "b": True, "c": False}),  # quarter 1 = 2025Q4
        ("x@end > 2", {"a": True, "b": False, "c": True}),  # each run's own last quarter
        ("ever x@0:2 >= 5", {"a": False, "b": True, "c": True}),
        ("ever x >= 5", {"a": False, "b": True, "c": True}),
        ("always x@1:2 >= 1", {"a": True, "b": True, "c": False}),
        ("flow_usd@1 >= $30B", {"a": True, "b": True, "c": False}),
        ("flow_usd@1 > 100B", {"a": False, "b": True, "c": False}),
        ("x@1 >= 100%", {"a": True, "b": True, "c": False}),
        ("ever rescinded", {"a": False, "b": True, "c": False}),
        ("ever rescinded@2:2", {"a": False, "b": False, "c": False}),
        ("(ever rescinded) or x@2 >= 9", {"a": False, "b": True, "c": True}),
        ("not ever rescinded or ever final", {"a": True, "b": True, "c": True}),
        ("rule_status@1 == 'rescinded'", {"a": False, "b": True, "c": False}),
        ('rule_status@1 != "rescinded"', {"a": True, "b": False, "c": True}),
        ("not ever rescinded and x@2 >= 2", {"a": True, "b": False, "c": True}),
        ("x@1 >= 1 or x@2 >= 9 and x@0 > 0", {"a": True, "b": True, "c": False}),  # and binds tighter
        ("(x@1 >= 1 or x@2 >= 9) and not x@0 > 0", {"a": True, "b": True, "c": True}),
        ("missing_output|x@1 >= 1", {"a": True, "b": True, "c": False}),  # first present alternative
    ],
)
def test_outcome_expressions(text, expected):
    assert holds(text) == expected


def test_evaluation_reports_the_values_compared():
    ev = evaluate(parse("ever flow_usd@0:2 >= 87e9 and x@1 >= 1"), table())
    (label1, highest), (label2, at1) = ev.terms
    assert "highest flow_usd" in label1 and highest.to_dict() == {"a": 60e9, "b": 150e9, "c": 270e9}
    assert "quarter 1 (2025Q4)" in label2 and at1.to_dict() == {"a": 1.0, "b": 5.0, "c": 0.0}
    assert ev.columns == {"flow_usd": "flow_usd", "x": "x"}


BAD = [
    ("", "it is empty"),
    ("x >= 1", "needs a quarter"),
    ("x@1 >=", "ends too early"),
    ("x@1 => 1", "unexpected"),
    ("x@0:2 >= 1", "needs ever or always"),
    ("ever banana", "must be a rule status"),
    ("x@1 >= 1 extra", "after a complete condition"),
    ("x@1 >= 1 and", "ends too early"),
    ("rule_status@1 == rescinded", "expected a value"),
    ("x@-1 > 0", "expected a quarter"),
    ("__import__('os').system('echo hacked')", "unexpected"),
    ("x@1 >= 1; import os", "unexpected"),
    ("open('/etc/passwd')@1 > 0", "needs a quarter"),
]


@pytest.mark.parametrize("text,problem", BAD)
def test_malformed_outcomes_are_one_line_errors_naming_the_forms(text, problem):
    with pytest.raises(InputError) as err:
        parse(text)
    message = str(err.value)
    assert problem in message and "\n" not in message
    assert "allowed: OUTPUT@QUARTER OP VALUE" in message and "ever rescinded" in message


@pytest.mark.parametrize(
    "text,problem",
    [
        ("x_value@1 >= 1", "the store has no output 'x_value'"),
        ("flow@1 > 0", "did you mean 'flow_usd'"),
        ("nope|nada@1 > 0", "none of nope, nada"),
        ("seed@1 > 0", "no output 'seed'"),
        ("x@3 > 0", "quarter 3 (2026Q2) is not in every run"),
        ("x@2040Q1 > 0", "is not in every run"),
        ("x@2020Q1 > 0", "before quarter 0"),
        ("rule_status@1 >= 'final'", "compare it with == or !="),
        ("rule_status@1 > 1", "is text"),
        ("x@1 == 'final'", "is numeric"),
        ("ever x@2:1 > 0", "runs backwards"),
    ],
)
def test_outcomes_checked_against_the_store_columns(text, problem):
    with pytest.raises(InputError) as err:
        evaluate(parse(text), table())
    assert problem in str(err.value) and "\n" not in str(err.value)


# --- PRIM over a store whose answer is known
def synthetic_store(root: Path, n: int = 400, seed: int = 3) -> Path:
    """A store of n runs over parameters a, b in [0, 1] and k in {1..5}: `hit` at quarter 2 is 1
    exactly when a > 0.6 and k >= 3 (b and the seed play no part)."""
    rng = np.random.default_rng(seed)
    root = store.prepare(root)
    writer = store.StoreWriter(root)
    frames, records = [], []
    for i in range(n):
        a, b, k = float(rng.random()), float(rng.random()), int(rng.integers(1, 6))
        spec = RunSpec(f"baseline.p{i:04d}.r000", "baseline", {"a": a, "b": b, "k": k}, i, 2, 100, None)
        hit = float(a > 0.6 and k >= 3)
        frame = pd.DataFrame(
            {
                "run_id": spec.run_id,
                "scenario": "baseline",
                "seed": i,
                "param_a": a,
                "param_b": b,
                "param_k": k,
                "quarter": [0, 1, 2],
                "date": ["2025Q3", "2025Q4", "2026Q1"],
                "hit": [0.0, 0.0, hit],
                "level_usd": [0.0, 1e9 * a, 2e9 * a],
            }
        )
        record = {
            **spec.as_record(),
            "status": "ok",
            "error": None,
            "traceback": None,
            "worker": "test",
            "started_at": "2026-01-01T00:00:00.000",
            "finished_at": "2026-01-01T00:00:00.000",
            "duration_s": 0.0,
            "code_version": "synthetic",
        }
        frames.append(frame)
        records.append(record)
        if len(frames) == 50:
            writer.write_group(frames, records)
            frames, records = [], []
    if frames:
        writer.write_group(frames, records)
    return root


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    return synthetic_store(tmp_path_factory.mktemp("disc") / "store")


def test_prim_finds_the_region_where_the_outcome_holds(synthetic):
    cases = load_cases(synthetic)
    assert list(cases.x.columns) == ["a", "b", "k"] and len(cases.x) == 400
    f = discover(cases, parse("hit@2 >= 1"), min_coverage=0.8, resamples=5)
    truth = (cases.x["a"] > 0.6) & (cases.x["k"] >= 3)
    assert f.n_true == int(truth.sum())
    s = f.stats
    assert s["coverage"] >= 0.8 and s["density"] >= 0.9  # the box is the true region, nearly
    box = f.box.set_index("parameter")
    assert set(box.index) == {"a", "k"}  # b plays no part and is not restricted
    assert 0.5 <= box.loc["a", "low"] <= 0.65 and box.loc["a", "high"] == pytest.approx(cases.x["a"].max())
    assert 2 < box.loc["k", "low"] <= 3  # k >= 3 (integer parameters are boxed as real numbers)
    assert box.loc["a", "qp_low"] < 1e-6 and box.loc["k", "qp_low"] < 1e-6  # both restrictions significant
    assert (box["reproduce_density_pct"] == 100.0).all()  # every half-sample box restricts both
    assert f.scores.index[0] in ("a", "k") and f.scores["b"] < min(f.scores["a"], f.scores["k"])
    # the same store and seed give the same answer
    again = discover(cases, parse("hit@2 >= 1"), min_coverage=0.8, resamples=5)
    pd.testing.assert_frame_equal(again.box, f.box)
    pd.testing.assert_series_equal(again.scores, f.scores)


def test_an_outcome_that_never_holds_is_reported_not_boxed(synthetic):
    f = discover(load_cases(synthetic), parse("ever level_usd >= $87B"))
    assert (f.n_true, f.trajectory, f.box) == (0, None, None)
    assert "holds in none of the 400 runs" in f.notes[0]
    ((label, highest),) = f.evaluation.terms
    assert highest.max() == pytest.approx(2e9 * load_cases(synthetic).x["a"].max())


def run_cli(*args: str):
    """The command in this process (stdout, stderr and exit_code like a subprocess's)."""
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(app, list(args))
    result.returncode = result.exit_code
    return result


def test_cli_writes_the_report(synthetic, tmp_path):
    out = tmp_path / "report"
    res = run_cli(
        "discover", str(synthetic), "--outcome", "hit@2 >= 1", "--outcome", "ever level_usd >= $87B",
        "--out", str(out), "--min-coverage", "0.8", "--resamples", "3",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "outcome 1: hit@2 >= 1" in res.stdout and "outcome 2" in res.stdout
    for name in ("outcome1_tradeoff.png", "outcome1_box.png", "outcome1_features.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    box = pd.read_csv(out / "outcome1_box.csv")
    assert set(box["parameter"]) == {"a", "k"}
    traj = pd.read_csv(out / "outcome1_trajectory.csv")
    assert {"coverage", "density", "mass", "res_dim", "stage"} <= set(traj.columns)
    runs = pd.read_csv(out / "outcome1_runs.csv")
    assert len(runs) == 400 and runs["holds"].sum() == len(
        load_cases(synthetic).x.query("a > 0.6 and k >= 3")
    )
    md = (out / "discovery.md").read_text()
    assert "## Answers" in md and "`hit@2 >= 1`: Holds in" in md and "quasi-p" in md
    assert "Holds in 0 of 400 runs" in md and "holds in none of the 400 runs" in md
    assert "uv run crypto401k discover" in md and "--min-coverage 0.8" in md
    # regenerating gives the same report
    again = run_cli(
        "discover", str(synthetic), "--outcome", "hit@2 >= 1", "--outcome", "ever level_usd >= $87B",
        "--out", str(out), "--min-coverage", "0.8", "--resamples", "3",
    )  # fmt: skip
    assert again.returncode == 0 and (out / "discovery.md").read_text() == md


@pytest.mark.parametrize(
    "args,problem",
    [
        (["--outcome", "hit >= 1"], "needs a quarter"),
        (["--outcome", "hitt@2 >= 1"], "did you mean 'hit'"),
        (["--outcome", "hit@2 >= 1", "--min-coverage", "0"], "--min-coverage"),
        (["--outcome", "hit@2 >= 1", "--outcome", "hit@1 > 0", "--box", "2"], "--box needs exactly one"),
        (["--outcome", "hit@2 >= 1", "--box", "999"], "is not on the peeling trajectory"),
        (["--outcome", "hit@2 >= 1", "--scenario", "crash"], "no runs of scenario 'crash'"),
    ],
)
def test_cli_errors_are_one_line_with_status_2(synthetic, tmp_path, args, problem):
    res = run_cli("discover", str(synthetic), "--out", str(tmp_path / "r"), *args)
    assert res.returncode == 2, res.stdout + res.stderr
    assert problem in res.stderr and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert not (tmp_path / "r").exists()


def test_cli_refuses_a_folder_that_is_not_a_store_or_has_nothing_to_vary(tmp_path):
    # the real entry point: one line on stderr, status 2, no traceback
    res = subprocess.run(
        [sys.executable, "-m", "cli.main", "discover", str(tmp_path / "nothing"), "--outcome", "x@1 > 0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300"},
        timeout=300,
    )
    assert res.returncode == 2 and "no such folder" in res.stderr and res.stderr.count("\n") == 1
    plain = store.prepare(tmp_path / "plain")
    writer = store.StoreWriter(plain)
    spec = RunSpec("baseline.r0", "baseline", {"n_employers": 100}, 1, 1, 100, None)
    frame = pd.DataFrame(
        {"run_id": spec.run_id, "scenario": "baseline", "seed": 1, "quarter": [0, 1], "x": [0.0, 1.0]}
    )
    rec = {**spec.as_record(), "status": "ok", "duration_s": 0.0, "code_version": "t"}
    writer.write_group([frame], [rec])
    res = run_cli("discover", str(plain), "--outcome", "x@1 > 0")
    assert res.returncode == 2 and "no parameter varies between the runs" in res.stderr


def test_shipped_discovery_experiment(tmp_path):
    from experiments.batch.experiment_file import load_experiment
    from model import parameters as P

    exp = load_experiment(ROOT / "experiments" / "claims_discovery.toml")
    runs = exp.runs()
    assert exp.participants == 10_000 and exp.fixed == {"n_employers": 200} and not exp.common_random_numbers
    assert {r.quarters for r in runs} == {41} and len({r.seed for r in runs}) == len(runs)
    groups = {P.PARAMETERS[name].group for name in runs[0].params if name != "n_employers"}
    assert groups == {"behaviour", "politics"}
    # every sampled range sits within the declared one and around the default
    for name in runs[0].params:
        if name == "n_employers":
            continue
        vals = [r.params[name] for r in runs]
        p = P.PARAMETERS[name]
        assert p.low <= min(vals) <= p.default <= max(vals) <= p.high, name


def test_docs_show_the_shipped_command():
    guide = (ROOT / "docs" / "guide" / "discovery.md").read_text()
    toml = (ROOT / "experiments" / "claims_discovery.toml").read_text()
    assert "crypto401k discover results/claims_discovery" in guide and "claims_discovery.toml" in guide
    assert "crypto401k discover results/claims_discovery" in toml


@given(
    st.one_of(
        st.text(max_size=60),
        st.lists(
            st.sampled_from(
                [
                    "x",
                    "@",
                    "1",
                    ":",
                    "2030Q4",
                    "end",
                    ">=",
                    "==",
                    "<",
                    "'final'",
                    "$87B",
                    "10%",
                    "ever",
                    "always",
                    "not",
                    "and",
                    "or",
                    "(",
                    ")",
                    "|",
                    "flow_usd",
                    "rescinded",
                    "-",
                    ".",
                    "e9",
                ]
            ),
            max_size=12,
        ).map(" ".join),
    )
)
def test_any_text_parses_or_is_refused_in_one_line(text):
    try:
        outcome = parse(text)
    except InputError as exc:
        assert "\n" not in str(exc) and "allowed:" in str(exc)
        return
    try:
        ev = evaluate(outcome, table())
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert ev.holds.dtype == bool and list(ev.holds.index) == ["a", "b", "c"]


def test_a_single_sampled_parameter_is_enough(synthetic):
    cases = load_cases(synthetic)
    cases.x = cases.x[["a"]]  # as a store that samples one parameter
    f = discover(cases, parse("level_usd@2 >= $1B"), resamples=0)  # 2e9 * a >= 1e9: a >= 0.5
    box = f.box.set_index("parameter")
    assert list(box.index) == ["a"] and 0.45 <= box.loc["a", "low"] <= 0.55
    assert f.stats["density"] >= 0.95 and list(f.scores.index) == ["a"]

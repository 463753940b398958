"""Calibration: target files, the MSM loss, identification, resuming, and the command line."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli.main import app
from experiments.tuning import calibrate as C
from experiments.tuning import targets as T
from experiments.tuning.runs import RunSettings, run_points
from experiments.tuning.space import parse_space
from model import parameters as P
from model import scenarios
from model.errors import InputError
from model.model import Crypto401kModel

runner = CliRunner()
SHIPPED = Path(__file__).resolve().parent.parent / "experiments" / "calibration_targets.toml"
GOOD = """
[[target]]
name = "inertia"
statistic = "annual_review_share@1:2"
observed = 0.1
tolerance = 0.03
source = "test"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(text)
    return path


def test_shipped_targets_load_and_name_their_sources():
    targets = T.load_targets(SHIPPED)
    assert len(targets) >= 6
    assert all(t.source and t.tolerance > 0 for t in targets)
    assert {"annual_review_share", "interest_share", "mean_chosen_allocation"} <= set(
        T.needed_outputs(targets)
    )


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "file is empty"),
        ("[[target]\nname=1", "not valid TOML"),
        ("[scenario]\nname='x'", "unknown section [scenario]"),
        ("title = 'no targets'", "unknown section [title]"),
        (GOOD.replace('source = "test"', ""), "'inertia.source': missing"),
        (GOOD.replace('source = "test"', 'source = " "'), "'inertia.source': must name"),
        (
            GOOD.replace("annual_review_share@1:2", "annual_revew_share@1:2"),
            "did you mean 'annual_review_share'",
        ),
        (GOOD.replace("@1:2", "@2:1"), "bad quarter range"),
        (GOOD.replace("tolerance = 0.03", "tolerance = 0"), "'inertia.tolerance': must be above 0"),
        (GOOD.replace("observed = 0.1", "observed = 'ten percent'"), "'inertia.observed': expected a number"),
        (GOOD + 'kind = "approx"', "'inertia.kind': unknown kind"),
        (GOOD + "wieght = 2", "did you mean 'weight'"),
        (GOOD + "weight = -1", "'inertia.weight': must not be negative"),
        (GOOD + GOOD, "duplicate target name"),
    ],
)
def test_bad_target_files_get_clear_errors(tmp_path, text, fragment):
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        T.load_targets(path)
    assert fragment in str(err.value)
    assert str(path) in str(err.value)


def test_missing_targets_file_is_named(tmp_path):
    with pytest.raises(InputError, match="targets file not found"):
        T.load_targets(tmp_path / "nope.toml")


def test_loss_is_weighted_squared_error_in_tolerances():
    a, b, c = T.parse_targets(
        {
            "target": [
                {
                    "name": "a",
                    "statistic": "adoption_rate@1",
                    "observed": 0.1,
                    "tolerance": 0.05,
                    "source": "s",
                },
                {
                    "name": "b",
                    "statistic": "adoption_rate@0",
                    "observed": 0.01,
                    "tolerance": 0.01,
                    "source": "s",
                    "kind": "upper",
                    "weight": 3.0,
                },
                {
                    "name": "c",
                    "statistic": "adoption_rate@2",
                    "observed": 0.2,
                    "tolerance": 0.1,
                    "source": "s",
                    "kind": "lower",
                },
            ]
        },
        "test",
    )
    value, errors = C.loss([a, b, c], {"a": 0.2, "b": 0.005, "c": 0.05})
    assert errors == pytest.approx({"a": 2.0, "b": 0.0, "c": -1.5})  # b inside its upper bound
    assert value == pytest.approx((4.0 + 0.0 + 2.25) / 5.0)
    _, errors = C.loss([a, b, c], {"a": math.nan, "b": 0.03, "c": 0.3})
    assert errors == pytest.approx({"a": T.MISSING_ERROR, "b": 2.0, "c": 0.0})


def _settings(targets, **kw) -> RunSettings:
    base = dict(
        scenario="baseline",
        seeds=(0,),
        quarters=T.needed_quarters(targets),
        participants=1500,
        outputs=T.needed_outputs(targets),
        fixed={"n_employers": 60},
    )
    base.update(kw)
    return RunSettings(**base)


def test_identification_recovers_known_parameters(tmp_path):
    """Targets made by the model itself at known values; a small budget recovers them."""
    truth = {"attention_base": 0.05, "affinity_mean": -0.5}
    spec = {
        "target": [
            {
                "name": "inertia",
                "statistic": "annual_review_share@0",
                "observed": 0.0,
                "tolerance": 0.005,
                "source": "model",
            },
            {
                "name": "interest",
                "statistic": "interest_share@0",
                "observed": 0.0,
                "tolerance": 0.01,
                "source": "model",
            },
        ]
    }
    targets = T.parse_targets(spec, "identification")
    settings = _settings(targets)
    (tables,), _ = run_points([truth], settings, tmp_path / "truth", prefix="truth")
    for t, stat in zip(spec["target"], C.statistics(targets, tables).values(), strict=True):
        t["observed"] = stat
    targets = T.parse_targets(spec, "identification")
    dims = parse_space(["attention_base=0.005:0.1", "affinity_mean=-2:1"])
    study = C.calibrate(targets, dims, settings, tmp_path / "cal", trials=30, seed=3)
    best = study.best_params
    # stated tolerance: within 10% of each searched range
    assert best["attention_base"] == pytest.approx(truth["attention_base"], abs=0.0095)
    assert best["affinity_mean"] == pytest.approx(truth["affinity_mean"], abs=0.3)


def test_stopped_calibration_resumes_without_repeating_trials(tmp_path):
    targets = T.parse_targets(
        {
            "target": [
                {
                    "name": "x",
                    "statistic": "adoption_rate@1",
                    "observed": 0.3,
                    "tolerance": 0.1,
                    "source": "s",
                }
            ]
        },
        "t",
    )
    dims = parse_space(["attention_base=0:1"])
    settings = _settings(targets)
    seen: list[float] = []

    def fake(points, stop_at=None):
        out = []
        for p in points:
            if stop_at is not None and len(seen) == stop_at:
                raise KeyboardInterrupt  # the user stops the calibration mid-trial
            seen.append(p["attention_base"])
            out.append({"x": p["attention_base"]})
        return out

    with pytest.raises(KeyboardInterrupt):
        C.calibrate(targets, dims, settings, tmp_path, trials=10, evaluate=lambda p: fake(p, stop_at=3))
    first = list(seen)
    study = C.open_study(tmp_path)
    assert [t.params["attention_base"] for t in C.completed(study)] == first
    cut_off = [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
    assert len(cut_off) == 1
    study = C.calibrate(targets, dims, settings, tmp_path, trials=6, evaluate=fake)
    assert len(seen) == 6  # 3 earlier + 3 new: finished trials were not evaluated again
    assert seen[3] == cut_off[0].params["attention_base"]  # the cut-off trial is retried first
    done = C.completed(study)
    assert len(done) == 6 and [t.params["attention_base"] for t in done][:3] == first
    # the same folder with other targets is refused rather than mixed
    other = T.parse_targets(
        {
            "target": [
                {
                    "name": "y",
                    "statistic": "adoption_rate@1",
                    "observed": 0.3,
                    "tolerance": 0.1,
                    "source": "s",
                }
            ]
        },
        "t",
    )
    with pytest.raises(InputError, match="other targets"):
        C.calibrate(other, dims, settings, tmp_path, trials=7, evaluate=fake)


def test_cli_calibrate_writes_a_runnable_scenario_and_resumes(tmp_path):
    targets = _write(
        tmp_path,
        GOOD
        + """
[[target]]
name = "interest"
statistic = "interest_share@0"
observed = 0.25
tolerance = 0.05
source = "test"
""",
    )
    out, scen = tmp_path / "cal", tmp_path / "calibrated.toml"
    args = [
        "calibrate",
        str(targets),
        "--out",
        str(out),
        "--params",
        "attention_base=0.01:0.08,affinity_mean=-2:0",
        "--trials",
        "3",
        "--seeds",
        "1",
        "--participants",
        "1000",
        "--set",
        "n_employers=40",
        "--save-scenario",
        str(scen),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    fit = pd.read_csv(out / "fit.csv")
    assert fit["target"].tolist() == ["inertia", "interest"]
    assert {"observed", "simulated", "error_tolerances", "source"} <= set(fit.columns)
    loaded = scenarios.load(scen)
    assert loaded.name == "calibrated" and set(loaded.overrides) >= {"attention_base", "affinity_mean"}
    assert "crypto401k calibrate" in scen.read_text().splitlines()[1]
    assert scen.read_text() == (out / "calibrated.toml").read_text()
    for name in ("loss_history.png", "param_importance.png", "trials.csv"):
        assert (out / name).stat().st_size > 0
    # more trials later: the 3 finished ones are kept, 2 are added
    result = runner.invoke(app, [*args[:7], "5", *args[8:]])
    assert result.exit_code == 0, result.output
    trials = pd.read_csv(out / "trials.csv")
    assert (trials["state"] == "COMPLETE").sum() == 5 and len(trials) == 5


def test_cli_bad_targets_file_exits_2_and_writes_nothing(tmp_path):
    bad = _write(tmp_path, GOOD.replace("tolerance = 0.03", "tolerance = -1"))
    out = tmp_path / "cal"
    result = runner.invoke(app, ["calibrate", str(bad), "--out", str(out), "--params", "attention_base"])
    assert result.exit_code == 2
    assert "tolerance" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_the_declared_defaults_are_the_calibrated_values():
    # the defaults of the calibrated parameters name the calibration, and at the defaults the
    # scenario the calibration fits (observed: what has happened since the order, 20 quarters, the
    # experiments' size) fits the shipped targets (the fit table of docs/VALIDATION.md)
    calibrated = [p for p in P.PARAMETERS.values() if p.source.startswith("calibrated")]
    assert {"attention_base", "affinity_mean", "target_allocation", "innovation_strength"} <= {
        p.name for p in calibrated
    }
    assert all("experiments/calibration_targets.toml" in p.source for p in calibrated)
    targets = T.load_targets(Path("experiments/calibration_targets.toml"))
    runs = []
    for seed in range(2):
        m = Crypto401kModel("observed", rng=seed, n_participants=20_000, n_employers=400)
        m.run(T.needed_quarters(targets))
        runs.append(m.quarters_table())
    errors = {t.name: t.error(t.statistic.of_runs(runs)) for t in targets}
    assert all(abs(e) < 2.0 for e in errors.values()), errors

"""Sensitivity analysis: statistics grammar, SALib Morris/Sobol rankings, the CLI on the real model."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli.main import app
from experiments.tuning import moments
from experiments.tuning.sensitivity import run_sensitivity
from experiments.tuning.space import Dimension, parse_space
from model.errors import InputError

runner = CliRunner()


def _table(values):
    return pd.DataFrame(
        {
            "quarter": range(len(values)),
            "adoption_rate": values,
            "active_adoption_rate": values,
            "participants_with_option_share": [0.0] + [0.5] * (len(values) - 1),
        }
    )


def test_statistic_reads_a_quarter_a_window_or_the_last_quarter():
    t = _table([0.0, 0.1, 0.2, 0.3, 0.4])
    assert moments.parse("adoption_rate@2").of_run(t) == pytest.approx(0.2)
    assert moments.parse("adoption_rate@1:3").of_run(t) == pytest.approx(0.2)
    assert moments.parse("adoption_rate").of_run(t) == pytest.approx(0.4)
    assert math.isnan(moments.parse("adoption_rate@9").of_run(t))  # run too short
    # derived ratio: undefined where nobody is offered, averaged over seeds where defined
    up = moments.parse("uptake_when_offered@0")
    assert math.isnan(up.of_runs([t, t]))
    assert moments.parse("uptake_when_offered@4").of_runs([t, _table([0, 0, 0, 0, 0.2])]) == pytest.approx(
        0.6
    )


@pytest.mark.parametrize("text", ["adoption_rat@3", "adoption_rate@4:2", "adoption_rate@x", "date@1", "@3"])
def test_bad_statistics_are_refused(text):
    with pytest.raises(InputError):
        moments.parse(text)


def test_morris_ranks_a_parameter_without_effect_last():
    dims = [Dimension("strong", 0.0, 1.0), Dimension("none", 0.0, 1.0), Dimension("weak", 0.0, 1.0)]

    def toy(x):  # outcome = 5 strong + weak^2, nothing from "none"
        return 5.0 * x[:, 0] + x[:, 2] ** 2

    _, _, indices, dropped = run_sensitivity("morris", dims, toy, n=20, seed=1)
    assert dropped == 0
    assert indices["parameter"].tolist() == ["strong", "weak", "none"]
    none = indices.set_index("parameter").loc["none"]
    assert none["mu_star"] == 0.0 and none["rank"] == 3
    assert indices.set_index("parameter").loc["strong", "mu_star"] == pytest.approx(5.0)


def test_sobol_indices_split_the_variance():
    dims = [Dimension("a", 0.0, 1.0), Dimension("b", 0.0, 1.0), Dimension("c", 0.0, 1.0)]
    _, _, indices, _ = run_sensitivity("sobol", dims, lambda x: x[:, 0] + 0.3 * x[:, 1], n=256, seed=2)
    s = indices.set_index("parameter")
    # Var(a) : Var(0.3 b) = 1 : 0.09, no interactions, c inert
    assert s.loc["a", "S1"] == pytest.approx(1 / 1.09, abs=0.08)
    assert s.loc["b", "ST"] == pytest.approx(0.09 / 1.09, abs=0.05)
    assert abs(s.loc["c", "ST"]) < 0.01
    assert indices["parameter"].iloc[0] == "a"


def test_trajectories_with_undefined_outcomes_are_dropped_whole():
    dims = [Dimension("a", 0.0, 1.0), Dimension("b", 0.0, 1.0)]

    def flaky(x):
        y = x[:, 0].copy()
        y[[1, 7]] = np.nan  # rows of trajectories 0 and 2 (3 rows each)
        return y

    x, y, indices, dropped = run_sensitivity("morris", dims, flaky, n=6, seed=0)
    assert dropped == 2
    assert len(x) == len(y) == 4 * 3 and np.isfinite(y).all()
    assert indices.iloc[0]["parameter"] == "a"


def test_space_defaults_to_behavioural_and_checks_ranges():
    dims = parse_space(None)
    assert "attention_base" in [d.name for d in dims] and "n_participants" not in [d.name for d in dims]
    (d,) = parse_space(["attention_base=0.01:0.05"])
    assert (d.low, d.high) == (0.01, 0.05)
    for bad in (
        ["attention_base=0.5:0.1"],
        ["attention_base=0:7"],
        ["channel_401k"],
        ["nope"],
        ["attention_base=0.1"],
    ):
        with pytest.raises(InputError):
            parse_space(bad)


@pytest.mark.parametrize(
    "args",
    [
        ["--outcome", "adoptin_rate@4"],
        ["--outcome", "adoption_rate@4", "--method", "fast"],
        ["--outcome", "adoption_rate@4", "--params", "attention_base,bogus"],
        ["--outcome", "adoption_rate@4", "--method", "sobol", "--samples", "10"],
        ["--outcome", "adoption_rate@4", "--set", "attention_base=0.1"],
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, args):
    out = tmp_path / "sa"
    result = runner.invoke(app, ["sensitivity", "--out", str(out), "--participants", "500", *args])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output
    assert not (out / "indices.csv").exists()


def test_cli_morris_runs_the_real_model(tmp_path):
    out = tmp_path / "sa"
    args = [
        "sensitivity",
        "--method",
        "morris",
        "--outcome",
        "interest_share@0:2",
        "--out",
        str(out),
        "--params",
        "affinity_mean=-2:0,target_allocation,fee_sensitivity=0:2",
        "--samples",
        "3",
        "--seeds",
        "1",
        "--participants",
        "800",
        "--set",
        "n_employers=40",
        "--workers",
        "1",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    indices = pd.read_csv(out / "indices.csv")
    assert sorted(indices["parameter"]) == ["affinity_mean", "fee_sensitivity", "target_allocation"]
    # interest is utility > 0: the allocation size does not enter it, affinity does
    assert indices.iloc[0]["parameter"] == "affinity_mean"
    assert indices.set_index("parameter").loc["target_allocation", "mu_star"] == 0.0
    assert (out / "morris.png").stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == 3 * 4 and summary["groups_dropped"] == 0
    # same command again: refused, the results are there; with --force every run is read
    # from the store, same indices
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "already holds results" in refused.output
    again = runner.invoke(app, [*args, "--force"])
    assert again.exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "indices.csv"), indices)

"""The Bayesian calibration's parts on inputs with known answers (experiments/inference).

The stand-in model (tests/abc_toy.py) has a posterior known in closed form, so the kernel, the
SMC schedule, the posterior table and the checks are tested for what they report, fast; the
real model runs in tests/test_inference_cli.py.
"""

from __future__ import annotations

import math
import subprocess
import sys

import abc_toy
import numpy as np
import pandas as pd
import pytest

from experiments import posterior_table
from experiments.inference import diagnostics, predictive, recovery, samplers, smc
from experiments.inference.distance import TargetKernel, log_kernel
from experiments.inference.posterior import open_history, particles
from experiments.inference.priors import Prior
from experiments.tuning.targets import MISSING_ERROR, loss
from model.errors import InputError


def test_one_sided_targets_cost_nothing_inside_their_bound_and_the_normal_error_outside():
    upper = abc_toy.target("u", 0.01, 0.005, "upper")
    lower = abc_toy.target("l", 0.20, 0.05, "lower")
    point = abc_toy.target("p", 0.25, 0.07)
    k = TargetKernel([upper, lower, point])
    x0 = {"u": 0.01, "l": 0.20, "p": 0.25}
    # inside both bounds and on the point target: the kernel's maximum, 0
    assert k({"u": 0.0, "l": 0.9, "p": 0.25}, x0) == 0.0
    assert k({"u": 0.01, "l": 0.20, "p": 0.25}, x0) == 0.0
    # outside a bound: the normal error of the distance beyond it, on one side only
    assert k({"u": 0.02, "l": 0.9, "p": 0.25}, x0) == pytest.approx(-0.5 * 2.0**2)
    assert k({"u": 0.0, "l": 0.10, "p": 0.25}, x0) == pytest.approx(-0.5 * 2.0**2)
    # a point target costs on both sides
    assert k({"u": 0.0, "l": 0.9, "p": 0.18}, x0) == pytest.approx(-0.5)
    assert k({"u": 0.0, "l": 0.9, "p": 0.32}, x0) == pytest.approx(-0.5)
    # undefined: MISSING_ERROR tolerances
    assert k({"u": math.nan, "l": 0.9, "p": 0.25}, x0) == pytest.approx(-0.5 * MISSING_ERROR**2)


def test_the_kernel_is_the_optuna_fits_objective_and_reads_the_observed_values_of_the_history():
    targets = [abc_toy.target("a", 1.0, 0.5), abc_toy.target("b", 0.0, 0.1, "upper")]
    targets[0] = targets[0].__class__(**{**targets[0].__dict__, "weight": 2.0})
    sim = {"a": 1.7, "b": 0.05}
    value, _ = loss(targets, sim)
    assert log_kernel(targets, sim) == pytest.approx(-0.5 * 3.0 * value)
    # the observed values come from pyabc's x_0 (a resumed history), not the targets' copy
    k = TargetKernel(targets)
    assert k(sim, {"a": 1.7, "b": 0.05}) == 0.0


def _run(tmp_path, plan, name="run", simulator=None):
    np.random.seed(7)  # pyabc samples from numpy's global generator; in one process this fixes it
    with samplers.engine(1, None) as engine:
        outcome = smc.run(
            plan, tmp_path / name, engine, code_version="toy", simulator=simulator or abc_toy.Toy()
        )
    table = particles(open_history(tmp_path / name), list(plan.names))
    return outcome, table


def test_the_posterior_of_the_stand_in_matches_its_closed_form(tmp_path):
    # a and b alone: a ~ N(affinity, 0.3^2 + 0.5^2), b ~ N(2 attention, 0.05^2 + 0.1^2); with c
    # the joint is not Gaussian, so c is given a huge tolerance here (no information)
    plan = abc_toy.plan(population=400, generations=8)
    plan = smc.Plan(
        (plan.targets[0], plan.targets[1], abc_toy.target("c", 0.0, 1e6)), *list(plan.__dict__.values())[1:]
    )
    outcome, table = _run(tmp_path, plan)
    assert outcome.exact and outcome.temperature == 1.0
    w = table["weight"].to_numpy()
    m, v = diagnostics.weighted_mean_var(table["affinity_mean"].to_numpy(), w)
    assert m == pytest.approx(0.5, abs=0.15)
    assert math.sqrt(v) == pytest.approx(math.sqrt(0.3**2 + 0.5**2), rel=0.2)
    m, v = diagnostics.weighted_mean_var(table["attention_base"].to_numpy(), w)
    assert m == pytest.approx(0.3, abs=0.03)
    assert math.sqrt(v) == pytest.approx(math.sqrt(0.05**2 + 0.1**2) / 2, rel=0.2)


def test_a_stopped_run_resumes_from_its_last_generation_and_a_budget_stops_it_between_generations(tmp_path):
    first = abc_toy.plan(population=50, generations=6, budget=400)
    outcome, _ = _run(tmp_path, first)
    assert not outcome.exact and "budget" in outcome.reason
    assert outcome.simulations <= 400 or outcome.generations == 1  # generation 0 always runs
    before = open_history(tmp_path / "run").get_all_populations()
    more = smc.Plan(*list(first.__dict__.values())[:-1], budget=50_000)
    again, _ = _run(tmp_path, more)
    after = open_history(tmp_path / "run").get_all_populations()
    assert again.exact and again.new_generations == again.generations - outcome.generations > 0
    # the finished generations are kept as they were, not redone
    pd.testing.assert_frame_equal(
        after.iloc[: len(before)].reset_index(drop=True), before.reset_index(drop=True)
    )
    # another plan in the same folder is refused in one line
    other = abc_toy.plan(population=50, a=2.0)
    with pytest.raises(InputError, match="other targets, priors or run settings"):
        smc.check_folder(tmp_path / "run", other, "toy")
    with pytest.raises(InputError, match="model code"):
        smc.check_folder(tmp_path / "run", more, "other-code")


class _Overconfident:
    """Synthetic targets drawn with 4x the noise their tolerances declare."""

    def __call__(self, t):
        return 4 * t.tolerance


@pytest.mark.parametrize("noise", ["declared", "understated"])
def test_recovery_covers_the_truth_at_the_nominal_rate_and_sees_an_overconfident_posterior(
    tmp_path, monkeypatch, noise
):
    if noise == "understated":  # the error model says tol, the data have 4 tol: intervals too narrow
        monkeypatch.setattr(recovery, "noise_sd", _Overconfident())
    np.random.seed(11)
    plan = abc_toy.plan(population=50, generations=4, budget=2000)
    with samplers.engine(1, None) as engine:
        rows = recovery.run(
            plan, tmp_path, engine, points=8, seed=3, code_version="toy", make_simulator=abc_toy.Toy
        )
    cov = recovery.coverage(rows).set_index("parameter")
    assert len(rows) == 16 and set(cov.index) == {"affinity_mean", "attention_base", "all"}
    if noise == "declared":
        assert cov.loc["all", "consistent"], cov
        assert cov.loc["all", "coverage_lo"] <= 0.9 <= cov.loc["all", "coverage_hi"]
    else:
        assert not cov.loc["all", "consistent"] and cov.loc["all", "coverage"] < 0.6, cov


def test_identification_reports_contraction_and_flags_what_the_targets_leave_open():
    rng = np.random.default_rng(0)
    n = 4000
    priors = [Prior("affinity_mean", -5, 5, "declared"), Prior("attention_base", 0, 1, "declared")]
    table = pd.DataFrame(
        {
            "particle": np.arange(n),
            "weight": np.full(n, 1 / n),
            "affinity_mean": rng.normal(-0.75, 0.1, n),  # pinned down
            "attention_base": rng.uniform(0, 1, n),  # the prior itself
        }
    )
    ident = diagnostics.identification(priors, table).set_index("parameter")
    assert ident.loc["affinity_mean", "contraction"] == pytest.approx(1 - 0.01 / (100 / 12), abs=1e-3)
    assert ident.loc["affinity_mean", "identified"]
    assert ident.loc["affinity_mean", "shift"] == pytest.approx(-0.75 / (10 / math.sqrt(12)), abs=0.01)
    assert abs(ident.loc["attention_base", "contraction"]) < 0.1
    assert ident.loc["attention_base", "verdict"] == diagnostics.NOT_IDENTIFIED
    lo, hi = ident.loc["attention_base", ["contraction_q05", "contraction_q95"]]
    assert lo < 0.0 < hi  # its interval says the contraction is indistinguishable from none
    assert ident.loc["affinity_mean", "posterior_q05"] == pytest.approx(-0.75 - 1.645 * 0.1, abs=0.02)


def test_the_predictive_check_says_inside_or_not_per_target_and_reads_bounds_one_sided():
    rng = np.random.default_rng(1)
    sims = pd.DataFrame({"p": rng.normal(0.25, 0.01, 500), "u": rng.normal(0.05, 0.001, 500)})
    targets = [
        abc_toy.target("p", 0.25, 0.01),
        abc_toy.target("u", 0.01, 0.005, "upper"),
    ]
    check = predictive.check(targets, sims).set_index("target")
    assert check.loc["p", "inside"]
    assert not check.loc["u", "inside"]  # the simulated statistic is far above the bound
    sims["u"] = rng.normal(0.0, 0.001, 500)
    assert predictive.check(targets, sims).set_index("target").loc["u", "inside"]
    far = predictive.check([abc_toy.target("p", 0.40, 0.01)], sims).iloc[0]
    assert not far["inside"] and far["band_q95"] < 0.40


def test_halved_and_doubled_priors_keep_inside_the_declared_range():
    p = Prior("attention_base", 0.0, 0.4, "narrowed")
    half = p.scaled(0.5, centre=0.02)
    assert (half.low, half.high) == pytest.approx((0.0, 0.2))  # shifted, not cut, at the edge
    double = p.scaled(2.0, centre=0.3)
    assert (double.low, double.high) == pytest.approx((0.0, 0.8))
    assert Prior("attention_base", 0.0, 1.0, "declared").scaled(2.0, 0.5).high == 1.0


def test_the_posterior_table_round_trips_with_its_metadata_and_refuses_a_broken_one(tmp_path):
    table = pd.DataFrame({"particle": [0, 1], "weight": [0.25, 0.75], "affinity_mean": [-1.0, 0.5]})
    meta = {
        "parameters": ["affinity_mean"],
        "priors": [{"name": "affinity_mean", "low": -5, "high": 5, "source": "x"}],
    }
    posterior_table.write(tmp_path / "posterior.parquet", table, meta)
    back, doc = posterior_table.read(tmp_path)
    pd.testing.assert_frame_equal(back, table)
    assert doc["format"] == posterior_table.FORMAT and doc["parameters"] == ["affinity_mean"]
    drawn = posterior_table.draw(back, 4000, seed=0)
    assert (drawn["particle"] == 1).mean() == pytest.approx(0.75, abs=0.03)
    with pytest.raises(InputError, match="sum to 1"):
        posterior_table.write(tmp_path / "bad.parquet", table.assign(weight=[0.5, 0.75]), meta)
    table.to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(InputError, match="not a posterior table"):
        posterior_table.read(tmp_path / "plain.parquet")


def test_the_posterior_table_is_read_without_pyabc():
    code = "import sys, experiments.posterior_table; assert 'pyabc' not in sys.modules, 'pyabc imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
@pytest.mark.timeout(5400)
def test_recovery_on_the_real_model_at_a_tiny_size(tmp_path):
    # the model itself (300 participants, 20 employers): two parameters the targets read directly
    # (interest at the order and the annual review share), true points drawn from narrowed priors
    from experiments.inference import priors as PR
    from experiments.tuning import targets as T
    from experiments.tuning.runs import RunSettings

    targets = tuple(
        t
        for t in T.load_targets("experiments/calibration_targets.toml")
        if t.name in ("interest_at_order", "annual_allocation_changes")
    )
    priors = (PR.Prior("affinity_mean", -2.0, 0.5, "test"), PR.Prior("attention_base", 0.005, 0.1, "test"))
    settings = RunSettings("baseline", (0,), 4, 300, T.needed_outputs(list(targets)), {"n_employers": 20})
    plan = smc.Plan(targets, priors, settings, 1, 40, 4, 1200)
    np.random.seed(5)
    with samplers.engine(1, None) as engine:
        rows = recovery.run(plan, tmp_path, engine, points=10, seed=1, code_version="test")
    cov = recovery.coverage(rows).set_index("parameter")
    print(cov.to_string())  # the figure the closing note quotes (pytest -s shows it)
    assert cov.loc["all", "consistent"], cov


def test_a_targets_file_narrowing_a_parameter_not_varied_here_serves_the_calibration_anyway():
    # the shipped targets file narrows seven priors; a calibration of one parameter uses its own
    from experiments.inference import priors
    from experiments.tuning.space import Dimension
    from experiments.tuning.targets import PriorRange

    narrowed = {
        "affinity_mean": PriorRange("affinity_mean", -3.0, 2.0, "cited"),
        "employer_base_logit": PriorRange("employer_base_logit", -12.0, 0.0, "cited"),
    }
    built = priors.build([Dimension("affinity_mean", -5.0, 5.0)], narrowed, set(), "t.toml")
    assert [(p.name, p.low, p.high) for p in built] == [("affinity_mean", -3.0, 2.0)]
    built = priors.build([Dimension("attention_base", 0.0, 1.0)], narrowed, set(), "t.toml")
    assert [(p.name, p.low, p.high) for p in built] == [("attention_base", 0.0, 1.0)]

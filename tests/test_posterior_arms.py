"""Experiment arms drawn from a calibration's posterior, and the report's two columns: at the
calibrated point (seeds only) and over the posterior (parameters and seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import posterior_table
from experiments.batch import report
from experiments.batch.experiment_file import load_experiment
from experiments.batch.runner import run_batch
from experiments.batch.store import load_results
from model.errors import InputError

PARTICLES = pd.DataFrame(
    {
        "particle": [0, 1, 2],
        "weight": [0.5, 0.3, 0.2],
        "affinity_mean": [-1.5, -0.5, 0.5],
        "target_allocation": [0.01, 0.02, 0.03],
    }
)
META = {
    "parameters": ["affinity_mean", "target_allocation"],
    "priors": [
        {"name": "affinity_mean", "low": -3.0, "high": 2.0, "source": "test"},
        {"name": "target_allocation", "low": 0.0, "high": 0.1, "source": "test"},
    ],
}
EXPERIMENT = """
[experiment]
name = "arms"
scenarios = ["baseline", "no_401k"]
replicates = 6
quarters = 3
participants = 400

[parameters]
n_employers = 20

[posterior]
file = "post/posterior.parquet"
"""


def write(tmp_path, text=EXPERIMENT, particles=PARTICLES, meta=META):
    (tmp_path / "post").mkdir(exist_ok=True)
    posterior_table.write(tmp_path / "post" / "posterior.parquet", particles, meta)
    path = tmp_path / "e.toml"
    path.write_text(text)
    return path


def test_each_replicate_takes_one_particle_in_every_scenario_with_the_point_arms_seed(tmp_path):
    runs = load_experiment(write(tmp_path)).runs()
    point = {r.run_id: r for r in runs if r.draw == "point"}
    drawn = [r for r in runs if r.draw == "posterior"]
    assert len(point) == len(drawn) == 12
    for r in drawn:
        twin = point[r.run_id.replace(".posterior", "")]
        assert r.seed == twin.seed and set(r.drawn) == {"affinity_mean", "target_allocation"}
        row = PARTICLES[PARTICLES["affinity_mean"] == r.params["affinity_mean"]]
        assert len(row) == 1 and row["target_allocation"].iloc[0] == r.params["target_allocation"]
        assert [f.role for f in r.inputs] == ["posterior"]
    by_replicate = {}
    for r in drawn:
        by_replicate.setdefault(r.run_id[-4:], set()).add(r.params["affinity_mean"])
    assert all(len(v) == 1 for v in by_replicate.values())  # the same particle in both scenarios
    # particles are drawn by weight: over many replicates the heaviest comes up most
    many = load_experiment(write(tmp_path, EXPERIMENT.replace("replicates = 6", "replicates = 400"))).runs()
    drawn_values = pd.Series([r.params["affinity_mean"] for r in many if r.draw == "posterior"])
    shares = drawn_values.value_counts(normalize=True)
    assert shares[-1.5] > shares[-0.5] > shares[0.5]
    assert abs(shares[-1.5] - 0.5) < 0.07


def test_posterior_runs_are_stored_with_their_table_and_an_edited_table_means_new_runs(tmp_path):
    exp = write(tmp_path)
    out = tmp_path / "store"
    assert run_batch(load_experiment(exp).runs(), out, workers=1, progress=False).completed == 24
    runs = load_results(out, "SELECT DISTINCT run_id, draw, param_affinity_mean FROM runs")
    assert set(runs["draw"]) == {"point", "posterior"}
    assert runs[runs["draw"] == "point"]["param_affinity_mean"].isna().all()
    inputs = load_results(out, "SELECT role FROM inputs")
    assert "posterior" in set(inputs["role"])
    # the same particles from another calibration (its record differs): other runs, never mixed
    write(tmp_path, meta={**META, "simulations": 999})
    with pytest.raises(InputError, match="posterior.parquet changed"):
        run_batch(load_experiment(exp).runs(), out, workers=1, progress=False)
    # particles that differ are other settings: refused as well
    write(tmp_path, particles=PARTICLES.assign(affinity_mean=[-1.4, -0.5, 0.5]))
    with pytest.raises(InputError, match="other settings"):
        run_batch(load_experiment(exp).runs(), out, workers=1, progress=False)


def test_a_parameter_drawn_from_the_posterior_cannot_also_be_designed(tmp_path):
    text = EXPERIMENT + "\n[grid]\naffinity_mean = [-1.0, 0.0]\n"
    text = text.replace("[posterior]", "[posterior]").replace('file = "post', 'file = "post')
    with pytest.raises(InputError, match="drawn from the posterior and also set"):
        load_experiment(write(tmp_path, text))
    with pytest.raises(InputError, match="posterior table not found"):
        load_experiment(write(tmp_path, EXPERIMENT.replace("post/posterior", "nowhere/posterior")))
    with pytest.raises(InputError, match="unknown arm"):
        load_experiment(write(tmp_path, EXPERIMENT + 'arms = ["point", "prior"]\n'))


def test_the_parameter_share_of_variance_reads_the_two_arms():
    rng = np.random.default_rng(0)
    seeds = rng.normal(0, 1, 4000)  # seeds only
    both = rng.normal(0, 1, 4000) + rng.normal(0, np.sqrt(3), 4000)  # parameters add variance 3
    share = report.parameter_share(seeds, both)
    assert share.value == pytest.approx(0.75, abs=0.03) and share.low < 0.75 < share.high
    same = report.parameter_share(seeds, rng.normal(0, 1, 4000))
    assert same.value < 0.05 and same.low == 0.0


def test_the_report_shows_both_columns(tmp_path):
    exp = write(tmp_path)
    out = tmp_path / "store"
    run_batch(load_experiment(exp).runs(), out, workers=1, progress=False)
    written = report.write_report(out)
    text = written["summary"].read_text()
    assert "at the calibrated point (seeds only)" in text and "over the posterior" in text
    table = pd.read_csv(written["point_and_posterior"])
    assert set(table["arm"]) == {"baseline"}  # not the counterfactual
    assert {"point", "posterior", "parameter_share"} <= set(table.columns)


def test_scenario_discovery_can_sample_from_the_posterior(tmp_path):
    from experiments.discovery.analysis import load_cases

    text = EXPERIMENT.replace('scenarios = ["baseline", "no_401k"]', 'scenarios = ["baseline"]')
    text = text.replace("replicates = 6", "replicates = 12\ncommon_random_numbers = false")
    exp = write(tmp_path, text + 'arms = ["posterior"]\n')
    runs = load_experiment(exp).runs()
    assert {r.draw for r in runs} == {"posterior"} and len({r.seed for r in runs}) == 12
    out = tmp_path / "store"
    run_batch(runs, out, workers=1, progress=False)
    cases = load_cases(out)
    assert set(cases.x.columns) == {"affinity_mean", "target_allocation"}  # PRIM's inputs: the particles


def test_the_parameter_share_is_read_inside_the_posterior_when_particles_repeat():
    # 60 particles drawn ~5 times each, each run its own seed: parameter variance 3, seed variance 1
    rng = np.random.default_rng(1)
    particles = rng.integers(0, 60, 300)
    effect = rng.normal(0, np.sqrt(3), 60)
    posterior = effect[particles] + rng.normal(0, 1, 300)
    # an atypical point: its seeds vary more than the posterior's runs in all (the old estimate reads 0)
    point = rng.normal(5, 3, 300)
    share = report.parameter_share(point, posterior, particles)
    assert share.low < 0.75 < share.high and 0.6 < share.value < 0.9
    assert report.parameter_share(point, posterior).value == 0.0  # the point-based estimate cannot see it
    # parameters that do nothing: the share is near 0 whatever the point
    flat = report.parameter_share(point, rng.normal(0, 1, 300), particles)
    assert flat.value < 0.1 and flat.low == 0.0
    # no particle drawn twice: the point-based estimate, as before
    unique = np.arange(300)
    seeds = rng.normal(0, 1, 300)
    both = rng.normal(0, 2, 300)
    assert report.parameter_share(seeds, both, unique).value == pytest.approx(0.75, abs=0.12)

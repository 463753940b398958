"""`crypto401k validate`: the report is regenerated from fresh runs (smoke plan, small sizes)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.main import app
from experiments.reports.validation import FULL, QUICK, Plan, ci_half_width, replicates_for

runner = CliRunner()


MOAT_PAIRS = """
[experiment]
name = "tiny_moat"
scenarios = ["baseline"]
replicates = 2
quarters = 3
participants = 1000
outputs = ["moat_index", "rule_status", "channel_open"]
common_random_numbers = true

[parameters]
n_employers = 20

[grid]
exposure_in_politics = [true, false]
"""


@pytest.fixture(scope="module")
def moat_store(tmp_path_factory):
    """A tiny store of the moat experiment's design: the same seeds with and without exposure."""
    from experiments.batch.experiment_file import load_experiment
    from experiments.batch.runner import run_batch

    tmp = tmp_path_factory.mktemp("moat")
    (tmp / "exp.toml").write_text(MOAT_PAIRS)
    run_batch(load_experiment(tmp / "exp.toml").runs(), tmp / "store", workers=1, progress=False)
    return tmp / "store"


@pytest.fixture(scope="module")
def report(tmp_path_factory, moat_store):
    out = tmp_path_factory.mktemp("validation")
    result = runner.invoke(app, ["validate", "--out", str(out), "--quick", "--moat-store", str(moat_store)])
    assert result.exit_code == 0, result.output
    return out, (out / "VALIDATION.md").read_text()


def test_the_moat_section_reads_the_paired_store(report):
    """The paired moat table comes from the store given, one row per scenario with its pairs."""
    _, md = report
    section = md[md.index("The moat, paired on seeds") :]
    assert "From the shipped experiment `moat_resilience` (4 runs, 1,000 participants" in section
    row = next(line for line in section.splitlines() if line.startswith("| baseline | 2 |"))
    assert row.count("[") == 3  # both shares and the difference carry their interval


def test_a_store_without_exposure_pairs_is_refused_before_any_run(tmp_path, moat_store):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    result = runner.invoke(app, ["validate", "--out", str(out), "--quick", "--moat-store", str(empty)])
    assert result.exit_code == 2 and "'--moat-store': not a batch store" in result.output
    assert "Traceback" not in result.output and not out.exists()

    from experiments.batch.experiment_file import load_experiment
    from experiments.batch.runner import run_batch

    unpaired = tmp_path / "unpaired.toml"
    unpaired.write_text(MOAT_PAIRS.replace("[grid]\nexposure_in_politics = [true, false]\n", ""))
    run_batch(load_experiment(unpaired).runs(), tmp_path / "store", workers=1, progress=False)
    result = runner.invoke(
        app, ["validate", "--out", str(out), "--quick", "--moat-store", str(tmp_path / "store")]
    )
    assert result.exit_code == 2 and "exposure_in_politics" in result.output
    assert "moat_resilience.toml" in result.output and not out.exists()


def test_writes_markdown_and_plots(report):
    out, md = report
    pngs = sorted(p.name for p in (out / "validation").glob("*.png"))
    assert pngs == [
        "bass.png",
        "convergence.png",
        "population.png",
        "replicates.png",
        "static.png",
        "volatility_measures.png",
    ]
    for png in pngs:
        assert f"(validation/{png})" in md
        assert (out / "validation" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.rglob(".*"))  # no temporary files left behind
    for heading in (
        "Static scenarios",
        "Initial population",
        "Convergence in agent count",
        "Replicates and common random numbers",
        "Calibration fit",
        "against the Bass model",
        "Volatility measures that can see the effect",
        "Conservation and bounds",
        "The moat, paired on seeds",
    ):
        assert heading in md
    assert "Smoke-test plan" in md


def test_static_scenarios_reproduce_the_seed_arithmetic(report):
    _, md = report
    row = next(line for line in md.splitlines() if line.startswith("| static_1pct "))
    assert row.startswith("| static_1pct | 1.0% | $87.0B | $87.0B | 0.0000% |") and row.endswith("| pass |")
    row5 = next(line for line in md.splitlines() if line.startswith("| static_5pct "))
    assert row5.startswith("| static_5pct | 5.0% | $435.0B | $435.0B |")
    assert "reproduce the seed arithmetic: yes" in md


def test_common_random_numbers_shrink_the_counterfactual_variance(report):
    """Baseline and no_401k with the same seed share the market path: the paired price difference
    varies far less than with independent seeds."""
    _, md = report
    factor = float(re.search(r"variance cut by a factor of ([\d,.]+)\.", md)[1].replace(",", ""))
    assert factor > 100


def test_population_table_states_sources_and_totals(report):
    _, md = report
    assert "| 401(k) assets | $8,700.0B | $8,700.0B | ICI, 31 Mar 2025 |" in md
    assert "Vanguard HAS 2025" in md and "PLANSPONSOR" in md


def test_output_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    result = runner.invoke(app, ["validate", "--out", str(target), "--quick"])
    assert result.exit_code == 2
    assert "not a folder" in result.output and "Traceback" not in result.output
    assert target.read_text() == "x"


def test_replicates_formula():
    assert replicates_for(10e9, 10e9) == math.ceil(1.959964**2)  # 4
    assert replicates_for(20e9, 10e9) == math.ceil((1.959964 * 2) ** 2)  # 16: twice the SD, 4x the runs
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert ci_half_width(x) == pytest.approx(3.182446 * x.std(ddof=1) / 2, rel=1e-5)


def test_full_plan_covers_the_issue_sizes_and_the_default():
    assert FULL.sizes == (10_000, 20_000, 50_000, 100_000, 300_000)
    assert 20_000 in FULL.sizes  # the shipped experiments' size
    assert FULL.employers(100_000) == 2_000  # the default ratio
    assert FULL.headline == (12, 40)
    assert QUICK.headline == (3, 6)
    with pytest.raises(ValueError):
        Plan(sizes=(1, 2), replicates=(3,))


def test_calibration_fit_table_reads_the_declared_defaults(tmp_path, monkeypatch):
    """The section tabulates each target's fit at the declared (calibrated) defaults."""
    from experiments.reports import validation as V

    targets = tmp_path / "targets.toml"
    targets.write_text(
        '[[target]]\nname = "adoption"\nstatistic = "adoption_rate@2"\nobserved = 0.05\n'
        'tolerance = 0.01\nsource = "test figure"\n'
    )
    monkeypatch.setattr(V, "CALIBRATION_TARGETS", targets)
    plan = Plan(
        quarters=2,
        headline_quarters=(2,),
        sizes=(1_000,),
        replicates=(2,),
        paired_size=1_000,
        paired_replicates=2,
        participants_per_employer=20,
    )
    md = V.calibration_section(V.Runs(plan, log=lambda s: None))
    row = next(line for line in md.splitlines() if line.startswith("| adoption "))
    assert "`adoption_rate@2`" in row and "test figure" in row
    assert "`attention_base`" in md and "`affinity_mean`" in md  # the calibrated parameters are named


def test_the_convergence_verdict_is_also_given_per_headline_quarter(report):
    """A size may match the largest at the horizon but not early on: the report says which."""
    from experiments.reports.validation import _smallest_passing

    _, md = report
    assert "at quarter 3 alone:" in md and "at quarter 6 alone:" in md
    # the smallest size from which every larger size passes: a failing middle size stops the walk
    assert _smallest_passing((1, 2, 3), {1: True, 2: False, 3: True}) == 3
    assert _smallest_passing((1, 2, 3), {1: True, 2: True, 3: True}) == 1
    assert _smallest_passing((1, 2, 3), {1: True, 2: True, 3: False}) is None

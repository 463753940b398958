"""Edge cases researchers reach when they push a parameter to its end.

One participant, one quarter, 200 quarters, every plan offering from quarter 0, no plan ever
offering, a 99% one-quarter crash, a zero flow multiplier, and a population too large for the
machine's memory (refused, with an estimate, before anything is allocated).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from invariants import check_state, check_table, run_checked
from toml_fuzz import check_clean_failure, invoke

from model import resources
from model.calendar import quarter_to_date
from model.errors import InputError
from model.model import Crypto401kModel

SMALL = {"n_participants": 400, "n_employers": 40}


def run(scenario="baseline", quarters=40, seed=3, **params):
    """A run with the state checked every quarter and the table checked at the end."""
    m = Crypto401kModel(scenario, rng=seed, **{**SMALL, **params})
    for _ in range(quarters):
        m.step()
        check_state(m)
    table = m.quarters_table()
    check_table(table, m.params, scheduled_only=m.politics is None or not m.regulation.overridden)
    return m, table


@pytest.mark.parametrize("n_employers", [1, 40])
def test_one_participant(n_employers):
    m, table = run(n_participants=1, n_employers=n_employers, initial_offering_share=1.0)
    assert m.population.n == 1
    assert set(table["adoption_rate"]) <= {0.0, 1.0}


def test_one_quarter_from_the_command_line(tmp_path):
    out = tmp_path / "out"
    result = invoke(
        [
            "run",
            "--quarters",
            "1",
            "--participants",
            "300",
            "--set",
            "n_employers=30",
            "--out",
            str(out),
            "--no-dashboard",
        ]
    )
    assert result.code == 0, result.stderr
    rows = (out / "quarters.csv").read_text().strip().splitlines()
    assert len(rows) == 3  # header, quarter 0, quarter 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["headline"]["final_quarter"] == 1
    assert "cumulative_net_flow_usd_q4" not in summary["headline"]


def test_two_hundred_quarters():
    m, table = run(quarters=200, n_participants=300)
    assert len(table) == 201
    assert table["date"].iloc[-1] == quarter_to_date(200) == "2075Q3"
    # Everyone alive at quarter 0 has retired by quarter 200 (50 years on, retirement by ~65).
    assert (m.population.entered > 0).all()


def test_every_plan_offering_from_quarter_zero():
    _m, table = run(initial_offering_share=1.0, menu_review_rate=0.0)
    assert (table["plans_offering_share"] == 1.0).all()
    assert (table["participants_offered_share"] == 1.0).all()
    assert table["adoption_rate"].iloc[-1] > 0


def test_no_plan_ever_offering():
    _m, table = run(initial_offering_share=0.0, menu_review_rate=0.0, tdf_sleeve=0.0)
    assert (table["plans_offering_share"] == 0).all()
    assert (table["adoption_rate"] == 0).all()
    assert (table["crypto_aum_usd"] == 0).all() and (table["cumulative_net_flow_usd"] == 0).all()
    assert (table["price_index"] == table["price_index_no_401k"]).all()


def test_ninety_nine_percent_crash_in_one_quarter():
    # No exogenous noise: the crash quarter alone takes 99% of the price without the plans.
    _m, table = run(
        crash_quarter=3,
        crash_depth=0.99,
        crash_quarters=1,
        crypto_vol_annual=0.0,
        crypto_drift_annual=0.0,
        initial_offering_share=1.0,
    )
    shadow = table["price_index_no_401k"]
    assert shadow.iloc[3] / shadow.iloc[2] == pytest.approx(0.01, rel=1e-9)
    assert table["max_drawdown"].iloc[3] > 0.95
    # Holders panic after the fall: sales exceed purchases in the quarters that follow.
    after = table.iloc[4:7]
    assert after["sales_usd"].sum() > after["purchases_usd"].sum()


@pytest.mark.parametrize("scenario", ["static_1pct", "static_5pct"])
def test_price_impact_scales_with_the_flow_multiplier(scenario):
    # The static claims buy the same dollars whatever the price: impact ~ M x flow (with a fixed
    # float: long-term holders selling into the rise would damp the larger impact more).
    low = run(scenario, quarters=4, flow_multiplier=1.0, lth_supply_response=0.0)[1]
    high = run(scenario, quarters=4, flow_multiplier=4.0, lth_supply_response=0.0)[1]
    assert (low["net_flow_usd"].abs() > 0).any()
    assert np.array_equal(low["price_index_no_401k"], high["price_index_no_401k"])
    moved = low["flow_price_impact"].abs() > 1e-9
    assert moved.any()
    ratio = high["flow_price_impact"][moved] / low["flow_price_impact"][moved]
    assert ((ratio > 3.0) & (ratio < 5.5)).all()


def test_every_shipped_scenario_at_one_participant():
    for name in ("baseline", "crash", "static_5pct", "no_401k"):
        run_checked(name, 0, {"n_participants": 1, "n_employers": 1})


# --- memory
def test_population_too_large_for_memory_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(resources, "available_bytes", lambda: 200_000_000)

    def never(*args, **kwargs):
        raise AssertionError("the population was allocated before the memory check")

    monkeypatch.setattr("model.model.Population", never)
    with pytest.raises(InputError) as err:
        Crypto401kModel("baseline", rng=0, n_participants=1_000_000)
    text = str(err.value)
    assert "n_participants" in text and "needs about" in text and "0.2 GB is available" in text
    assert "allowed: at most about" in text


def test_memory_refusal_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "available_bytes", lambda: 200_000_000)
    out = tmp_path / "out"
    result = invoke(["run", "--participants", "5000000", "--out", str(out)])
    check_clean_failure(result, source=None)
    assert "needs about" in result.stderr
    assert not out.exists()


def test_largest_population_that_fits_is_accepted():
    have = 2_000_000_000
    params = {"n_participants": 0, "social_degree": 8, "n_employers": 2000}
    most = resources.max_participants(params, have)
    assert most > 100_000
    assert resources.estimate_bytes({**params, "n_participants": most}) <= resources.HEADROOM * have
    assert resources.estimate_bytes({**params, "n_participants": most + 100}) > resources.HEADROOM * have


def test_estimate_covers_a_measured_model():
    """The estimate is at least the memory a real (small) model's arrays hold."""
    m = Crypto401kModel("baseline", rng=0, n_participants=20_000, n_employers=200, social_degree=16)
    arrays = sum(v.nbytes for v in vars(m.population).values() if isinstance(v, np.ndarray))
    assert resources.estimate_bytes(m.params) - resources.FIXED_BYTES > arrays

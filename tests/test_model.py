"""Core model behaviour: accounting, bounds, determinism, scenarios, calibration of quarter 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from invariants import check_accounting

from agents.participant import rule as rules
from agents.participant.population import AGE_BANDS, VANGUARD_MEAN_BALANCE
from model import parameters as P
from model.errors import InputError
from model.model import Crypto401kModel
from model.outputs import OUTPUTS
from model.plan_sizes import PARTICIPANT_SHARE

SMALL = {"n_participants": 3000, "n_employers": 150}


def run(scenario="baseline", quarters=20, seed=7, **params):
    m = Crypto401kModel(scenario, rng=seed, **{**SMALL, **params})
    m.run(quarters)
    return m, m.quarters_table()


@pytest.fixture(scope="module")
def baseline():
    return run("baseline", 40)


@pytest.fixture(scope="module")
def crash():
    return run("crash", 24)


@pytest.mark.parametrize("which", ["baseline", "crash"])
def test_accounting_identity_every_quarter(which, baseline, crash):
    _, table = {"baseline": baseline, "crash": crash}[which]
    assert (table["crypto_aum_usd"] > 0).any(), "the identity must be tested on a run with crypto"
    check_accounting(table)


def test_outputs_are_the_declared_names(baseline):
    _, table = baseline
    assert list(table.columns) == list(OUTPUTS)
    assert table["quarter"].tolist() == list(range(41))
    assert table["date"].iloc[0] == "2025Q3" and table["date"].iloc[4] == "2026Q3"


def test_shares_bounded_no_nan_no_negative(baseline, crash):
    for m, table in (baseline, crash):
        numeric = table.select_dtypes("number")
        assert np.isfinite(numeric.to_numpy()).all()
        for col in (
            "adoption_rate",
            "active_adoption_rate",
            "default_adoption_rate",
            "plans_offering_share",
            "participants_offered_share",
            "crypto_share_of_401k_assets",
            "drawdown",
            "max_drawdown",
            "clarity",
        ):
            assert table[col].between(0.0, 1.0).all(), col
        assert (table["active_adoption_rate"] <= table["adoption_rate"] + 1e-12).all()
        pop = m.population
        for col in ("balance_other", "units_active", "units_default", "salary"):
            assert (getattr(pop, col) >= 0).all(), col
        assert (table["price_index"] > 0).all() and (table["crypto_aum_usd"] >= 0).all()
        assert table["max_drawdown"].is_monotonic_increasing


def test_same_seed_same_output_and_different_seeds_differ():
    _, a = run(quarters=12, seed=11)
    _, b = run(quarters=12, seed=11)
    _, c = run(quarters=12, seed=12)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not a["price_index"].equals(c["price_index"])
    assert not a["adoption_rate"].equals(c["adoption_rate"])


@pytest.mark.parametrize(
    "name,share,expected",
    [("static_1pct", 0.01, 87e9), ("static_2_5pct", 0.025, 217.5e9), ("static_5pct", 0.05, 435e9)],
)
def test_static_scenarios_reproduce_seed_arithmetic(name, share, expected):
    m, table = run(name, quarters=8)
    q0, q1 = table.iloc[0], table.iloc[1]
    assert q0["total_401k_assets_usd"] == pytest.approx(8.7e12, rel=1e-9)
    assert q0["crypto_aum_usd"] == 0.0 and q0["price_index"] == 1.0
    # The claim's purchase (share x $8.7T at the order) is new money committed in quarter 1,
    # bought across that quarter's weeks together with the payroll pipeline at the static share.
    assert q1["invested_usd"] - q1["contributions_to_crypto_usd"] == pytest.approx(expected, rel=1e-9)
    assert q1["purchases_usd"] == pytest.approx(expected, rel=1e-9)
    assert q1["adoption_rate"] == 1.0
    # Then buy and hold: only the payroll pipeline buys, nothing is sold but retirees' crypto.
    later = table.iloc[2:]
    assert (later["purchases_usd"] == 0).all() and (later["sales_usd"] == 0).all()
    assert (later["contributions_to_crypto_usd"] > 0).all()
    assert (later["invested_usd"] == later["contributions_to_crypto_usd"]).all()
    assert (later["adoption_rate"] == 1.0).all()
    check_accounting(table)
    # The purchase moves the price through the multiplier M: about M x dollars / market value.
    impact = table["flow_price_impact"].iloc[1]
    assert (
        0.5 * m.params["flow_multiplier"] * expected / m.params["crypto_market_cap_usd"]
        < impact
        < 2 * m.params["flow_multiplier"] * expected / m.params["crypto_market_cap_usd"]
    )


def test_initial_population_matches_calibration():
    m = Crypto401kModel("baseline", rng=3, n_participants=200_000, n_employers=2000)
    pop = m.population
    raw = pop.balance / pop.balance_scale
    assert (pop.balance.sum() * pop.weight) == pytest.approx(8.7e12, rel=1e-9)
    # Average balance within 10% of Vanguard's $148,153 (before scaling to ICI's $8.7T).
    assert raw.mean() == pytest.approx(VANGUARD_MEAN_BALANCE, rel=0.10)
    for lo, hi, _share, mean, median, deferral, _sal in AGE_BANDS:
        band = (pop.age >= lo) & (pop.age < hi)
        assert band.sum() > 1000
        # Band means carry the plan-size balance factor (mean ~1): 15% tolerance.
        assert raw[band].mean() == pytest.approx(mean, rel=0.15), (lo, hi)
        assert np.median(raw[band]) == pytest.approx(median, rel=0.20), (lo, hi)
        assert np.mean(pop.deferral[band]) == pytest.approx(deferral, rel=0.10), (lo, hi)
    # Participants by plan-size segment (PLANSPONSOR 2025): within 5 points.
    seg = np.array([e.segment for e in m.employers])[pop.employer]
    shares = np.bincount(seg, minlength=3) / pop.n
    np.testing.assert_allclose(shares, PARTICIPANT_SHARE, atol=0.05)
    # Before the order crypto was "substantially less than 1%" (GAO-25-106161).
    assert m.record.row["plans_offering_share"] < 0.01
    assert m.record.row["crypto_share_of_401k_assets"] < 0.01


def test_no_adoption_while_no_plan_offers():
    _, table = run(quarters=16, initial_offering_share=0.0, employer_base_logit=-20.0)
    assert (table["plans_offering_share"] == 0).all()
    assert (table["adoption_rate"] == 0).all() and (table["crypto_aum_usd"] == 0).all()
    _, base = run(quarters=16)
    none_offer = base["plans_offering_share"] == 0
    assert (base.loc[none_offer, "adoption_rate"] == 0).all()


def test_no_401k_has_no_flow_and_same_exogenous_market(baseline):
    m_base, base = baseline
    m, table = run("no_401k", 40)
    for col in (
        "net_flow_usd",
        "cumulative_net_flow_usd",
        "crypto_aum_usd",
        "flow_price_impact",
        "adoption_rate",
    ):
        assert (table[col] == 0).all(), col
    # Common random numbers: the exogenous path is the same as in the baseline run with that seed.
    np.testing.assert_array_equal(table["price_index"], base["price_index_no_401k"])
    assert base["flow_price_impact"].iloc[-1] != 0


def test_more_flow_multiplier_more_impact():
    _, low = run("static_1pct", quarters=4, flow_multiplier=1.0)
    _, high = run("static_1pct", quarters=4, flow_multiplier=10.0)
    assert high["flow_price_impact"].iloc[1] > 5 * low["flow_price_impact"].iloc[1] > 0


def test_crash_scenario_draws_down_and_raises_litigation(crash):
    _, table = crash
    _, base = run("baseline", 24)
    assert table["max_drawdown"].iloc[-1] > 0.6
    assert table["litigation_risk"].max() > base["litigation_risk"].max()


def test_bad_parameters_are_refused_with_the_allowed_range():
    with pytest.raises(InputError, match=r"flow_multiplier.*out of range.*0.5 to 25"):
        Crypto401kModel(flow_multiplier=1000.0)
    with pytest.raises(InputError, match=r"did you mean 'flow_multiplier'"):
        Crypto401kModel(flow_multipler=5.0)
    with pytest.raises(InputError, match=r"n_participants.*expected an integer"):
        Crypto401kModel(n_participants=10.5)
    with pytest.raises(InputError, match=r"channel_401k.*true or false"):
        Crypto401kModel(channel_401k=1)
    with pytest.raises(InputError, match=r"unknown scenario; did you mean 'baseline'"):
        Crypto401kModel("baselne")


def test_every_declared_default_is_valid_and_documented():
    for p in P.PARAMETERS.values():
        assert p.check(p.default) == p.default and type(p.default) is p.type, p.name
        assert p.source and p.unit and p.doc, p.name


def test_bulk_rule_equals_the_per_agent_rule():
    """The same kernel gives the same decision for arrays and for one participant at a time."""
    rng = np.random.default_rng(5)
    n = 500
    k = rules.Coefficients.from_params(P.defaults())
    env = rules.Market(trailing_return=0.4, drawdown=0.5, clarity=0.6, news=0.1)
    cols = dict(
        affinity=rng.normal(-0.5, 1, n),
        trend_trait=rng.lognormal(0, 0.5, n),
        attentiveness=rng.lognormal(0, 0.8, n),
        loss_aversion=1 + rng.lognormal(0, 0.5, n),
        risk_target=rng.uniform(0.01, 0.1, n),
        alloc=rng.uniform(0, 0.1, n),
        holds=rng.random(n) < 0.5,
        offered=rng.random(n) < 0.8,
        cap=rng.uniform(0.05, 0.2, n),
        fee=rng.uniform(0.002, 0.009, n),
        cue=rng.integers(0, 3, n).astype(float),
        peer_share=rng.random(n),
        u_attend=rng.random(n),
        u_move=rng.random(n),
        u_panic=rng.random(n),
    )
    bulk = rules.decide(**cols, env=env, k=k)
    assert bulk[2].any() and (bulk[0] > 0).any()  # some panic, some hold
    for i in range(n):
        one = rules.decide(**{c: (v[i].item()) for c, v in cols.items()}, env=env, k=k)
        for b, o in zip(bulk, one, strict=True):
            assert b[i] == o


def test_participant_agents_read_their_rows(baseline):
    m, _ = baseline
    pop = m.population
    agent = m.participant(10)
    assert agent.age == pop.age[10] and agent.employer == pop.employer[10]
    assert agent.balance == pytest.approx(pop.balance[10])
    assert len(m.participants) == pop.n
    retired = [a for a in m.agents if getattr(a, "row", 0) is None]
    assert not retired  # retired agents leave the model
    assert any(p.entered > 0 for p in m.participants)  # entrants replaced retirees
    agent.decide()  # the per-agent rule runs on the handle


def test_a_finished_model_is_freed():
    # batches run thousands of models in one worker: nothing may keep a finished one alive
    import gc
    import weakref

    m = Crypto401kModel("tdf_default", rng=2, n_participants=500, n_employers=20)
    m.run(6)
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None

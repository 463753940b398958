"""Retirement security: each saver's balance against the same person never holding crypto."""

from __future__ import annotations

import numpy as np
import pytest

from agents.participant import accounts
from agents.participant.accounts import Flows
from model.model import Crypto401kModel
from model.outputs import COHORTS, quarter_outputs

SMALL = {"n_participants": 3000, "n_employers": 150}


def test_a_participant_who_never_held_crypto_has_a_ratio_of_exactly_one():
    m = Crypto401kModel("tdf_default", rng=5, **SMALL)
    pop = m.population
    ever = pop.holds.copy()
    for q in range(1, 33):
        m.step()
        new = pop.entered == q
        ever = np.where(new, pop.holds, ever | pop.holds)
    assert ever.any() and (~ever).any()
    assert np.array_equal(pop.held, ever)  # the model's holders are exactly those who ever held
    assert np.all(pop.balance_ratio[~ever] == 1.0)
    assert (pop.balance_ratio[ever] != 1.0).any()


def test_without_the_401k_channel_every_ratio_is_one():
    m = Crypto401kModel("no_401k", rng=2, **SMALL)
    m.run(24)
    t = m.quarters_table()
    assert np.all(m.population.balance_ratio == 1.0)
    for cohort in COHORTS:
        assert (t[f"balance_ratio_median_{cohort}"] == 1.0).all() and (
            t[f"balance_ratio_p5_{cohort}"] == 1.0
        ).all()
    assert (t["near_retirement_shortfall_share"] == 0).all() and (t["retiree_balance_ratio_p5"] == 1.0).all()


def test_a_holder_through_a_fifty_percent_fall_without_recovery():
    # Half the balance in crypto, no contributions, no other return: the fall costs a quarter.
    m = Crypto401kModel("no_401k", rng=0, n_participants=10, n_employers=1)
    pop, view = m.population, m.employer_view
    pop.salary[:] = 0.0
    pop.balance_other[:] = 100.0
    pop.counterfactual[:] = 100.0
    pop.units_active[:] = 0.0
    pop.units_active[0] = 100.0  # $100 of crypto at a price of 1 ...
    pop.counterfactual[0] = 200.0  # ... which would otherwise be in the balanced portfolio
    pop.alloc[0] = 0.5
    n = pop.n
    offered = np.ones(n, bool)
    book = accounts.open_quarter(
        pop, view, offered, np.ones(n), np.zeros(n, bool), np.zeros(n, bool), np.zeros(n)
    )
    accounts.settle(pop, book, np.full(13, 0.5), np.zeros(n), np.zeros(n), 0.0, Flows())
    assert pop.balance[0] == pytest.approx(150.0)
    assert pop.balance_ratio[0] == pytest.approx(0.75)  # 1 - crypto share 0.5 x fall 0.5
    assert np.all(pop.balance_ratio[1:] == 1.0)


def test_fees_lower_the_ratio_by_what_was_paid():
    m = Crypto401kModel("no_401k", rng=0, n_participants=10, n_employers=1)
    pop, view = m.population, m.employer_view
    n = pop.n
    pop.salary[:] = 0.0
    pop.units_active[:] = 0.0
    pop.balance_other[:] = 0.0
    pop.units_active[0], pop.counterfactual[0], pop.alloc[0] = 100.0, 100.0, 1.0
    book = accounts.open_quarter(
        pop, view, np.ones(n, bool), np.ones(n), np.zeros(n, bool), np.zeros(n, bool), np.zeros(n)
    )
    flows = Flows()
    accounts.settle(pop, book, np.ones(13), np.full(n, 0.008), np.zeros(n), 0.0, flows)
    assert pop.balance_ratio[0] == pytest.approx(1.0 - 0.008 / 4)
    assert flows.fees == pytest.approx(100.0 * 0.008 / 4)


def test_cohort_and_shortfall_outputs_read_the_participants():
    m = Crypto401kModel("baseline", rng=1, n_participants=1000, n_employers=50)
    m.run(2)
    pop = m.population
    pop.age[:] = 60.0
    pop.retire_age[:] = 65.0  # everyone within ten years of retirement
    pop.units_active[:] = 0.0
    pop.units_default[:] = 0.0
    pop.counterfactual[:] = pop.balance_other
    pop.counterfactual[:100] = pop.balance_other[:100] / 0.8  # a tenth are 20% below
    pop.held[:] = False
    pop.held[:100] = True  # only someone who held crypto can be behind the counterfactual
    out = quarter_outputs(m)
    assert out["near_retirement_shortfall_share"] == pytest.approx(0.1)
    assert out["balance_ratio_median_50_64"] == pytest.approx(1.0)
    assert out["balance_ratio_p5_50_64"] == pytest.approx(0.8)
    assert out["balance_ratio_median_under35"] == 1.0  # nobody in the cohort
    m.record.panic_units, m.record.panic_proceeds = 10.0, 5.0
    assert quarter_outputs(m)["panic_cost_vs_holding_usd"] == pytest.approx(10.0 * m.market.price - 5.0)


def test_retirees_carry_their_ratio_out_of_the_plans():
    m = Crypto401kModel("static_5pct", rng=3, **SMALL)
    m.run(24)
    t = m.quarters_table()
    ratios = m.record.retiree_ratios()
    assert len(ratios) > 50
    assert t["retiree_balance_ratio_median"].iloc[-1] == pytest.approx(np.median(ratios))
    assert (ratios != 1.0).all()  # everyone held 5%: nobody left exactly even


# --- policy levers
def test_an_age_based_cap_empties_crypto_near_retirement():
    m = Crypto401kModel("age_cap", rng=4, **{**SMALL, "initial_offering_share": 1.0, "affinity_mean": 2.0})
    m.run(15)
    start_price = m.market.price
    m.step()
    pop = m.population
    glide = np.clip((pop.retire_age - (pop.age - 0.25)) / 15.0, 0.0, 1.0)  # at the quarter's start
    share = pop.crypto_active / pop.balance
    cap = np.array([e.cap for e in m.employers])[pop.employer]
    # at most the glided cap set at the quarter's start, moved by the quarter's price change
    rise = max(1.0, m.market.price / start_price)
    assert (share <= cap * glide * rise * 1.1 + 1e-12).all()  # 1.1: the balanced part may have fallen
    years_left = pop.retire_age - pop.age
    near, far = (years_left < 2) & (share > 0), (years_left > 20) & (share > 0)
    assert near.any() and far.any()
    assert share[near].mean() < 0.2 * share[far].mean()


def test_a_risk_warning_lowers_uptake_on_the_same_seeds():
    lower = 0
    for seed in range(6):
        base = Crypto401kModel("baseline", rng=seed, **SMALL)
        warned = Crypto401kModel("risk_warning", rng=seed, **SMALL)
        base.run(20)
        warned.run(20)
        a, b = base.quarters_table(), warned.quarters_table()
        lower += b["interest_share"].iloc[8:].mean() < a["interest_share"].iloc[8:].mean()
    assert lower == 6


def _savers(m, ratios: np.ndarray, age: float = 55.0) -> None:
    """A hand-made population: everyone `age`; the first len(ratios) hold crypto and have these
    balance ratios at the market price (half the balance in crypto), everyone else never held."""
    pop = m.population
    pop.age[:] = age
    pop.retire_age[:] = 66.0
    pop.units_active[:] = pop.units_default[:] = 0.0
    pop.held[:] = False
    pop.balance_other[:] = pop.counterfactual[:] = 100.0
    k = len(ratios)
    pop.held[:k] = True
    pop.balance_other[:k] = 50.0 * ratios
    pop.units_active[:k] = 50.0 * ratios / pop.price  # half of each holder's balance in crypto


def test_holders_outputs_read_only_the_holders():
    m = Crypto401kModel("baseline", rng=1, n_participants=1000, n_employers=50)
    m.run(2)
    ratios = np.repeat([0.90, 1.10], 100)  # a fifth of the cohort holds; half of them 10% behind
    _savers(m, ratios)
    out = quarter_outputs(m)
    assert out["holder_balance_ratio_median_50_64"] == pytest.approx(1.0)
    assert out["holder_balance_ratio_p5_50_64"] == pytest.approx(0.90)
    assert out["holder_share_behind_5pct_50_64"] == pytest.approx(0.5)
    # over all savers the same holders are a tenth, behind and ahead around a median of 1
    assert out["balance_ratio_median_50_64"] == 1.0
    assert out["balance_ratio_p5_50_64"] == pytest.approx(0.90)
    # no holder in the other cohorts: ratios 1, nobody behind
    assert out["holder_balance_ratio_p5_under35"] == 1.0 and out["holder_share_behind_5pct_35_49"] == 0.0


def test_holders_ratio_at_the_shadow_price_takes_out_their_own_price_support():
    m = Crypto401kModel("baseline", rng=1, n_participants=1000, n_employers=50)
    m.run(2)
    _savers(m, np.full(100, 1.2))  # 20% ahead at the market price
    support = 1.5  # the plans' buying lifted the price by half
    m.market.log_shadow = m.market.log_price - np.log(support)
    out = quarter_outputs(m)
    assert out["holder_balance_ratio_median_50_64"] == pytest.approx(1.2)
    # half the balance is crypto: at the shadow price it is worth 60 / 1.5 = 40, so 60 + 40 = 100
    assert out["holder_balance_ratio_median_50_64_at_shadow_price"] == pytest.approx(1.0)
    assert out["holder_share_behind_5pct_50_64_at_shadow_price"] == 0.0
    support = 3.0  # lifted threefold: 60 + 20 = 80, a fifth behind
    m.market.log_shadow = m.market.log_price - np.log(support)
    out = quarter_outputs(m)
    assert out["holder_balance_ratio_p5_50_64_at_shadow_price"] == pytest.approx(0.8)
    assert out["holder_share_behind_5pct_50_64_at_shadow_price"] == 1.0


def test_retired_holders_are_counted_at_the_moment_they_retire():
    from agents.participant.population import Exits
    from model.record import Record

    record = Record()
    held = np.array([True, True, True, True, False, False])
    ratio = np.array([0.8, 0.9, 1.0, 1.3, 1.0, 1.0])
    record.retirements(Exits(np.arange(6), 0.0, ratio, ratio * 0.9, held))
    np.testing.assert_allclose(record.retiree_ratios(), [0.8, 0.9, 1.0, 1.3])
    np.testing.assert_allclose(record.retiree_ratios(at_shadow_price=True), [0.72, 0.81, 0.9, 1.17])
    assert record.retirees_never_held == 2

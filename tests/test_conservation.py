"""Quantities are conserved and bounded, reporters only read, offers follow products, fees are paid."""

from __future__ import annotations

import numpy as np
import pytest
from invariants import check_accounting, check_state, check_table

from model.model import Crypto401kModel
from model.outputs import quarter_outputs

SMALL = {"n_participants": 3000, "n_employers": 150}


def stepped(scenario="baseline", quarters=20, seed=7, **params):
    m = Crypto401kModel(scenario, rng=seed, **{**SMALL, **params})
    for _ in range(quarters):
        m.step()
        check_state(m)
    return m, m.quarters_table()


# --- flows that mean what the claim means
def test_new_money_committed_is_reported_apart_from_withdrawals_and_appreciation():
    m, t = stepped("static_1pct", quarters=40, seed=3)
    check_accounting(t)
    # Buy and hold: committed money only grows (contributions), while the net market flow
    # falls as retirees' crypto is paid out.
    assert (t["invested_usd"].iloc[1:] > 0).all()
    assert t["cumulative_invested_usd"].is_monotonic_increasing
    assert t["cumulative_invested_usd"].iloc[40] > 87e9
    assert (t["withdrawals_crypto_usd"].iloc[2:] > 0).mean() > 0.9
    assert t["cumulative_net_flow_usd"].iloc[40] < t["cumulative_invested_usd"].iloc[40]
    # invested = contributions + purchases - cost of the units sold; net flow sells at market value
    gap = t["cumulative_invested_usd"] - t["cumulative_net_flow_usd"]
    assert gap.iloc[40] == pytest.approx(t["withdrawals_crypto_usd"].sum(), rel=1e-9)


def test_holdings_are_units_within_the_float_in_the_heaviest_default_scenario():
    # tdf_default seed 7 once reached 129% of the whole market in dollars
    m, t = stepped("tdf_default", quarters=40, seed=7, n_participants=20000, n_employers=1000)
    check_table(t, m.params, scheduled_only=False)
    assert (t["holdings_share_of_float"] < 1.0).all()
    supply = m.params["crypto_market_cap_usd"]  # units
    float_share = m.params["tradable_float_share"] + t["supply_response_units"] / supply
    assert (t["crypto_aum_usd"] < float_share * t["crypto_market_cap_usd"]).all()
    assert (t["supply_response_units"] < (1 - m.params["tradable_float_share"]) * supply).all()
    flow = t["net_flow_usd"].abs() / t["crypto_market_cap_usd"]
    assert flow.max() < 0.3
    assert m.market.guard_hits == 0


# --- no balance part negative, bounded at the corners of the declared ranges
def test_an_allocation_and_a_sleeve_never_make_a_balance_negative():
    # A chosen allocation plus a default sleeve once exceeded 100% of contributions.
    m, t = stepped(
        "tdf_default",
        quarters=24,
        seed=1,
        allocation_cap=1.0,
        target_allocation=1.0,
        tdf_sleeve=0.2,
        initial_offering_share=0.05,
        affinity_mean=3.0,
    )
    check_table(t, m.params, scheduled_only=False)
    pop = m.population
    both = (pop.units_active > 0) & (pop.units_default > 0)
    assert both.any()  # the corner is reached
    assert (pop.balance_other >= 0).all()


@pytest.mark.parametrize(
    "corner",
    [
        {"momentum_feedback": 0.3, "crypto_vol_annual": 1.5, "flow_multiplier": 25.0},
        {"momentum_feedback": -0.3, "crypto_vol_annual": 1.5, "crypto_drift_annual": -0.5},
        {"momentum_feedback": 0.3, "crypto_drift_annual": 0.5, "flow_multiplier": 25.0, "tdf_sleeve": 0.2},
    ],
    ids=["momentum-vol-impact", "falling", "rising-sleeves"],
)
def test_the_corners_of_the_declared_ranges_stay_bounded(corner):
    for scenario in ("tdf_default", "static_5pct"):
        m, t = stepped(scenario, quarters=40, seed=11, **corner)
        check_table(t, m.params, scheduled_only=False)
        assert m.market.guard_hits == 0
        assert t["price_index"].max() < 1e9 and t["price_index"].min() > 1e-9
        assert t["cumulative_net_flow_usd"].abs().max() < 10 * t["total_401k_assets_usd"].max()


# --- reporters only read
def _state(m: Crypto401kModel) -> list:
    pop = m.population
    cols = [getattr(pop, c).copy() for c in ("units_active", "units_default", "balance_other", "alloc")]
    return [
        *cols,
        m.market.plan_units,
        m.market.log_price,
        m.record.cumulative_net_flow,
        m.record.cumulative_invested,
        m.products.aum.copy(),
        m.politics.last_pass_probability,
    ]


def test_reading_the_outputs_changes_nothing():
    m, _ = stepped(quarters=12, seed=2)
    before = _state(m)
    first, second = quarter_outputs(m), quarter_outputs(m)
    assert first == second
    m.datacollector.collect(m)
    m.datacollector.collect(m)
    for a, b in zip(before, _state(m), strict=True):
        assert np.array_equal(a, b)
    table = m.quarters_table()
    assert table.iloc[-1].equals(table.iloc[-2]) and table.iloc[-1].equals(table.iloc[-3])


# --- offers follow products the same quarter
def test_no_plan_offers_a_product_its_manager_has_withdrawn():
    m = Crypto401kModel("hostile_turn", rng=0, **SMALL)
    withdrawn = 0
    for _ in range(40):
        selling = {(mg.index, k) for mg in m.products.managers for k in mg.fees}
        m.step()
        for e in m.employers:
            if e.offer is not None:
                assert (e.offer.manager, e.offer.product) in {
                    (mg.index, k) for mg in m.products.managers for k in mg.fees
                }
        withdrawn += len(selling - {(mg.index, k) for mg in m.products.managers for k in mg.fees})
    assert withdrawn > 0  # products were withdrawn during the run


def test_withdrawals_are_spread_over_quarters_not_one_cliff():
    # After a rescission every seller is below its withdrawal level; they leave over quarters.
    m = Crypto401kModel("hostile_turn", rng=0, **SMALL)
    m.run(30)
    t = m.quarters_table()
    selling = t["managers_selling"].iloc[14:30].to_numpy()
    drops = -np.diff(selling)
    assert selling[0] > 1 and drops.max() < selling[0]


# --- fees
def test_fees_are_paid_and_the_asset_weighted_fee_is_what_holders_pay():
    m, t = stepped(quarters=32, seed=0)
    assert t["fees_paid_usd"].sum() > 0
    pop, view = m.population, m.employer_view
    held = pop.units_active + pop.units_default
    paid = pop.units_active * view.fee[pop.employer] + pop.units_default * view.sleeve_fee[pop.employer]
    assert t["asset_weighted_fee"].iloc[-1] == pytest.approx(paid.sum() / held.sum(), rel=1e-12)
    # a quarter's fees are a quarter of the annual fee on what is held
    q = t.iloc[-1]
    assert q["fees_paid_usd"] == pytest.approx(q["asset_weighted_fee"] / 4 * q["crypto_aum_usd"], rel=0.05)


@pytest.mark.parametrize("scenario", ["baseline", "tdf_default", "hostile_turn"])
def test_nobody_holds_crypto_through_a_plan_that_offers_none(scenario):
    # One meaning of "offers": a menu option, or a default product with a crypto sleeve.
    m = Crypto401kModel(scenario, rng=4, n_participants=4000, n_employers=200)
    pop = m.population
    for _ in range(24):
        m.step()
        offered, option = m.offered_mask(), m.option_mask()
        assert not (pop.holds & ~offered).any()
        assert not ((pop.units_active > 0) & ~option).any()  # chosen crypto needs a menu option
        row = m.record.row
        assert row["adoption_rate"] <= row["participants_offered_share"]
        assert (
            row["active_adoption_rate"]
            <= row["participants_with_option_share"]
            <= row["participants_offered_share"]
        )
    assert row["participants_offered_share"] > 0

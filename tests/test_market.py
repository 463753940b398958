"""The crypto market: units and a float nobody can exceed, weekly clearing at the weeks' prices,
an exact no-401(k) shadow, and volatility measures that can see what flows do to prices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.reports.validity_checks import flow_path
from model import parameters as P
from model.market import WEEKS, CryptoMarket, Orders
from model.model import Crypto401kModel


def market(seed: int = 0, **over) -> CryptoMarket:
    params = {**P.defaults(), **over}
    return CryptoMarket(params, np.random.default_rng(seed))


class Sleeve:
    """A stand-in for the participants' sleeves: one fund holding `share` of its money in crypto."""

    def __init__(self, share: float, money: float, units: float):
        self.share, self.money, self.units = share, money, units
        self.prices: list[float] = []

    def order(self):
        return self.share * self.money, (1.0 - self.share) * self.units

    def fill(self, price: float) -> None:
        total = self.money + self.units * price
        self.units = self.share * total / price
        self.money = total - self.units * price
        self.prices.append(price)


# --- units and the float
def buy_every_quarter(m: CryptoMarket, dollars: float, quarters: int = 12) -> list[float]:
    """The units the same dollars buy each quarter (no exogenous moves)."""
    m.draw(1)
    bought = []
    for q in range(1, quarters + 1):
        before = m.plan_units
        m.clear(Orders(buy_usd=dollars))
        bought.append(m.plan_units - before)
        assert m.plan_units < m.float_units <= m.supply
        m.draw(q + 1)
    return bought


def test_with_a_fixed_float_the_plans_approach_it_without_reaching_it():
    m = market(flow_multiplier=4.5, crypto_vol_annual=0.0, crypto_drift_annual=0.0, lth_supply_response=0.0)
    bought = buy_every_quarter(m, 0.1 * m.cap0)  # $390B every quarter, whatever the price
    # Each quarter the same dollars buy fewer units: the price runs away from the buyers.
    assert all(later < earlier for earlier, later in zip(bought, bought[1:], strict=False))
    assert 0.9 < m.holdings_share_of_float < 1.0
    assert m.float_units == m.float0
    assert m.guard_hits == 0


def test_long_term_holders_selling_into_the_rise_bound_the_impact():
    fixed = market(
        flow_multiplier=4.5, crypto_vol_annual=0.0, crypto_drift_annual=0.0, lth_supply_response=0.0
    )
    elastic = market(flow_multiplier=4.5, crypto_vol_annual=0.0, crypto_drift_annual=0.0)
    buy_every_quarter(fixed, 0.1 * fixed.cap0)
    bought = buy_every_quarter(elastic, 0.1 * elastic.cap0)
    assert all(later < earlier for earlier, later in zip(bought, bought[1:], strict=False))
    # the float grows with what long-term holders sell, never beyond what they hold
    assert elastic.float0 < elastic.float_units < elastic.supply
    assert 0.0 < elastic.released(elastic.impact) < elastic.illiquid
    assert elastic.plan_units > fixed.plan_units  # the same dollars found more coins
    assert elastic.price < fixed.price / 3  # $4.7T of buying lifts the price far less
    assert elastic.guard_hits == 0


def test_long_term_holders_do_not_answer_small_moves():
    m = market()
    assert m.released(0.0) == 0.0 and m.released(-1.0) == 0.0
    assert m.released(1e-4) < 1e-7 * m.illiquid  # second order in the impact
    assert m.released(0.513) == pytest.approx(0.06 * m.illiquid, rel=0.02)  # the calibration point
    assert m.released(50.0) == pytest.approx(m.illiquid)


def test_units_that_leave_without_a_sale_move_the_price_as_a_sale_does():
    # Fees taken in units are sold by the managers, stolen units by the fraudster: the price
    # follows the units the plans hold, whoever sold them.
    sold, removed = (
        market(crypto_vol_annual=0.0, crypto_drift_annual=0.0, flow_multiplier=10.0) for _ in range(2)
    )
    for m in (sold, removed):
        m.hold_initial(0.2 * m.float0)
        m.draw(1)
        m.clear(Orders(buy_usd=0.05 * m.cap0))
        m.draw(2)
    units = 0.3 * sold.plan_units
    sold.clear(Orders(sell_units=units))
    removed.remove_units(units)
    removed.clear(Orders())
    assert removed.plan_units == pytest.approx(sold.plan_units, rel=1e-12)
    assert removed.price == pytest.approx(sold.price, rel=1e-9)
    assert removed.price < removed.price_history[-2]  # the sale took the price down


def test_a_dollar_of_buying_moves_market_value_by_the_multiplier():
    for mult in (1.0, 4.5, 10.0):
        m = market(crypto_vol_annual=0.0, crypto_drift_annual=0.0, flow_multiplier=mult)
        m.draw(1)
        flow = 1e-4 * m.cap  # small against the float: the linear regime
        m.clear(Orders(buy_usd=flow))
        assert (m.cap - m.cap0) / flow == pytest.approx(mult, rel=0.01)


def test_orders_fill_at_the_weeks_prices():
    m = market(seed=3)
    m.hold_initial(0.01 * m.float_units)
    m.draw(1)
    dollars, units = 2e11, 1e10
    before = m.plan_units
    prices = m.clear(Orders(buy_usd=dollars, sell_units=units))
    assert len(prices) == WEEKS and len(set(prices.round(12))) > 1
    # dollar orders buy a 13th of their dollars each week; unit orders sell a 13th of their units
    expected = dollars * np.mean(1.0 / prices) - units
    assert m.plan_units - before == pytest.approx(expected, rel=1e-12)


def test_a_sleeve_rebalances_on_target_at_every_weeks_price_without_overshooting():
    # A sleeve holding 40% of the float: a rebalancer trading at a stale price would chase its
    # own impact; at the clearing price it is on target every week and the price moves one way.
    m = market(crypto_vol_annual=0.0, crypto_drift_annual=0.0, flow_multiplier=10.0)
    units = 0.4 * m.float_units
    m.hold_initial(units)
    sleeve = Sleeve(share=0.5, money=units * m.price, units=units)
    m.extra_shock = math.log(1.5)  # other demand lifts the price 50% over the quarter
    m.draw(1)
    prices = m.clear(Orders(sleeves=sleeve))
    for p, fill in zip(prices, sleeve.prices, strict=True):
        assert fill == pytest.approx(p, rel=1e-12)
    assert sleeve.units * prices[-1] == pytest.approx(sleeve.money, rel=1e-9)  # 50/50 at the last price
    assert np.all(np.diff(prices) > 0)  # the sleeve sells into the rise, damping it, never reversing it
    assert 1.0 < prices[-1] < 1.5
    assert m.plan_units == pytest.approx(sleeve.units, rel=1e-9)


# --- the counterfactual path
@pytest.mark.parametrize("momentum", [0.0, 0.3])
def test_the_shadow_price_is_exactly_the_no_401k_runs_price(momentum):
    runs = {}
    for name in ("static_5pct", "no_401k"):
        m = Crypto401kModel(name, rng=5, n_participants=2000, n_employers=100, momentum_feedback=momentum)
        m.run(16)
        runs[name] = m.quarters_table()
    shadow = runs["static_5pct"]["price_index_no_401k"].to_numpy()
    alone = runs["no_401k"]["price_index"].to_numpy()
    assert np.array_equal(shadow, alone)
    assert (runs["static_5pct"]["flow_price_impact"].iloc[1:] > 0).all()


def test_no_orders_follow_the_exogenous_path_bit_for_bit():
    m = market(seed=9, momentum_feedback=0.3)
    for q in range(1, 12):
        m.draw(q)
        m.clear(Orders())
        assert m.price_index == m.price_index_no_401k


# --- volatility measures that can see the effect they report
def test_volatility_measures_see_dampening_and_amplification():
    # Flows that react to last quarter's return: a contrarian flow makes returns mean-revert
    # (lower volatility of annual and two-year returns), a trend-chasing one makes them trend
    # (higher volatility), on the same exogenous paths. Reacting to the last quarter, they
    # change how returns follow each other, which multi-quarter horizons see; a quarter's own
    # volatility barely moves.
    seeds = range(12)
    horizons = (1, 4, 8)
    paths = {rule: [flow_path(s, rule) for s in seeds] for rule in ("none", "contrarian", "trend")}
    assert all(m.guard_hits == 0 for ms in paths.values() for m in ms)  # no path ran away
    vol = {
        rule: np.array([[m.return_volatility(h) for h in horizons] for m in ms]) for rule, ms in paths.items()
    }
    for h in (1, 2):  # the annual and the two-year horizon
        assert (vol["contrarian"][:, h] < vol["none"][:, h]).mean() >= 0.9
        assert (vol["trend"][:, h] > vol["none"][:, h]).mean() >= 0.9
    # by points of annual volatility, far beyond rounding
    assert np.median(vol["none"][:, 1] - vol["contrarian"][:, 1]) > 0.02
    assert np.median(vol["trend"][:, 1] - vol["none"][:, 1]) > 0.02


def test_a_same_week_rebalancer_dampens_volatility_at_every_horizon():
    # The default products' sleeves trade against each week's move as it happens.
    quiet, damped = [], []
    for seed in range(10):
        for out, share in ((quiet, None), (damped, 0.5)):
            m = market(seed=seed, flow_multiplier=4.5)
            units = 0.3 * m.float_units
            m.hold_initial(units)
            sleeve = Sleeve(share, units, units) if share else None
            for q in range(1, 41):
                m.draw(q)
                m.clear(Orders(sleeves=sleeve))
            out.append([m.return_volatility(h) for h in (1, 4, 8)])
    quiet, damped = np.array(quiet), np.array(damped)
    assert (damped < quiet).all()
    assert np.median(quiet[:, 0] - damped[:, 0]) > 0.02


def test_drawdown_depth_and_recovery_read_the_quarterly_path():
    m = market()
    m.price_history = [1.0, 1.2, 0.6, 0.9, 1.1, 1.3, 1.0]
    assert m.recovery_quarters() == 3  # trough at 0.6, back above 1.2 three quarters later
    m.price_history = [1.0, 1.2, 0.6, 0.9]
    assert m.recovery_quarters() == 1  # not recovered yet: quarters since the trough
    m.price_history = [1.0, 1.1, 1.2]
    assert m.recovery_quarters() == 0
    m.price_history = list(np.exp(np.arange(10) * 0.1))  # a steady rise: no volatility
    assert m.return_volatility(1) == pytest.approx(0.0, abs=1e-12)

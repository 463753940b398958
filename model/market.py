"""The crypto market: units of one asset, a float that grows as prices are lifted, and weekly
clearing of 401(k) orders.

Crypto is held and traded in units. A unit is one dollar's worth of crypto at quarter 0, so the
supply is S = crypto_market_cap_usd units and the price index is the price in dollars. A share
of the supply trades (`tradable_float_share`, the float F0 = share x S units); the rest, the
illiquid supply I = S - F0, is held by long-term holders.

Prices. The exogenous path (model/exogenous.py: everyone else's demand, with a share
`momentum_feedback` of last quarter's log return added) sets an exogenous log price E_w each
week; the 401(k) plans' holdings U add a log impact x, so log p_w = E_w + x(U_w). The impact is
what makes the rest of the market hand the plans their units beyond the U0 they held at
quarter 0:

    U - U0 = O0 x (1 - exp(-x / k))  +  I x (1 - (1 + eta x) exp(-eta x))   (x > 0; the second term is 0 below)
             float holders selling            long-term holders selling into the rise

* the float's other holders (O0 = F0 - U0 units at quarter 0) have a constant-elasticity demand
  (an inelastic market, Gabaix & Koijen 2021) with k = M x O0 / S: at quarter 0 a dollar of net
  buying raises market value by M = `flow_multiplier` dollars;
* long-term holders release coins as the plans lift the price far above what it would otherwise
  be (`lth_supply_response`, eta): nothing for small moves (so M stays the quarter-0
  multiplier), a growing share of the illiquid supply for large ones (a gamma(2) distribution
  function of the log impact), never more than they hold. The float F = F0 + their release grows
  with the impact, the plans' holdings stay below it, and the impact no longer runs away as the
  plans' holdings approach the quarter-0 float: it stays finite until the plans would hold the
  whole supply. With eta = 0 the float is fixed (version 0.2 of the model).

Weekly clearing. In week w the 401(k) plans' orders of that week clear at one price p_w:
dollar orders (payroll contributions and purchases, a 13th of the quarter's each week) buy
B_w / p_w units; unit orders (sales, retirement withdrawals, a 13th each week) sell V_w units;
the target-date sleeves rebalance to their target, holding A_w / p_w units after the week
(A_w being the sum over defaulted participants of sleeve/(1 - sleeve) x their non-crypto money),
so sleeves are on target at the price they trade at. One scalar equation per week (monotone in
the impact) gives p_w.

Units that leave the plans without a sale through the market (fees taken in units, which the
managers who receive them sell; crypto stolen in a fraud, which the fraudster sells) lower U:
the impact falls with them at the next week's price, as for any sale, so the price always
equals E + x(U) for the units the plans actually hold.

A shadow price follows the same exogenous returns with its own momentum and no 401(k) orders:
it is exactly the price a run without the 401(k) channel (the no_401k scenario) has, so
`flow_price_impact` = price / shadow price - 1 is the price change attributable to 401(k) flow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq

from model.exogenous import WEEKS, ExogenousPath
from model.price_path import PricePath

# Numerical guards, never reached inside the declared parameter ranges (the property tests
# check `guard_hits`): the price index stays within [PRICE_FLOOR, PRICE_CEILING], so values
# never reach zero or infinity.
PRICE_FLOOR = 1e-12
PRICE_CEILING = 1e12
_LOW, _HIGH = math.log(PRICE_FLOOR), math.log(PRICE_CEILING)


@dataclass
class Orders:
    """The 401(k) plans' orders for one quarter, US scale, spread evenly over its weeks.

    buy_usd: dollars to spend (contributions and purchases), a 13th each week.
    sell_units: units to sell (sales and withdrawals), a 13th each week.
    sleeves: the default products' sleeves, or None: before each week `order()` gives
        (coefficient A in USD, units released R), the sleeves holding A / p units after a week at
        price p instead of R; after it `fill(p)` tells them the price.
    """

    buy_usd: float = 0.0
    sell_units: float = 0.0
    sleeves: Any = None


class CryptoMarket:
    """Price, supply, float and the plans' units of the crypto market."""

    def __init__(self, params: dict, rng: np.random.Generator, path: PricePath | None = None):
        self.exogenous = ExogenousPath(params, rng, path)
        self.cap0 = params["crypto_market_cap_usd"]
        self.supply = self.cap0  # units: one unit is a dollar's worth at quarter 0
        self.float0 = params["tradable_float_share"] * self.supply  # F0
        self.illiquid = self.supply - self.float0  # I: held by long-term holders
        self.multiplier = params["flow_multiplier"]
        self.momentum = params["momentum_feedback"]
        self.eta = params["lth_supply_response"]
        self.initial_units = 0.0  # U0
        self.plan_units = 0.0  # U: units the 401(k) plans hold
        self.k = self.multiplier * self.float0 / self.supply
        self.impact = 0.0  # x: log impact of the plans' holdings
        self._impact_stale = False  # units left the plans outside a clearing
        self.log_exogenous = 0.0  # E: the exogenous log price of this path (its own momentum)
        self.log_price = 0.0  # log of the price index (USD per unit)
        self.log_shadow = 0.0  # the same without 401(k) orders
        self.price_history = [1.0]  # quarter-end price index, quarter 0 first
        self.shadow_history = [1.0]
        self.week_prices = np.ones(WEEKS)  # this quarter's clearing prices
        self.peak_weekly = 1.0
        self.max_drawdown = 0.0
        self.realized_vol = 0.0
        self.last_log_return = 0.0
        self.last_shadow_return = 0.0
        self.balanced_return = 0.0
        self.guard_hits = 0  # weeks in which a price guard bound (0 inside declared ranges)
        self._weekly = np.zeros(WEEKS)

    def hold_initial(self, units: float) -> None:
        """The plans' holdings at quarter 0 (units; they set the float holders' exponent k)."""
        if not 0.0 <= units < self.float0:
            raise ValueError(f"initial 401(k) holdings {units:.4g} units outside [0, float)")
        self.initial_units = self.plan_units = units
        self.k = self.multiplier * (self.float0 - units) / self.supply

    # --- the supply curve of the rest of the market
    def released(self, x: float) -> float:
        """Units long-term holders have sold into the market at log impact x (0 for x <= 0)."""
        if x <= 0.0 or self.eta == 0.0:
            return 0.0
        ex = self.eta * x
        return self.illiquid * -math.expm1(-ex) - self.illiquid * ex * math.exp(-ex)

    def absorbed(self, x: float) -> float:
        """Units the rest of the market has passed to the plans beyond U0 at log impact x."""
        others = self.float0 - self.initial_units
        return others * -math.expm1(-x / self.k) + self.released(x)

    def impact_of(self, units: float) -> float:
        """The log impact at which the plans hold `units` (the inverse of `absorbed`)."""
        target = units - self.initial_units
        if target == 0.0:
            return 0.0
        return self._root(lambda x: self.absorbed(x) - target, 0.0, target > 0.0)

    # --- what participants and employers read
    @property
    def price(self) -> float:
        """USD per unit now (the price index: 1 at quarter 0)."""
        return math.exp(self.log_price)

    @property
    def price_index(self) -> float:
        """Price relative to quarter 0."""
        return self.price

    @property
    def price_index_no_401k(self) -> float:
        """The price the same exogenous path gives without any 401(k) order."""
        return math.exp(self.log_shadow)

    @property
    def cap(self) -> float:
        """Market value of the whole supply, USD."""
        return self.price * self.supply

    @property
    def float_units(self) -> float:
        """The tradable float now: the quarter-0 float plus what long-term holders released."""
        return self.float0 + self.released(self.impact)

    @property
    def holdings_share_of_float(self) -> float:
        """The plans' units as a share of the tradable float now (always below 1)."""
        return self.plan_units / self.float_units

    def trailing_log_return(self, quarters: int = 4) -> float:
        """Log price change over the last `quarters` quarters (what trend-chasers extrapolate)."""
        h = self.price_history
        return math.log(h[-1] / h[max(0, len(h) - 1 - quarters)])

    def recent_drawdown(self, quarters: int = 4) -> float:
        """Fall of the price from its peak over the last `quarters` quarter-ends, share of 1."""
        h = self.price_history[-(quarters + 1) :]
        return 1.0 - h[-1] / max(h)

    @property
    def drawdown(self) -> float:
        """Current fall from the all-time weekly peak, share of 1."""
        return 1.0 - self.price_index / self.peak_weekly

    # --- the quarter
    @property
    def extra_shock(self) -> float:
        """A one-quarter exogenous log shock set by events (fraud) for the next draw."""
        return self.exogenous.extra_shock

    @extra_shock.setter
    def extra_shock(self, value: float) -> None:
        self.exogenous.extra_shock = value

    def draw(self, quarter: int) -> None:
        """Draw this quarter's exogenous weekly returns and the balanced-portfolio return."""
        self._weekly, self.balanced_return = self.exogenous.draw(quarter)

    def remove_units(self, units: float) -> None:
        """Units leave the plans outside the clearing (fees, fraud) and are sold: the impact follows."""
        if units > 0.0:
            self.plan_units = max(self.plan_units - units, 0.0)
            self._impact_stale = True

    def clear(self, orders: Orders) -> np.ndarray:
        """Run the quarter's 13 weeks: exogenous moves and the plans' orders; the clearing prices.

        Returns the 13 weekly prices (USD per unit) the plans traded at; the plans' units after
        the quarter are `plan_units`.
        """
        start, shadow_start = self.log_price, self.log_shadow
        exo, shadow = self.log_exogenous, self.log_shadow
        units = self.plan_units
        if self._impact_stale:
            self.impact = self.impact_of(units)
            self._impact_stale = False
        x = self.impact
        sleeves = orders.sleeves
        buy_w, sell_w = orders.buy_usd / WEEKS, orders.sell_units / WEEKS
        trading = buy_w > 0.0 or sell_w > 0.0 or sleeves is not None
        momentum_real = self.momentum * self.last_log_return / WEEKS
        momentum_shadow = self.momentum * self.last_shadow_return / WEEKS
        logs = np.empty(WEEKS)
        prices = np.empty(WEEKS)
        peak, max_dd = self.peak_weekly, self.max_drawdown
        before = self.log_price
        replayed, levels = self.exogenous.replayed, self.exogenous.levels
        for w in range(WEEKS):
            if w < replayed:  # the price path's week: the shadow is the path, bit for bit
                gap = exo - shadow  # what other demand's momentum added on this path
                shadow = min(max(float(levels[w]), _LOW), _HIGH)
                exo = min(max(shadow + gap + (momentum_real - momentum_shadow), _LOW), _HIGH)
            else:
                exo = min(max(exo + self._weekly[w] + momentum_real, _LOW), _HIGH)
                shadow = min(max(shadow + self._weekly[w] + momentum_shadow, _LOW), _HIGH)  # `exo` unimpacted
            if trading:
                coef, released = sleeves.order() if sleeves is not None else (0.0, 0.0)
                dollars, sold = buy_w + coef, sell_w + released
                x = self._clear_week(exo, units, x, dollars, sold)
                p = math.exp(exo + x)
                units = max(units + dollars / p - sold, 0.0)
                if sleeves is not None:
                    sleeves.fill(p)
            log_p = exo + x
            if not _LOW <= log_p <= _HIGH:
                self.guard_hits += 1
                log_p = min(max(log_p, _LOW), _HIGH)
            prices[w] = math.exp(log_p)
            logs[w] = log_p - before
            before = log_p
            peak = max(peak, prices[w])
            max_dd = max(max_dd, 1.0 - prices[w] / peak)
        self.log_exogenous, self.log_shadow, self.log_price = exo, shadow, before
        self.plan_units, self.impact = units, x
        self.peak_weekly, self.max_drawdown = peak, max_dd
        self.week_prices = prices
        self.realized_vol = float(np.std(logs, ddof=1) * math.sqrt(52))
        self.last_log_return = before - start
        self.last_shadow_return = shadow - shadow_start
        self.price_history.append(self.price_index)
        self.shadow_history.append(self.price_index_no_401k)
        return prices

    def _clear_week(self, exo: float, units: float, x: float, dollars: float, sold: float) -> float:
        """The week's log impact at which the plans' net order clears (see the module docstring).

        exo: the week's exogenous log price; units, x: the plans' units and the impact before
        the week; dollars: USD of buy orders, counting the sleeves' target coefficient (they
        hold it / p); sold: units leaving the plans (sell orders and the sleeves' units before
        the week).
        """
        if dollars == 0.0 and sold == 0.0:
            return x
        gap = units - self.initial_units - sold

        def excess(
            y: float,
        ) -> float:  # increasing in y: the rest of the market's supply minus the plans' demand
            return self.absorbed(y) - gap - dollars * math.exp(-exo - y)

        up = excess(x) < 0.0
        bound = _HIGH - exo if up else _LOW - exo  # the price guard's limit for the impact
        if (excess(bound) < 0.0) if up else (excess(bound) > 0.0):
            self.guard_hits += 1
            return bound
        return self._root(excess, x, up)

    @staticmethod
    def _root(f, x: float, up: bool) -> float:
        """The root of the increasing function f, searched upward (up) or downward from x."""
        step = 0.05
        if up:
            hi = x + step
            while f(hi) < 0.0:
                step *= 2.0
                hi = x + step
            lo = x
        else:
            lo = x - step
            while f(lo) > 0.0:
                step *= 2.0
                lo = x - step
            hi = x
        return brentq(f, lo, hi, xtol=1e-13, rtol=1e-14)

    # --- what the volatility report reads
    def return_volatility(self, horizon: int) -> float:
        """Annualised spread of overlapping `horizon`-quarter log returns of the quarter-end
        price so far (0 until two such returns exist)."""
        return _return_volatility(self.price_history, horizon)

    def recovery_quarters(self) -> int:
        """Quarters from the trough of the deepest quarter-end drawdown so far until the price
        regained its earlier peak (while not yet regained: quarters since the trough)."""
        return _recovery_quarters(self.price_history)


def _return_volatility(history: list[float], horizon: int) -> float:
    logs = np.log(np.asarray(history))
    if len(logs) < horizon + 2:
        return 0.0
    returns = logs[horizon:] - logs[:-horizon]
    return float(np.std(returns, ddof=1) * math.sqrt(4.0 / horizon))


def _recovery_quarters(history: list[float]) -> int:
    prices = np.asarray(history)
    peaks = np.maximum.accumulate(prices)
    dd = 1.0 - prices / peaks
    trough = int(np.argmax(dd))
    if dd[trough] <= 0.0:
        return 0
    after = np.flatnonzero(prices[trough:] >= peaks[trough])
    return int(after[0]) if len(after) else len(prices) - 1 - trough

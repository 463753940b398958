"""The crypto market: units of one asset, a tradable float, and weekly clearing of 401(k) orders.

Crypto is held and traded in units. A unit is one dollar's worth of crypto at quarter 0, so the
supply is S = crypto_market_cap_usd units and the price index is the price in dollars. Only a
share of the supply trades (`tradable_float_share`, F = share x S units); the rest is held by
owners who do not sell.

Each quarter has 13 weeks. In week w the exogenous log return r_w (Student-t, annual volatility
`crypto_vol_annual`, plus drift, scheduled crashes, event shocks and optionally a share
`momentum_feedback` of last quarter's log return) moves the price of everyone else's demand; then
the 401(k) plans' orders of that week clear at one price p_w:

* dollar orders (payroll contributions and purchases, a 13th of the quarter's each week) buy
  B_w / p_w units;
* unit orders (sales, retirement withdrawals, a 13th each week) sell V_w units;
* the target-date sleeves rebalance to their target: they hold A_w / p_w units after the week,
  A_w being the sum over defaulted participants of sleeve/(1 - sleeve) x their non-crypto
  money, so sleeves are on target at the price they trade at (a rebalancer that traded at a
  stale price would chase its own impact).

The plans then hold U_w = U_{w-1} + dU_w units, and the price is

    log p_w = log p_{w-1} + r_w + k x log((F - U_{w-1}) / (F - U_w)),   k = M x (F - U_0) / S,

an inelastic market (Gabaix & Koijen 2021): at quarter 0 a dollar of net buying raises market
value by M dollars, and the price rises without bound as the plans' holdings approach the float,
so the plans can never own more than the float (they buy ever fewer units per dollar). The
impact of holdings is permanent; with no orders the price follows the exogenous path exactly.
One scalar equation per week (monotone in the price) gives p_w.

A shadow price follows the same exogenous returns with its own momentum and no 401(k) orders:
it is exactly the price a run without the 401(k) channel (the no_401k scenario) has, so
`flow_price_impact` = price / shadow price - 1 is the price change attributable to 401(k) flow.

All random numbers come from the market's own generator and the number drawn per quarter never
depends on anything else, so a counterfactual run sees the same exogenous path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq

WEEKS = 13
# Numerical guards, never reached inside the declared parameter ranges (the property tests
# check `guard_hits`): a week's exogenous log return stays within +-MAX_WEEKLY_LOG, and the
# price index within [PRICE_FLOOR, PRICE_CEILING], so values never reach zero or infinity.
MAX_WEEKLY_LOG = 5.0
PRICE_FLOOR = 1e-12
PRICE_CEILING = 1e12


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
    """Price, supply, tradable float and the plans' units of the crypto market."""

    def __init__(self, params: dict, rng: np.random.Generator):
        self.rng = rng
        self.cap0 = params["crypto_market_cap_usd"]
        self.supply = self.cap0  # units: one unit is a dollar's worth at quarter 0
        self.float_units = params["tradable_float_share"] * self.supply
        self.multiplier = params["flow_multiplier"]
        self.momentum = params["momentum_feedback"]
        self.df = params["tail_df"]
        sigma_w = params["crypto_vol_annual"] / math.sqrt(52)
        self.t_scale = sigma_w * math.sqrt((self.df - 2.0) / self.df)
        self.mu_w = params["crypto_drift_annual"] / 52
        self.bal_mu = params["balanced_return_annual"] / 4
        self.bal_sigma = params["balanced_vol_annual"] / 2
        self.crash_start = params["crash_quarter"]
        self.crash_len = params["crash_quarters"]
        self.crash_log = (
            math.log1p(-params["crash_depth"]) / self.crash_len if params["crash_depth"] > 0 else 0.0
        )
        self.log_price = 0.0  # log of the price index (USD per unit)
        self.log_shadow = 0.0  # the same without 401(k) orders
        self.plan_units = 0.0  # units the 401(k) plans hold
        self.k = self.multiplier * self.float_units / self.supply
        self.price_history = [1.0]  # quarter-end price index, quarter 0 first
        self.shadow_history = [1.0]
        self.week_prices = np.ones(WEEKS)  # this quarter's clearing prices
        self.peak_weekly = 1.0
        self.max_drawdown = 0.0
        self.realized_vol = 0.0
        self.last_log_return = 0.0
        self.last_shadow_return = 0.0
        self.balanced_return = 0.0
        self.guard_hits = 0  # weeks in which a numerical guard bound (0 inside declared ranges)
        self._weekly = np.zeros(WEEKS)
        self.extra_shock = 0.0  # a one-quarter log shock set by events (fraud), then cleared

    def hold_initial(self, units: float) -> None:
        """The plans' holdings at quarter 0 (units; they set the impact exponent k)."""
        if not 0.0 <= units < self.float_units:
            raise ValueError(f"initial 401(k) holdings {units:.4g} units outside [0, float)")
        self.plan_units = units
        self.k = self.multiplier * (self.float_units - units) / self.supply

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
    def holdings_share_of_float(self) -> float:
        """The plans' units as a share of the tradable float (always below 1)."""
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
    def draw(self, quarter: int) -> None:
        """Draw this quarter's exogenous weekly returns and the balanced-portfolio return."""
        z = self.rng.standard_t(self.df, WEEKS)
        bal = self.rng.standard_normal()
        crash = (
            self.crash_log
            if (self.crash_start >= 0 and self.crash_start <= quarter < self.crash_start + self.crash_len)
            else 0.0
        )
        drift = self.mu_w + (crash + self.extra_shock) / WEEKS
        raw = drift + self.t_scale * z
        self._weekly = np.clip(raw, -MAX_WEEKLY_LOG, MAX_WEEKLY_LOG)
        self.guard_hits += int((raw != self._weekly).sum())
        self.extra_shock = 0.0
        self.balanced_return = math.expm1(self.bal_mu - 0.5 * self.bal_sigma**2 + self.bal_sigma * bal)

    def clear(self, orders: Orders) -> np.ndarray:
        """Run the quarter's 13 weeks: exogenous moves and the plans' orders; the clearing prices.

        Returns the 13 weekly prices (USD per unit) the plans traded at; the plans' units after
        the quarter are `plan_units`.
        """
        start, shadow_start = self.log_price, self.log_shadow
        x, shadow = self.log_price, self.log_shadow
        units = self.plan_units
        sleeves = orders.sleeves
        buy_w, sell_w = orders.buy_usd / WEEKS, orders.sell_units / WEEKS
        trading = buy_w > 0.0 or sell_w > 0.0 or sleeves is not None
        momentum_real = self.momentum * self.last_log_return / WEEKS
        momentum_shadow = self.momentum * self.last_shadow_return / WEEKS
        low, high = math.log(PRICE_FLOOR), math.log(PRICE_CEILING)
        logs = np.empty(WEEKS)
        prices = np.empty(WEEKS)
        peak, max_dd = self.peak_weekly, self.max_drawdown
        for w in range(WEEKS):
            before = x
            pre = x + self._weekly[w] + momentum_real
            shadow = shadow + self._weekly[w] + momentum_shadow  # the same sum as `pre`, bit for bit
            if trading:
                coef, released = sleeves.order() if sleeves is not None else (0.0, 0.0)
                x = self._clearing_log_price(pre, units, buy_w + coef, sell_w + released)
                p = math.exp(x)
                units = min(units + (buy_w + coef) / p - sell_w - released, self.float_units * (1.0 - 1e-12))
                if sleeves is not None:
                    sleeves.fill(p)
            else:
                x = pre
            if not low <= x <= high:
                self.guard_hits += 1
                x = min(max(x, low), high)
            shadow = min(max(shadow, low), high)
            prices[w] = math.exp(x)
            logs[w] = x - before
            peak = max(peak, prices[w])
            max_dd = max(max_dd, 1.0 - prices[w] / peak)
        self.log_price, self.log_shadow, self.plan_units = x, shadow, max(units, 0.0)
        self.peak_weekly, self.max_drawdown = peak, max_dd
        self.week_prices = prices
        self.realized_vol = float(np.std(logs, ddof=1) * math.sqrt(52))
        self.last_log_return = x - start
        self.last_shadow_return = shadow - shadow_start
        self.price_history.append(self.price_index)
        self.shadow_history.append(self.price_index_no_401k)
        return prices

    def _clearing_log_price(self, pre: float, units: float, dollars: float, sold: float) -> float:
        """The week's log price at which the plans' net order clears (see the module docstring).

        dollars: USD of buy orders, counting the sleeves' target coefficient (they hold it / p);
        sold: units leaving the plans (sell orders and the sleeves' units before the week).
        """
        room = self.float_units - units
        k = self.k

        def excess(x: float) -> float:
            change = dollars / math.exp(x) - sold
            if change >= room:
                return -1e300  # buying the whole float: only an infinite price clears it
            return x - pre - k * (math.log(room) - math.log(room - change))

        if dollars / math.exp(pre) == sold or k == 0.0:
            return pre
        step = 0.05
        if excess(pre) < 0.0:  # net buying: the price rises
            hi = pre + step
            while excess(hi) < 0.0:
                step *= 2.0
                hi = pre + step
            lo = pre
        else:  # net selling: the price falls
            lo = pre - step
            while excess(lo) > 0.0:
                step *= 2.0
                lo = pre - step
            hi = pre
        return brentq(excess, lo, hi, xtol=1e-13, rtol=1e-14)

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

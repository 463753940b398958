"""The crypto market: exogenous fat-tailed returns plus the price impact of net 401(k) flow.

The market is stepped in 13 weekly sub-steps a quarter. Each week the exogenous log return
(Student-t, annualised volatility `crypto_vol_annual`) moves market value, then the week's share
of the quarter's net 401(k) flow F moves it through the inelastic-market multiplier M:

    cap <- cap * exp(r_week);   cap <- cap * exp(M * (F / 13) / cap)

For small flows the impact term is M x flow in dollars (Gabaix & Koijen 2021); the exponential
form keeps the value positive when outflows are large. A shadow market value sees the same
exogenous returns and no 401(k) flow, so `flow_price_impact` = price / price without 401(k) - 1
is the cumulative price change attributable to 401(k) flow.

All random numbers come from the market's own generator and the number drawn per quarter never
depends on anything else, so a counterfactual run (no_401k) sees the same exogenous path.
"""

from __future__ import annotations

import math

import numpy as np

WEEKS = 13
# Guards, inactive in any plausible run (they bind only at parameter corners such as a 150x
# multiplier with 401(k) holdings near the whole market, or momentum 1 over 100 years):
# a week's exogenous log return is at most +-MAX_WEEKLY_LOG (a factor of e^5 ~ 150); the log
# price impact of a week's 401(k) flow at most +-MAX_WEEKLY_IMPACT (~10%, i.e. a weekly flow
# beyond 0.1 / M of the market's value, $87B at M = 4.5 and $3.9T, is outside the linear
# inelastic-market regime; without this bound rebalancing 401(k) holders trading against their
# own impact pump balances to overflow); the price index stays within [PRICE_FLOOR,
# PRICE_CEILING], so market values never reach zero or infinity.
MAX_WEEKLY_LOG = 5.0
MAX_WEEKLY_IMPACT = 0.1
PRICE_FLOOR = 1e-12
PRICE_CEILING = 1e12


class CryptoMarket:
    """Market value, price index and realised volatility of the crypto market (US dollars)."""

    def __init__(self, params: dict, rng: np.random.Generator):
        self.rng = rng
        self.cap0 = params["crypto_market_cap_usd"]
        self.cap = self.cap0
        self.cap_no_401k = self.cap0
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
        self.price_history = [1.0]  # quarter-end price index, quarter 0 first
        self.peak_weekly = 1.0
        self.max_drawdown = 0.0
        self.realized_vol = 0.0
        self.last_log_return = 0.0
        self.balanced_return = 0.0
        self._weekly = np.zeros(WEEKS)
        self.extra_shock = 0.0  # a one-quarter log shock set by events (fraud), then cleared

    # --- what participants and employers read
    @property
    def price_index(self) -> float:
        """Market value relative to quarter 0 (supply is fixed, so this is the price)."""
        return self.cap / self.cap0

    @property
    def price_index_no_401k(self) -> float:
        """The price the same exogenous path gives without any 401(k) flow."""
        return self.cap_no_401k / self.cap0

    def trailing_log_return(self, quarters: int = 4) -> float:
        """Log price change over the last `quarters` quarters (what trend-chasers extrapolate)."""
        h = self.price_history
        return math.log(h[-1] / h[max(0, len(h) - 1 - quarters)])

    def recent_drawdown(self, quarters: int = 4) -> float:
        """Fall of the price from its peak over the last `quarters` quarter-ends, share of 1."""
        h = self.price_history[-(quarters + 1) :]
        return 1.0 - h[-1] / max(h)

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
        drift = self.mu_w + (crash + self.extra_shock + self.momentum * self.last_log_return) / WEEKS
        self._weekly = np.clip(drift + self.t_scale * z, -MAX_WEEKLY_LOG, MAX_WEEKLY_LOG)
        self.extra_shock = 0.0
        self.balanced_return = math.expm1(self.bal_mu - 0.5 * self.bal_sigma**2 + self.bal_sigma * bal)

    def clear(self, net_flow_usd: float) -> float:
        """Apply this quarter's returns and the impact of `net_flow_usd`; the price ratio over the quarter."""
        start = self.cap
        weekly_flow = net_flow_usd / WEEKS
        logs = np.empty(WEEKS)
        cap, shadow, peak, max_dd = self.cap, self.cap_no_401k, self.peak_weekly, self.max_drawdown
        low, high = self.cap0 * PRICE_FLOOR, self.cap0 * PRICE_CEILING
        for w in range(WEEKS):
            before = cap
            cap *= math.exp(self._weekly[w])
            impact = self.multiplier * weekly_flow / cap
            cap *= math.exp(min(max(impact, -MAX_WEEKLY_IMPACT), MAX_WEEKLY_IMPACT))
            cap = min(max(cap, low), high)
            shadow = min(max(shadow * math.exp(self._weekly[w]), low), high)
            logs[w] = math.log(cap / before)
            peak = max(peak, cap / self.cap0)
            max_dd = max(max_dd, 1.0 - (cap / self.cap0) / peak)
        self.cap, self.cap_no_401k, self.peak_weekly, self.max_drawdown = cap, shadow, peak, max_dd
        self.realized_vol = float(np.std(logs, ddof=1) * math.sqrt(52))
        self.last_log_return = math.log(cap / start)
        self.price_history.append(self.price_index)
        return cap / start

    @property
    def drawdown(self) -> float:
        """Current fall from the all-time weekly peak, share of 1."""
        return 1.0 - self.price_index / self.peak_weekly

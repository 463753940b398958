"""The exogenous crypto market: each quarter's weekly log returns of everyone else's demand.

Each quarter has 13 weeks. The weekly log return r_w is a Student-t draw (annual volatility
`crypto_vol_annual`, `tail_df` degrees of freedom) plus the drift, a scheduled crash spread
evenly over its quarters, and one-quarter shocks set by events (a fraud); a numerical guard
keeps each week within +-MAX_WEEKLY_LOG. The balanced portfolio's quarterly return (the
non-crypto part of every balance) is drawn with them.

All random numbers come from the market's own generator and the number drawn per quarter never
depends on anything else, so a counterfactual run (no_401k) sees the same exogenous path.

A price path (model/price_path.py: a user's file or the observed history) replaces the drawn
returns for the weeks it covers: the week's log return is the file's log price change, so the
no-401(k) price follows the file exactly, for every seed; scheduled crashes and event shocks act
on drawn weeks only. The random numbers of covered weeks are drawn all the same, so the weeks
after the file see the same draws as a run without it.
"""

from __future__ import annotations

import math

import numpy as np

from model.price_path import PricePath

WEEKS = 13
# A numerical guard, never reached inside the declared parameter ranges (the property tests
# check `guard_hits`): a week's exogenous log return stays within +-MAX_WEEKLY_LOG.
MAX_WEEKLY_LOG = 5.0


class ExogenousPath:
    """Draws the quarter's weekly exogenous log returns and the balanced-portfolio return."""

    def __init__(self, params: dict, rng: np.random.Generator, path: PricePath | None = None):
        self.rng = rng
        self.path = path
        self.replayed = 0  # weeks of this quarter taken from the price path
        self.levels = np.zeros(WEEKS)  # the path's log price index at the end of each replayed week
        self._level = 0.0  # the path's log price index at the end of the last replayed week
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
        self.extra_shock = 0.0  # a one-quarter log shock set by events (fraud), then cleared
        self.guard_hits = 0  # weeks in which the guard bound (0 inside declared ranges)

    def draw(self, quarter: int) -> tuple[np.ndarray, float]:
        """This quarter's 13 weekly exogenous log returns and the balanced portfolio's return
        (share of 1 over the quarter)."""
        z = self.rng.standard_t(self.df, WEEKS)
        bal = self.rng.standard_normal()
        crashing = self.crash_start >= 0 and self.crash_start <= quarter < self.crash_start + self.crash_len
        drift = self.mu_w + ((self.crash_log if crashing else 0.0) + self.extra_shock) / WEEKS
        raw = drift + self.t_scale * z
        self.replayed = 0
        if self.path is not None:
            levels, covered = self.path.quarter_levels(quarter)
            if covered:
                self.levels[:covered] = levels[:covered]
                raw[:covered] = np.diff(levels[:covered], prepend=self._level)
                self._level = float(levels[covered - 1])
                self.replayed = covered
        weekly = np.clip(raw, -MAX_WEEKLY_LOG, MAX_WEEKLY_LOG)
        self.guard_hits += int((raw != weekly).sum())
        self.extra_shock = 0.0
        balanced = math.expm1(self.bal_mu - 0.5 * self.bal_sigma**2 + self.bal_sigma * bal)
        return weekly, balanced

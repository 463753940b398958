"""Intervals for what a batch report states: shares of runs, medians, paired differences.

Every probability or band a report prints carries a 95% interval:
* a share of runs (e.g. "reaches $87B"): Wilson score interval (scipy.stats.binomtest);
* a median over runs: the distribution-free order-statistic interval (scipy.stats.quantile_test);
* a paired difference (same seeds, two arms): the median of the run-by-run differences with its
  order-statistic interval, and for binary outcomes the difference of the two shares with a
  percentile bootstrap over pairs (scipy.stats.bootstrap, fixed seed: reports are reproducible).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A value with its 95% interval and the number of runs behind it."""

    value: float
    low: float
    high: float
    n: int

    def fmt(self, unit: str = "") -> str:
        """'v [lo, hi]' in the unit: '' (3 significant digits), '%' (percent) or '$B'."""
        f = {"%": lambda v: f"{100 * v:.1f}%", "$B": lambda v: f"${v / 1e9:,.1f}B"}.get(
            unit, lambda v: f"{v:.3g}"
        )
        return f"{f(self.value)} [{f(self.low)}, {f(self.high)}]"


def share(hits: np.ndarray | list[bool]) -> Estimate:
    """The share of runs where something happened, with its Wilson interval."""
    x = np.asarray(hits, bool)
    n, k = len(x), int(x.sum())
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=LEVEL, method="wilson")
    return Estimate(k / n, float(ci.low), float(ci.high), n)


def median(values: np.ndarray | list[float]) -> Estimate:
    """The median over runs with its distribution-free interval (NaN bounds for tiny samples)."""
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    mid = float(np.median(x))
    try:
        ci = stats.quantile_test(x, q=mid, p=0.5).confidence_interval(confidence_level=LEVEL)
        low, high = float(ci.low), float(ci.high)
    except ValueError:
        low = high = float("nan")
    return Estimate(
        mid, low if np.isfinite(low) else float("nan"), high if np.isfinite(high) else float("nan"), len(x)
    )


def share_difference(first: np.ndarray, second: np.ndarray, seed: int = 0) -> Estimate:
    """Share of `first` minus share of `second` over the same pairs of runs, bootstrap interval."""
    a, b = np.asarray(first, float), np.asarray(second, float)
    d = a - b
    if len(d) < 2:
        return Estimate(float(d.mean()) if len(d) else float("nan"), float("nan"), float("nan"), len(d))
    if np.all(d == d[0]):
        return Estimate(float(d[0]), float(d[0]), float(d[0]), len(d))
    res = stats.bootstrap(
        (d,),
        np.mean,
        confidence_level=LEVEL,
        n_resamples=4000,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return Estimate(
        float(d.mean()), float(res.confidence_interval.low), float(res.confidence_interval.high), len(d)
    )

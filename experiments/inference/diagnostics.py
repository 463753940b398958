"""Which parameters the targets pin down: prior against posterior for every calibrated parameter.

Per parameter: the prior's and the posterior's median and central 90% interval; the
contraction 1 - posterior variance / prior variance (0: the targets taught nothing, 1: the
parameter is pinned down), with a 90% bootstrap interval over the particles; the posterior
shift (posterior mean - prior mean) / prior standard deviation; and the verdict: a contraction
below IDENTIFIED ("not identified by these targets"). Weighted quantiles use the particles'
importance weights. The effective sample size (Kish) says how many equally weighted particles
the posterior is worth; the bootstrap resamples that many.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.inference.priors import LEVEL, Prior
from experiments.posterior_table import effective_sample_size

IDENTIFIED = 0.1  # contraction below this: "not identified by these targets" (issue 20)
NOT_IDENTIFIED = "not identified by these targets"
BOOTSTRAP = 400


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """Quantiles of a weighted sample (the inverse of its weighted empirical CDF, midpoint rule)."""
    order = np.argsort(values)
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def weighted_mean_var(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    w = np.asarray(weights, float) / np.sum(weights)
    m = float(np.sum(w * values))
    return m, float(np.sum(w * (values - m) ** 2))


def interval(values: np.ndarray, weights: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    tail = (1 - level) / 2
    lo, hi = weighted_quantile(values, weights, np.array([tail, 1 - tail]))
    return float(lo), float(hi)


def contraction(values: np.ndarray, weights: np.ndarray, prior: Prior) -> float:
    """1 - posterior variance / prior variance."""
    return 1.0 - weighted_mean_var(values, weights)[1] / prior.variance


def identification(priors: list[Prior], table: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """One row per calibrated parameter (see the module docstring); ranked by contraction."""
    w = table["weight"].to_numpy(float)
    ess = effective_sample_size(w)
    rng = np.random.default_rng(seed)
    n = max(2, int(round(ess)))
    draws = [rng.choice(len(w), size=n, replace=True, p=w / w.sum()) for _ in range(BOOTSTRAP)]
    rows = []
    for p in priors:
        x = table[p.name].to_numpy(float)
        mean, var = weighted_mean_var(x, w)
        lo, hi = interval(x, w)
        c = 1.0 - var / p.variance
        boot = np.array([1.0 - np.var(x[i]) / p.variance for i in draws])
        c_lo, c_hi = np.quantile(boot, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
        plo, phi = p.interval()
        rows.append(
            {
                "parameter": p.name,
                "prior_low": p.low,
                "prior_high": p.high,
                "prior_median": p.quantile(0.5),
                "prior_q05": plo,
                "prior_q95": phi,
                "posterior_median": float(weighted_quantile(x, w, 0.5)),
                "posterior_q05": lo,
                "posterior_q95": hi,
                "contraction": c,
                "contraction_q05": float(c_lo),
                "contraction_q95": float(c_hi),
                "shift": (mean - p.mean) / p.sd,
                "identified": bool(c >= IDENTIFIED),
                "verdict": "identified" if c >= IDENTIFIED else NOT_IDENTIFIED,
                "prior_source": p.source,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs["effective_sample_size"] = ess
    return out.sort_values("contraction", ascending=False, kind="stable").reset_index(drop=True)

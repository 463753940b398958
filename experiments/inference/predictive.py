"""The posterior predictive check: would the observed values be unsurprising if the model were run
again at posterior parameters?

`draws` particles are drawn by weight from the posterior table and each is run in a fresh world
(seeds from the "predictive" stream, not the ones the calibration accepted, whose statistics lean
towards the observed values). To each simulated statistic the target's error model adds its
normal error (tolerance / sqrt(weight)), so the band is that of a new observation. A point target
is inside when its observed value lies in the 90% predictive band; a one-sided target when the
band reaches its allowed side (for "upper": the band's 5% quantile is at most the bound). The
share of draws whose statistic was undefined is reported too.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from experiments.inference.priors import LEVEL
from experiments.posterior_table import draw
from experiments.tuning.targets import Target


def noise_sd(t: Target) -> float:
    """Standard deviation of the target's error model, in its statistic's unit."""
    return t.tolerance / math.sqrt(t.weight) if t.weight > 0 else t.tolerance


def simulate(table: pd.DataFrame, names: list[str], n: int, seed: int, mapper: Callable) -> pd.DataFrame:
    """`n` posterior draws run once each: one row per draw, its parameters then its statistics.

    mapper(items) -> list of statistics dictionaries, items being (parameters, draw number): the
    engine runs simulator.FreshWorld over them, each draw in a world of its own.
    """
    rows = draw(table, n, seed)
    points = [{k: float(r[k]) for k in names} for _, r in rows.iterrows()]
    stats = mapper([(pt, i) for i, pt in enumerate(points)])
    out = pd.DataFrame(points)
    out.insert(0, "draw", np.arange(n))
    out.insert(1, "particle", rows["particle"].to_numpy(int))
    return pd.concat([out, pd.DataFrame(stats)], axis=1)


def check(targets: list[Target], sims: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """One row per target: observed, the simulated median, the 90% predictive band, inside or not."""
    rng = np.random.default_rng(seed)
    tail = (1 - LEVEL) / 2
    rows = []
    for t in targets:
        x = pd.to_numeric(sims[t.name], errors="coerce").to_numpy(float)
        ok = np.isfinite(x)
        undefined = float(1 - ok.mean()) if len(x) else math.nan
        if ok.sum() < 2:
            lo = hi = med = math.nan
            inside = False
        else:
            y = x[ok] + rng.normal(0.0, noise_sd(t), ok.sum())
            lo, hi = np.quantile(y, [tail, 1 - tail])
            med = float(np.median(x[ok]))
            if t.kind == "upper":
                inside = bool(lo <= t.observed)
            elif t.kind == "lower":
                inside = bool(hi >= t.observed)
            else:
                inside = bool(lo <= t.observed <= hi)
        rows.append(
            {
                "target": t.name,
                "statistic": t.statistic.text,
                "kind": t.kind,
                "observed": t.observed,
                "simulated_median": med,
                "band_q05": float(lo),
                "band_q95": float(hi),
                "inside": inside,
                "undefined_share": undefined,
                "draws": int(len(x)),
            }
        )
    return pd.DataFrame(rows)

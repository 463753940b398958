"""The recovery check: calibrate to synthetic targets made at known parameter points, and count
how often the true values fall inside the posterior's 90% intervals.

Each true point is drawn from the prior (seeded), run once in its own world, and each target's
observed value is replaced by that run's statistic plus a draw of the target's error model
(tolerance / sqrt(weight)); one-sided targets become point targets there (a bound is not a
measurement one can simulate). A calibration of those synthetic targets with the same priors,
simulator and schedule then runs in its own folder (resumable like the main one). If the
inference is right, each true value is inside its 90% interval with probability 0.9; the
coverage is reported with its exact 95% (Clopper-Pearson) interval and a two-sided binomial test
against 0.9. Intervals of the parameters of one point are not independent, so the test is a
guide, not an exact one. A run stopped above temperature 1 is tempered: wider intervals, and a
coverage above 0.9.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.inference import smc
from experiments.inference.diagnostics import interval, weighted_quantile
from experiments.inference.posterior import open_history, particles
from experiments.inference.predictive import noise_sd
from experiments.inference.priors import LEVEL
from experiments.tuning.targets import Target

FOLDER = "recovery"
ALPHA = 0.05  # the coverage test's level


def true_points(plan: smc.Plan, n: int, seed: int) -> list[dict[str, float]]:
    """`n` parameter points drawn from the prior."""
    rng = np.random.default_rng(seed)
    return [{p.name: float(rng.uniform(p.low, p.high)) for p in plan.priors} for _ in range(n)]


def synthetic_targets(targets: tuple[Target, ...], truth: dict[str, float], rng) -> tuple[Target, ...]:
    """The targets with observed values simulated at the truth plus the error model's noise
    (targets whose statistic the true run leaves undefined are left out)."""
    out = []
    for t in targets:
        x = truth.get(t.name, math.nan)
        if x is None or not math.isfinite(x):
            continue
        out.append(dataclasses.replace(t, observed=float(x + rng.normal(0.0, noise_sd(t))), kind="point"))
    return tuple(out)


def run(
    plan: smc.Plan,
    out: Path,
    engine,
    *,
    points: int,
    seed: int,
    code_version: str,
    make_simulator: Callable[[str], Callable] | None = None,
    on_event: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Calibrate to `points` synthetic target sets in OUT/recovery/point-K; one row per point
    and parameter: truth, posterior median and 90% interval, inside or not."""
    make = make_simulator or (lambda stream: plan.simulator(stream))
    rng = np.random.default_rng([seed, 1])
    rows = []
    for k, truth in enumerate(true_points(plan, points, seed)):
        observed = make(f"recovery-truth-{seed}-{k}")(truth)
        targets = synthetic_targets(plan.targets, observed, rng)
        folder = Path(out) / FOLDER / f"seed-{seed}" / f"point-{k:02d}"
        sub = dataclasses.replace(plan, targets=targets)
        if on_event:
            on_event(f"recovery point {k + 1} of {points}")
        outcome = smc.run(
            sub, folder, engine, code_version=code_version, simulator=make("abc"), on_event=on_event
        )
        table = particles(open_history(folder), list(plan.names))
        w = table["weight"].to_numpy(float)
        for p in plan.priors:
            x = table[p.name].to_numpy(float)
            lo, hi = interval(x, w)
            rows.append(
                {
                    "point": k,
                    "parameter": p.name,
                    "truth": truth[p.name],
                    "posterior_median": float(weighted_quantile(x, w, 0.5)),
                    "posterior_q05": lo,
                    "posterior_q95": hi,
                    "inside": bool(lo <= truth[p.name] <= hi),
                    "final_temperature": outcome.temperature,
                    "simulations": outcome.simulations,
                    "targets_used": len(targets),
                }
            )
    return pd.DataFrame(rows)


def coverage(rows: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """Coverage per parameter and over all: inside / total, exact 95% interval, binomial p-value
    against `level`, and whether it is consistent with `level` (p >= ALPHA)."""
    from scipy.stats import binomtest

    groups = [(name, g) for name, g in rows.groupby("parameter", sort=False)] + [("all", rows)]
    out = []
    for name, g in groups:
        k, n = int(g["inside"].sum()), len(g)
        test = binomtest(k, n, level)
        ci = test.proportion_ci(confidence_level=0.95, method="exact")
        out.append(
            {
                "parameter": name,
                "inside": k,
                "intervals": n,
                "coverage": k / n,
                "coverage_lo": float(ci.low),
                "coverage_hi": float(ci.high),
                "p_value": float(test.pvalue),
                "consistent": bool(test.pvalue >= ALPHA),
            }
        )
    return pd.DataFrame(out)

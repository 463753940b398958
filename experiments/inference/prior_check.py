"""The prior-sensitivity check: the posterior again with every prior's width halved and doubled.

The halved and doubled priors are centred on the main posterior's median (and kept inside the
declared ranges), so a parameter the targets pin down keeps its posterior, and one they do not
follows its prior: the check shows which answers lean on the priors. A doubled prior that the
declared ranges leave as it was (the default priors are the declared ranges) is not run again.
Each variant is a calibration of its own in OUT/prior-x0.5 and OUT/prior-x2 (resumable).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from experiments.inference import smc
from experiments.inference.diagnostics import interval, weighted_quantile
from experiments.inference.posterior import open_history, particles

FACTORS = (0.5, 2.0)
# prior-sensitive: the median moves by more than this share of the main 90% width, or the width
# changes by more than WIDTH times either way
SENSITIVE = 0.25
WIDTH = 1.5


def folder(out: Path, factor: float) -> Path:
    return Path(out) / f"prior-x{factor:g}"


def run(
    plan: smc.Plan,
    out: Path,
    engine,
    main: pd.DataFrame,
    *,
    code_version: str,
    on_event: Callable[[str], None] | None = None,
    simulator: Callable | None = None,
) -> pd.DataFrame:
    """Run the variants; one row per prior variant and parameter comparing with the main posterior
    (`main`: the main posterior table)."""
    w0 = main["weight"].to_numpy(float)
    base = {}
    for p in plan.priors:
        x = main[p.name].to_numpy(float)
        base[p.name] = (float(weighted_quantile(x, w0, 0.5)), *interval(x, w0))
    rows = []
    for factor in FACTORS:
        priors = tuple(p.scaled(factor, base[p.name][0]) for p in plan.priors)
        if all((q.low, q.high) == (p.low, p.high) for p, q in zip(plan.priors, priors, strict=True)):
            for p in plan.priors:
                rows.append({"prior": f"x{factor:g}", "parameter": p.name, "run": False})
            continue
        if on_event:
            on_event(f"prior check: widths x{factor:g}")
        variant = dataclasses.replace(plan, priors=priors)
        where = folder(out, factor)
        outcome = smc.run(
            variant, where, engine, code_version=code_version, simulator=simulator, on_event=on_event
        )
        table = particles(open_history(where), list(plan.names))
        w = table["weight"].to_numpy(float)
        for p, q in zip(plan.priors, priors, strict=True):
            x = table[p.name].to_numpy(float)
            med = float(weighted_quantile(x, w, 0.5))
            lo, hi = interval(x, w)
            b_med, b_lo, b_hi = base[p.name]
            moved = abs(med - b_med) / max(b_hi - b_lo, 1e-300)
            ratio = (hi - lo) / max(b_hi - b_lo, 1e-300)
            rows.append(
                {
                    "prior": f"x{factor:g}",
                    "parameter": p.name,
                    "run": True,
                    "prior_low": q.low,
                    "prior_high": q.high,
                    "posterior_median": med,
                    "posterior_q05": lo,
                    "posterior_q95": hi,
                    "main_median": b_med,
                    "main_q05": b_lo,
                    "main_q95": b_hi,
                    "median_moved": moved,
                    "width_ratio": ratio,
                    "prior_sensitive": bool(moved > SENSITIVE or not 1 / WIDTH <= ratio <= WIDTH),
                    "final_temperature": outcome.temperature,
                }
            )
    return pd.DataFrame(rows)

"""Global sensitivity analysis with SALib: Morris screening, then Sobol indices for a short list.

Morris (elementary effects) ranks many parameters cheaply: mu* is the mean absolute change of
the outcome when one parameter moves across its range (in the outcome's units), sigma the
spread of those changes (interactions and non-linearity). Sobol gives variance shares: S1 the
share of the outcome's variance due to the parameter alone, ST including its interactions.
Both read the parameter ranges from the declaration (or a narrower `name=LOW:HIGH`); each
sampled point is run at every replicate seed and the outcome averaged over seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from experiments.tuning import moments
from experiments.tuning.runs import RunSettings, run_points
from experiments.tuning.space import Dimension, point, salib_problem
from model.errors import InputError

METHODS = ("morris", "sobol")
MORRIS_LEVELS = 4
CONF_LEVEL = 0.95
RESAMPLES = 1000


def check_design(method: str, dims: list[Dimension], n: int) -> None:
    """Refuse a design SALib cannot analyse (before any run): a method, size or parameter count."""
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}", key="--method", allowed=", ".join(METHODS))
    if len(dims) < 2:
        raise InputError(
            "needs at least two parameters", key="--params", allowed="two or more parameter names"
        )
    if n < 2:
        raise InputError(f"{n} is too few", key="--samples", allowed="an integer of at least 2")
    if method == "sobol" and n & (n - 1):
        raise InputError(
            f"{n} is not a power of 2", key="--samples", allowed="a power of 2 for Sobol (e.g. 32, 64, 128)"
        )


def sample(method: str, dims: list[Dimension], n: int, seed: int) -> np.ndarray:
    """The design: Morris trajectories (n*(k+1) rows) or Saltelli/Sobol points (n*(k+2) rows)."""
    check_design(method, dims, n)
    problem = salib_problem(dims)
    if method == "morris":
        return morris_sample.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    return sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)


def analyze(method: str, dims: list[Dimension], x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """The indices with 95% confidence half-widths, one row per parameter, ranked (1 = most influential).

    Morris: mu_star, mu_star_conf, mu, sigma (outcome units); Sobol: S1, S1_conf, ST, ST_conf
    (shares of variance). Ranking is by mu_star (Morris) or ST (Sobol).
    """
    problem = salib_problem(dims)
    if method == "morris":
        r = morris_analyze.analyze(
            problem, x, y, num_levels=MORRIS_LEVELS, conf_level=CONF_LEVEL, num_resamples=RESAMPLES, seed=seed
        )
        table = pd.DataFrame(
            {
                "parameter": problem["names"],
                "mu_star": r["mu_star"],
                "mu_star_conf": r["mu_star_conf"],
                "mu": r["mu"],
                "sigma": r["sigma"],
            }
        )
        by = "mu_star"
    else:
        r = sobol_analyze.analyze(
            problem, y, calc_second_order=False, conf_level=CONF_LEVEL, num_resamples=RESAMPLES, seed=seed
        )
        table = pd.DataFrame(
            {
                "parameter": problem["names"],
                "S1": r["S1"],
                "S1_conf": r["S1_conf"],
                "ST": r["ST"],
                "ST_conf": r["ST_conf"],
            }
        )
        by = "ST"
    table["low"] = [d.low for d in dims]
    table["high"] = [d.high for d in dims]
    table = table.sort_values(by, ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def reliability_warning(method: str, indices: pd.DataFrame, n: int) -> str | None:
    """A warning when Sobol indices are too noisy to read: an index outside 0-1 beyond its
    noise, or a 95% half-width above 0.25 (both mean the sample is too small); None otherwise."""
    if method != "sobol" or indices.empty:
        return None
    values = indices.melt(id_vars="parameter", value_vars=["S1", "ST"], var_name="index")
    outside = values[(values["value"] > 1.1) | (values["value"] < -0.1)]
    widest = float(indices[["S1_conf", "ST_conf"]].max().max())
    if outside.empty and widest <= 0.25:
        return None
    worst = outside.loc[outside["value"].sub(0.5).abs().idxmax()] if not outside.empty else None
    what = (
        f"{worst['index']} of {worst['parameter']} is {worst['value']:.2f}, outside 0-1"
        if worst is not None
        else f"95% half-widths reach {widest:.2f}"
    )
    return (
        f"the Sobol sample is too small for these indices ({what}; --samples {n});"
        f" rerun with --samples {4 * n} or more, or read only the ranking"
    )


def group_size(method: str, k: int) -> int:
    """Rows per Morris trajectory (k+1) or per Saltelli block without second order (k+2)."""
    return k + 1 if method == "morris" else k + 2


def run_sensitivity(
    method: str, dims: list[Dimension], evaluate: Callable[[np.ndarray], np.ndarray], n: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, int]:
    """Sample, evaluate every row with `evaluate(X) -> Y` (one outcome per row, NaN where the
    model failed or the outcome is undefined), analyse.

    A trajectory (Morris) or base-sample block (Sobol) with any undefined outcome is dropped as
    a whole, which keeps the estimators valid. Returns the design X and outcomes Y that were
    analysed, the ranked indices table and the number of groups dropped.
    """
    x = sample(method, dims, n, seed)
    y = np.asarray(evaluate(x), float)
    size = group_size(method, len(dims))
    ok = np.isfinite(y).reshape(-1, size).all(axis=1)
    if ok.sum() < 2:
        raise InputError(
            f"the outcome is undefined (or the model failed) in {int((~ok).sum())} of"
            f" {len(ok)} {'trajectories' if method == 'morris' else 'sample blocks'}",
            key="--outcome",
            allowed="an outcome defined in the ranges, or narrower ranges",
        )
    keep = np.repeat(ok, size)
    x, y = x[keep], y[keep]
    return x, y, analyze(method, dims, x, y, seed), int((~ok).sum())


def model_evaluator(
    dims: list[Dimension],
    outcome: moments.Statistic,
    settings: RunSettings,
    store: Path,
    *,
    workers: int | None,
    dask_address: str | None,
    progress: bool = True,
) -> Callable[[np.ndarray], np.ndarray]:
    """`evaluate(X)` running the real model: each row at every seed, the outcome averaged over seeds.

    A point where any run failed gets NaN; `evaluate.failures` lists (run_id, error) of failures.
    """

    def evaluate(x: np.ndarray) -> np.ndarray:
        points = [point(dims, row) for row in x]
        per_point, failures = run_points(
            points,
            settings,
            store,
            prefix="sa",
            workers=workers,
            dask_address=dask_address,
            progress=progress,
        )
        failed_runs.extend(failures)
        n_seeds = len(settings.seeds)
        # a point counts only if every seed ran: averaging over fewer seeds would mix noise levels
        return np.array(
            [outcome.of_runs(tables) if len(tables) == n_seeds else np.nan for tables in per_point], float
        )

    failed_runs: list[tuple[str, str]] = []
    evaluate.failures = failed_runs  # type: ignore[attr-defined]

    return evaluate


def top_parameters(indices_csv: Path, k: int) -> list[str]:
    """The k highest-ranked parameters of an earlier run's indices.csv (for Sobol after Morris)."""
    if not indices_csv.is_file():
        raise InputError(
            "no indices.csv there",
            source=str(indices_csv.parent),
            key="--from-screen",
            allowed="the --out folder of an earlier `crypto401k sensitivity` run",
        )
    table = pd.read_csv(indices_csv)
    if "rank" not in table or "parameter" not in table:
        raise InputError("not an indices table", source=str(indices_csv), key="--from-screen")
    return table.sort_values("rank")["parameter"].head(k).tolist()

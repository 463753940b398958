"""Reports over a batch store: fan charts and tables that answer the model's three claims.

Everything is computed from the store (reports never re-run models). Runs are grouped into arms:
a scenario, plus the values of any parameter the experiment varies (e.g. `baseline
[exposure_in_politics=false]`). Every number a user reads carries its 95% interval
(experiments/batch/stats.py): shares of runs with Wilson intervals, medians with
order-statistic intervals, paired differences run by run on the same seeds.

Sections, each written when the store has what it needs:
* headline numbers per arm at the last quarter;
* the seed claims: new money committed (`cumulative_invested_usd`: contributions and purchases
  minus the cost of what was sold, withdrawals excluded) after 4, 12 and 40 quarters, against
  $87B and $435B (1% and 5% of the $8.7T base, ICI 31 Mar 2025), for every arm alike;
* volatility: each arm against the no_401k arm on the same seeds: annualised volatility of 1-,
  4- and 8-quarter log returns over the run, max drawdown and recovery time;
* the channel: the chance the 401(k) channel is lost (the rule rescinded) within the run, and,
  where an experiment varies `exposure_in_politics`, how much voters' exposure changes it;
* retirement security: savers' balances against their no-crypto counterfactual.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from experiments.batch import stats, store
from model.errors import InputError

FAN_METRICS = {
    "adoption_rate": ("Adoption (share of participants holding crypto)", 1.0),
    "cumulative_invested_usd": ("New money committed to crypto, cumulative ($B)", 1e9),
    "flow_price_impact": ("Price change attributable to 401(k) flow", 1.0),
    "moat_index": ("Moat index", 1.0),
    "channel_open": ("Share of runs with the 401(k) channel open", 1.0),
    "holder_balance_ratio_p5_50_64": ("5th percentile balance ratio of holders aged 50-64", 1.0),
}
SEED_CLAIMS_USD = {"$87B": 87e9, "$435B": 435e9}  # 1% and 5% of $8.7T (ICI, 31 Mar 2025)
HEADLINE_QUARTERS = (4, 12, 40)
COUNTERFACTUAL = "no_401k"
EXPOSURE_SWITCH = "param_exposure_in_politics"
# per-run statistics read at the run's last quarter (when the store has them)
FINALS = (
    "adoption_rate",
    "crypto_aum_usd",
    "cumulative_invested_usd",
    "cumulative_net_flow_usd",
    "holdings_share_of_float",
    "flow_price_impact",
    "return_vol_1q",
    "return_vol_4q",
    "return_vol_8q",
    "max_drawdown",
    "recovery_quarters",
    "moat_index",
    "exposure_index",
    "crackdown_pass_probability",
    "balance_ratio_median_50_64",
    "balance_ratio_p5_50_64",
    "balance_ratio_p5_35_49",
    "balance_ratio_p5_under35",
    "near_retirement_shortfall_share",
    "retiree_balance_ratio_p5",
    "retiree_shortfall_share",
    "holder_balance_ratio_median_50_64",
    "holder_balance_ratio_p5_under35",
    "holder_balance_ratio_p5_35_49",
    "holder_balance_ratio_p5_50_64",
    "holder_share_behind_5pct_50_64",
    "holder_balance_ratio_p5_50_64_at_shadow_price",
    "holder_share_behind_5pct_50_64_at_shadow_price",
    "retiree_holder_balance_ratio_p5",
    "retiree_holder_share_behind_5pct",
    "retiree_holder_balance_ratio_p5_at_shadow_price",
    "panic_cost_vs_holding_usd",
    "cumulative_fees_paid_usd",
)
VOLATILITY = ("return_vol_1q", "return_vol_4q", "return_vol_8q", "max_drawdown", "recovery_quarters")
RETIREMENT = (
    "holder_balance_ratio_p5_under35",
    "holder_balance_ratio_p5_35_49",
    "holder_balance_ratio_p5_50_64",
    "holder_share_behind_5pct_50_64",
    "holder_balance_ratio_p5_50_64_at_shadow_price",
    "holder_share_behind_5pct_50_64_at_shadow_price",
    "retiree_holder_balance_ratio_p5",
    "retiree_holder_share_behind_5pct",
    "retiree_holder_balance_ratio_p5_at_shadow_price",
    "balance_ratio_p5_50_64",
    "near_retirement_shortfall_share",
    "cumulative_fees_paid_usd",
    "panic_cost_vs_holding_usd",
)


def _columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("DESCRIBE runs").fetchall()}


def _present(con: duckdb.DuckDBPyConnection, col: str) -> bool:
    """Whether the store has the column with at least one value."""
    if col not in _columns(con):
        return False
    return con.execute(f'SELECT count("{col}") FROM runs').fetchone()[0] > 0


def _drawn(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The parameters some runs drew from a calibration's posterior (catalogue `drawn_json`)."""
    cols = {r[0] for r in con.execute("DESCRIBE catalogue").fetchall()}
    if "drawn_json" not in cols:
        return set()
    rows = con.execute("SELECT DISTINCT drawn_json FROM catalogue WHERE drawn_json IS NOT NULL").fetchall()
    return {name for (text,) in rows for name in json.loads(text)}


def _varied(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The parameter columns whose value differs between runs (the experiment's design; values
    drawn from a posterior are not a design: those runs form one posterior arm)."""
    drawn = {f"param_{n}" for n in _drawn(con)}
    cols = sorted(c for c in _columns(con) if c.startswith("param_") and c not in drawn)
    if not cols:
        return []
    counts = con.execute(
        "SELECT " + ", ".join(f"count(DISTINCT {c})" for c in cols) + " FROM runs"
    ).fetchone()
    return [c for c, k in zip(cols, counts, strict=True) if k > 1]


def _base_arm_expr(varied: list[str]) -> str:
    """SQL for the arm label without its draw: the scenario, then `[name=value, ...]`."""
    if not varied:
        return "scenario"
    parts = " || ', ' || ".join(f"'{c[6:]}=' || CAST({c} AS VARCHAR)" for c in varied)
    return f"scenario || ' [' || {parts} || ']'"


def _arm_expr(varied: list[str], draws: bool = False) -> str:
    """SQL for the arm label: the base label, and ' (posterior)' for runs drawn from a posterior."""
    base = _base_arm_expr(varied)
    return f"{base} || CASE WHEN draw = 'posterior' THEN ' (posterior)' ELSE '' END" if draws else base


def fan_data(con: duckdb.DuckDBPyConnection, metric: str) -> pd.DataFrame:
    """Per arm and quarter: runs, the 5th, 50th and 95th percentile and the mean of `metric`."""
    arm = _arm_expr(_varied(con), "draw" in _columns(con))
    return con.execute(f"""
        SELECT {arm} AS arm, quarter, count(*) AS n,
               quantile_cont("{metric}", 0.05) AS p5,
               quantile_cont("{metric}", 0.50) AS median,
               quantile_cont("{metric}", 0.95) AS p95,
               avg("{metric}") AS mean
        FROM runs WHERE "{metric}" IS NOT NULL
        GROUP BY arm, quarter ORDER BY arm, quarter""").df()


def per_run(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per run: arm, scenario, seed, the varied parameters and the run's statistics."""
    cols = _columns(con)
    varied = _varied(con)
    draws = "draw" in cols
    exprs = [f"{_arm_expr(varied, draws)} AS arm", f"{_base_arm_expr(varied)} AS base_arm", "scenario"]
    exprs += ["any_value(seed) AS seed", "any_value(draw) AS draw" if draws else "'point' AS draw"]
    drawn = sorted(n for n in _drawn(con) if f"param_{n}" in cols)
    if drawn:  # which particle a posterior run drew: its drawn values, as one key
        key = " || '|' || ".join(f"CAST(param_{n} AS VARCHAR)" for n in drawn)
        exprs.append(f"any_value({key}) AS particle")
    exprs += [f"any_value({c}) AS {c}" for c in varied]
    exprs += [f'arg_max("{c}", quarter) AS "{c}"' for c in FINALS if c in cols]
    if "cumulative_invested_usd" in cols:
        exprs += [
            f"any_value(cumulative_invested_usd) FILTER (WHERE quarter = {q}) AS invested_q{q}"
            for q in HEADLINE_QUARTERS
        ]
    if "channel_open" in cols:
        exprs.append("CAST(min(channel_open) = 0 AS BOOLEAN) AS channel_lost")
    if "max_drawdown" in cols:
        exprs.append("max(max_drawdown) AS run_max_drawdown")
    exprs.append("max(quarter) AS last_quarter")
    group = ", ".join(["run_id", "scenario", *varied, *(["draw"] if draws else [])])
    return con.execute(f"SELECT run_id, {', '.join(exprs)} FROM runs GROUP BY {group} ORDER BY run_id").df()


def headline_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per arm and statistic: runs, median with its 95% interval, and the 5-95% band over runs."""
    metrics = [c for c in FINALS if c in runs]
    rows = []
    for arm, g in runs.groupby("arm", sort=True):
        for m in metrics:
            v = g[m].dropna().to_numpy(float)
            if not len(v):
                continue
            est = stats.median(v)
            rows.append(
                {
                    "arm": arm,
                    "metric": m,
                    "runs": len(v),
                    "median": est.value,
                    "median_low": est.low,
                    "median_high": est.high,
                    "p5": np.quantile(v, 0.05),
                    "p95": np.quantile(v, 0.95),
                }
            )
    return pd.DataFrame(rows)


def seed_claims(runs: pd.DataFrame) -> pd.DataFrame:
    """Per arm and headline quarter: committed money (median, interval, band) and the share of
    runs reaching each claim, with its Wilson interval."""
    rows = []
    for arm, g in runs.groupby("arm", sort=True):
        for q in HEADLINE_QUARTERS:
            col = f"invested_q{q}"
            if col not in g or g[col].isna().all():
                continue
            v = g[col].dropna().to_numpy(float)
            est = stats.median(v)
            row = {
                "arm": arm,
                "quarter": q,
                "runs": len(v),
                "median_usd": est.value,
                "median_low_usd": est.low,
                "median_high_usd": est.high,
                "p5_usd": np.quantile(v, 0.05),
                "p95_usd": np.quantile(v, 0.95),
            }
            for label, usd in SEED_CLAIMS_USD.items():
                s = stats.share(v >= usd)
                row.update(
                    {f"reach {label}": s.value, f"reach {label} low": s.low, f"reach {label} high": s.high}
                )
            rows.append(row)
    return pd.DataFrame(rows)


def counterfactual_of(scenario: str, present: set[str]) -> str | None:
    """The no-401(k) arm a scenario is compared with: `<scenario>_no_401k` when the experiment
    runs one (e.g. observed_no_401k, on the same observed history), else no_401k; None for a
    counterfactual itself."""
    if scenario == COUNTERFACTUAL or scenario.endswith("_" + COUNTERFACTUAL):
        return None
    own = f"{scenario}_{COUNTERFACTUAL}"
    return own if own in present else COUNTERFACTUAL


def _pairs(runs: pd.DataFrame, params: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each arm merged run by run with its no-401(k) run of the same seed and parameters."""
    df = runs.merge(params, on="run_id")
    present = set(df["scenario"])
    out = {}
    for arm, g in df.groupby("arm", sort=True):
        cf = counterfactual_of(str(g["scenario"].iloc[0]), present)
        if cf is None or cf not in present:
            continue
        base = df[df["scenario"] == cf].set_index(["seed", "params_json"])
        j = g.merge(base, left_on=["seed", "params_json"], right_index=True, suffixes=("", "_cf"))
        if not j.empty:
            out[arm] = j
    return out


def paired_volatility(runs: pd.DataFrame, params: pd.DataFrame) -> pd.DataFrame:
    """Per arm and measure, run by run against its no-401(k) arm on the same random numbers (see
    `counterfactual_of`): the median difference (arm minus counterfactual) with its interval, and
    the share of pairs where the arm is lower."""
    rows = []
    for arm, j in _pairs(runs, params).items():
        for m in VOLATILITY:
            if m not in j or j[m].isna().all():
                continue
            d = (j[m] - j[f"{m}_cf"]).to_numpy(float)
            diff, lower = stats.median(d), stats.share(d < 0)
            rows.append(
                {
                    "arm": arm,
                    "metric": m,
                    "pairs": len(d),
                    "arm_median": float(j[m].median()),
                    "no_401k_median": float(j[f"{m}_cf"].median()),
                    "diff_median": diff.value,
                    "diff_low": diff.low,
                    "diff_high": diff.high,
                    "mean_diff": float(d.mean()),
                    "share_lower": lower.value,
                    "share_lower_low": lower.low,
                    "share_lower_high": lower.high,
                }
            )
    return pd.DataFrame(rows)


def channel(runs: pd.DataFrame) -> pd.DataFrame:
    """Per arm: the share of runs that lost the 401(k) channel (Wilson interval) and the moat."""
    if "channel_lost" not in runs:
        return pd.DataFrame()
    rows = []
    for arm, g in runs.groupby("arm", sort=True):
        lost = stats.share(g["channel_lost"].to_numpy(bool))
        row = {"arm": arm, "runs": lost.n, "lost": lost.value, "lost_low": lost.low, "lost_high": lost.high}
        if "moat_index" in g:
            moat = stats.median(g["moat_index"])
            row.update(
                {
                    "moat_median": moat.value,
                    "moat_low": moat.low,
                    "moat_high": moat.high,
                    "moat_p95": float(g["moat_index"].quantile(0.95)),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def exposure_effect(runs: pd.DataFrame) -> pd.DataFrame:
    """Per scenario (and per draw: at the point, over the posterior), paired on seeds: P(channel
    lost) without minus with voters' exposure. A run pairs with its twin of the same draw only:
    the point and posterior arms share seeds, but not parameters."""
    if EXPOSURE_SWITCH not in runs or "channel_lost" not in runs:
        return pd.DataFrame()
    others = [c for c in runs.columns if c.startswith("param_") and c != EXPOSURE_SWITCH]
    keys = ["scenario", "draw", "seed", *others] if "draw" in runs else ["scenario", "seed", *others]
    if "particle" in runs:
        keys.append("particle")
    on = runs[runs[EXPOSURE_SWITCH].astype(str).str.lower() == "true"]
    off = runs[runs[EXPOSURE_SWITCH].astype(str).str.lower() == "false"]
    j = on.merge(off, on=keys, suffixes=("_on", "_off"))
    if "draw" in j:
        j = j.assign(
            scenario=np.where(j["draw"] == "posterior", j["scenario"] + " (posterior)", j["scenario"])
        )
    rows = []
    for scen, g in j.groupby("scenario", sort=True):
        a, b = g["channel_lost_off"].to_numpy(bool), g["channel_lost_on"].to_numpy(bool)
        diff = stats.share_difference(a, b)
        p_off, p_on = stats.share(a), stats.share(b)
        rows.append(
            {
                "scenario": scen,
                "pairs": len(g),
                "lost_without": p_off.value,
                "lost_without_low": p_off.low,
                "lost_without_high": p_off.high,
                "lost_with": p_on.value,
                "lost_with_low": p_on.low,
                "lost_with_high": p_on.high,
                "difference": diff.value,
                "difference_low": diff.low,
                "difference_high": diff.high,
                "saved": int((a & ~b).sum()),
                "lost_only_with": int((b & ~a).sum()),
            }
        )
    return pd.DataFrame(rows)


# statistics compared at the calibrated point and over the posterior (besides the claims' shares)
POSTERIOR_METRICS = (
    "invested_q12",
    "invested_q40",
    "adoption_rate",
    "flow_price_impact",
    "return_vol_4q",
    "moat_index",
    "crackdown_pass_probability",
    "holder_balance_ratio_p5_50_64",
    "holder_share_behind_5pct_50_64",
    "retiree_holder_balance_ratio_p5",
)


MIN_REPEATED_RUNS = 10  # runs beyond one per particle needed to read the seeds' variance within particles


def parameter_share(
    point: np.ndarray, posterior: np.ndarray, particles: np.ndarray | None = None, seed: int = 0
) -> stats.Estimate:
    """Share of the posterior arm's variance due to the parameters, in [0, 1].

    With `particles` (the particle each posterior run drew) and particles drawn more than once
    (at least MIN_REPEATED_RUNS runs beyond one per particle), the share is read inside the
    posterior arm by the law of total variance: between-particle variance over total variance,
    from a one-way random-effects analysis of variance (the intraclass correlation), with a
    bootstrap over particles. It does not depend on where the calibrated point lies. Otherwise
    it is 1 - Var(point) / Var(posterior), which assumes the point's seed variance is typical of
    the posterior's (wrong when the point is atypical, e.g. far more adoption than most
    particles), with a bootstrap over runs. Fixed seed.
    """
    a, b = np.asarray(point, float), np.asarray(posterior, float)
    keep = np.isfinite(b)
    a, b = a[np.isfinite(a)], b[keep]
    rng = np.random.default_rng(seed)
    if particles is not None:
        groups = np.asarray(particles)[keep]
        _, codes = np.unique(groups, return_inverse=True)
        if len(b) - codes.max() - 1 >= MIN_REPEATED_RUNS and codes.max() >= 4:
            return _between_share(b, codes, rng)
    if len(a) < 3 or len(b) < 3:
        return stats.Estimate(float("nan"), float("nan"), float("nan"), min(len(a), len(b)))

    def share_of(x: np.ndarray, y: np.ndarray) -> float:
        vy = float(np.var(y, ddof=1))
        return float(np.clip(1.0 - np.var(x, ddof=1) / vy, 0.0, 1.0)) if vy > 0 else 0.0

    boot = [share_of(rng.choice(a, len(a)), rng.choice(b, len(b))) for _ in range(2000)]
    low, high = np.quantile(boot, [0.025, 0.975])
    return stats.Estimate(share_of(a, b), float(low), float(high), min(len(a), len(b)))


def _icc(y: np.ndarray, codes: np.ndarray) -> float:
    """One-way random-effects intraclass correlation of y over groups `codes` (0..k-1, each
    present): sigma2_between / (sigma2_between + sigma2_within), from the ANOVA mean squares."""
    n = np.bincount(codes).astype(float)
    k, big_n = len(n), float(n.sum())
    if k < 2 or big_n - k < 1:
        return float("nan")
    means = np.bincount(codes, weights=y) / n
    msw = float(((y - means[codes]) ** 2).sum()) / (big_n - k)
    msb = float((n * (means - y.mean()) ** 2).sum()) / (k - 1)
    n0 = (big_n - float((n**2).sum()) / big_n) / (k - 1)
    between = max(0.0, (msb - msw) / n0)
    total = between + msw
    return between / total if total > 0 else 0.0


def _between_share(y: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> stats.Estimate:
    """The intraclass correlation of y over particles, with a 95% bootstrap interval over particles."""
    k = int(codes.max()) + 1
    members = [np.flatnonzero(codes == g) for g in range(k)]
    boot = []
    for _ in range(1000):
        pick = rng.integers(0, k, k)
        idx = np.concatenate([members[g] for g in pick])
        new_codes = np.repeat(np.arange(k), [len(members[g]) for g in pick])
        boot.append(_icc(y[idx], new_codes))
    boot = np.asarray(boot)
    boot = boot[np.isfinite(boot)]
    low, high = np.quantile(boot, [0.025, 0.975]) if len(boot) else (float("nan"), float("nan"))
    return stats.Estimate(_icc(y, codes), float(low), float(high), len(y))


def point_and_posterior(runs: pd.DataFrame) -> pd.DataFrame:
    """Per arm and statistic: its value at the calibrated point (seeds only) and over the
    posterior (parameters and seeds), each with its 95% interval, and the share of the
    posterior's variance due to the parameters. Medians for statistics, shares of runs (Wilson)
    for the claims: reaching $87B and $435B, and losing the 401(k) channel."""
    if "draw" not in runs or set(runs["draw"]) != {"point", "posterior"}:
        return pd.DataFrame()
    rows = []
    present = set(runs["scenario"])
    for base, g in runs.groupby("base_arm", sort=True):
        pt, po = g[g["draw"] == "point"], g[g["draw"] == "posterior"]
        particles = po["particle"].to_numpy() if "particle" in po else None
        if pt.empty or po.empty or counterfactual_of(str(g["scenario"].iloc[0]), present) is None:
            continue  # a no-401(k) arm has no answer to compare
        for m in POSTERIOR_METRICS:
            if m not in g or g[m].isna().all():
                continue
            a, b = stats.median(pt[m]), stats.median(po[m])
            ps = parameter_share(pt[m].to_numpy(float), po[m].to_numpy(float), particles)
            rows.append(_compared(base, m, "median", a, b, ps, pt[m], po[m]))
        claims = [
            (f"reach {lbl} by q{q}", g.get(f"invested_q{q}"), usd)
            for q in (12, 40)
            for lbl, usd in SEED_CLAIMS_USD.items()
        ]
        for label, col, usd in claims:
            if col is None or col.isna().all():
                continue
            hits_pt = (pt[col.name].to_numpy(float) >= usd).astype(float)
            hits_po = (po[col.name].to_numpy(float) >= usd).astype(float)
            a, b = stats.share(hits_pt.astype(bool)), stats.share(hits_po.astype(bool))
            ps = parameter_share(hits_pt, hits_po, particles)
            rows.append(_compared(base, label, "share", a, b, ps, None, None))
        if "channel_lost" in g:
            lp, lq = pt["channel_lost"].astype(bool), po["channel_lost"].astype(bool)
            rows.append(
                _compared(
                    base,
                    "channel lost",
                    "share",
                    stats.share(lp),
                    stats.share(lq),
                    parameter_share(lp.to_numpy(float), lq.to_numpy(float), particles),
                    None,
                    None,
                )
            )
    return pd.DataFrame(rows)


def _compared(base, metric, kind, a, b, ps, pt, po) -> dict:
    row = {
        "arm": base,
        "metric": metric,
        "kind": kind,
        "point": a.value,
        "point_low": a.low,
        "point_high": a.high,
        "point_runs": a.n,
        "posterior": b.value,
        "posterior_low": b.low,
        "posterior_high": b.high,
        "posterior_runs": b.n,
        "parameter_share": ps.value,
        "parameter_share_low": ps.low,
        "parameter_share_high": ps.high,
    }
    if pt is not None:
        row.update(
            point_p5=float(pt.quantile(0.05)),
            point_p95=float(pt.quantile(0.95)),
            posterior_p5=float(po.quantile(0.05)),
            posterior_p95=float(po.quantile(0.95)),
        )
    return row


def retirement(runs: pd.DataFrame) -> pd.DataFrame:
    """Per arm and retirement outcome at the last quarter: median over runs with its interval."""
    rows = []
    for arm, g in runs.groupby("arm", sort=True):
        for m in RETIREMENT:
            if m in g and not g[m].isna().all():
                est = stats.median(g[m])
                rows.append(
                    {
                        "arm": arm,
                        "metric": m,
                        "runs": est.n,
                        "median": est.value,
                        "low": est.low,
                        "high": est.high,
                        "p5": float(g[m].quantile(0.05)),
                        "p95": float(g[m].quantile(0.95)),
                    }
                )
    return pd.DataFrame(rows)


# --- figures
def plot_fan(data: pd.DataFrame, metric: str, path: Path) -> None:
    """A fan chart: per arm, the median line and the 5-95% band over quarters (the share of runs
    for 0/1 outputs such as channel_open)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from model.calendar import quarter_to_date

    title, scale = FAN_METRICS[metric]
    binary = metric == "channel_open"
    fig = Figure(figsize=(8, 4.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, (arm, g) in enumerate(data.groupby("arm", sort=True)):
        color = f"C{i % 10}"
        label = arm.replace("$", r"\$") + f" (n={int(g['n'].max())})"
        if binary:
            ax.plot(g["quarter"], g["mean"], color=color, label=label)
            continue
        ax.fill_between(g["quarter"], g["p5"] / scale, g["p95"] / scale, color=color, alpha=0.15, linewidth=0)
        ax.plot(g["quarter"], g["median"] / scale, color=color, label=label)
    if metric == "cumulative_invested_usd":
        for label, usd in SEED_CLAIMS_USD.items():
            ax.axhline(usd / scale, color="grey", linestyle=":", linewidth=1)
            ax.annotate(
                label.replace("$", r"\$"),
                (data["quarter"].min(), usd / scale),
                fontsize=7,
                color="grey",
                va="bottom",
            )
    ticks = sorted({int(q) for q in data["quarter"].unique() if int(q) % 8 == 0})
    ax.set_xticks(ticks, [quarter_to_date(q) for q in ticks])
    what = "share of runs" if binary else "median and 5-95% band over runs"
    ax.set_title(f"{title}: {what}".replace("$", r"\$"), fontsize=10)
    ax.set_xlabel("quarter")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, format="png")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name)


def _usd(v: float) -> str:
    return "" if pd.isna(v) else f"${v / 1e9:,.1f}B"


def _num(metric: str, v: float) -> str:
    if pd.isna(v):
        return "n/a"
    if metric.endswith("_usd"):
        return _usd(v)
    if metric == "recovery_quarters":
        return f"{v:.1f}"
    return f"{v:.3g}"


def _pct(v: float) -> str:
    return "n/a" if pd.isna(v) else f"{100 * v:.1f}%"


def write_report(out_dir: str | Path, report_dir: str | Path | None = None) -> dict[str, Path]:
    """Write fan charts (PNG), the tables (CSV) and summary.md; the written files by kind.

    report_dir defaults to `<out_dir>/report`. Raises InputError when the store holds no
    completed run.
    """
    from experiments.single_run import atomic_write

    root = Path(out_dir)
    con = store.connect(root)
    n_ok = con.execute("SELECT count(*) FROM catalogue WHERE status = 'ok'").fetchone()[0]
    n_failed = con.execute("SELECT count(*) FROM catalogue WHERE status = 'failed'").fetchone()[0]
    if n_ok == 0:
        raise InputError(
            "the store holds no completed run",
            source=str(root),
            allowed="a folder written by `crypto401k batch`",
        )
    dest = Path(report_dir) if report_dir is not None else root / "report"
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise InputError(
            "is a link or a file",
            source=str(dest),
            key="--report-dir",
            allowed="a folder (created if missing)",
        )
    dest.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    notes = []
    for metric in FAN_METRICS:
        if not _present(con, metric):
            continue
        path = dest / f"fan_{_safe(metric)}.png"
        data = fan_data(con, metric)
        atomic_write(path, lambda p, d=data, m=metric: plot_fan(d, m, p))
        written[f"fan_{metric}"] = path
    runs = per_run(con)
    params = con.execute("SELECT run_id, params_json FROM catalogue WHERE status = 'ok'").df()
    meta = con.execute(
        "SELECT any_value(participants) AS participants, any_value(quarters) AS quarters,"
        " any_value(code_version) AS code FROM catalogue WHERE status = 'ok'"
    ).fetchone()
    con.close()
    tables = {
        "headline": headline_table(runs),
        "seed_claims": seed_claims(runs),
        "volatility": paired_volatility(runs, params),
        "channel": channel(runs),
        "exposure_effect": exposure_effect(runs),
        "retirement": retirement(runs),
        "point_and_posterior": point_and_posterior(runs),
    }
    for name, frame in tables.items():
        if not frame.empty:
            path = dest / f"{name}.csv"
            atomic_write(path, lambda p, f=frame: f.to_csv(p, index=False))
            written[name] = path
    md = _markdown(root, n_ok, n_failed, meta, tables, written, notes)
    atomic_write(dest / "summary.md", lambda p: p.write_text(md))
    written["summary"] = dest / "summary.md"
    return written


def _markdown(root, n_ok, n_failed, meta, tables, written, notes) -> str:
    participants, quarters, code = meta
    size = f"{participants:,} participants" if participants else "the declared number of participants"
    lines = [
        f"# Batch report: {root.name}",
        "",
        f"{n_ok} completed runs, {n_failed} failed; {size}, {quarters} quarters; code version {code}."
        " Medians carry their 95% interval in brackets; bands are the 5th-95th percentile over runs;"
        " shares of runs carry their 95% Wilson interval.",
        "",
    ]
    both = tables["point_and_posterior"]
    if not both.empty:
        lines += [
            "## At the calibrated point and over the posterior",
            "",
            "Each arm ran twice on the same seeds: at the calibrated point (the declared defaults;"
            " only the seeds vary) and over the posterior (replicate r takes particle r of a draw by"
            " weight from the calibration's posterior: parameters and seeds vary). The parameter"
            " share is the posterior arm's variance between particles over its total variance (law"
            " of total variance, read from the particles drawn more than once, each with other"
            " seeds; one-way random effects), with a bootstrap interval over particles; without"
            " such repeats, 1 - variance at the point / variance over the posterior. invested_q12"
            " and invested_q40 are new money committed by quarters 12 and 40.",
            "",
            "| arm | statistic | at the calibrated point (seeds only) | over the posterior (parameters and seeds) | share of variance due to parameters |",
            "|---|---|---|---|---|",
        ]
        for _, r in both.iterrows():
            m = r["metric"]

            def fmt(v, m=m, kind=r["kind"]):
                return _pct(v) if kind == "share" else _num(m if not m.startswith("invested") else "x_usd", v)

            band = ""
            if r["kind"] == "median" and "point_p5" in r and not pd.isna(r["point_p5"]):
                band = (
                    f" (band {fmt(r['point_p5'])} to {fmt(r['point_p95'])})",
                    f" (band {fmt(r['posterior_p5'])} to {fmt(r['posterior_p95'])})",
                )
            lines.append(
                f"| {r['arm']} | {m} | {fmt(r['point'])} [{fmt(r['point_low'])}, {fmt(r['point_high'])}]"
                f"{band[0] if band else ''} | {fmt(r['posterior'])} [{fmt(r['posterior_low'])},"
                f" {fmt(r['posterior_high'])}]{band[1] if band else ''} | {_pct(r['parameter_share'])}"
                f" [{_pct(r['parameter_share_low'])}, {_pct(r['parameter_share_high'])}] |"
            )
        lines.append("")
    head = tables["headline"]
    if not head.empty:
        lines += [
            "## Headline numbers at the last quarter",
            "",
            "| arm | statistic | runs | median [95% CI] | 5-95% band |",
            "|---|---|---|---|---|",
        ]
        for _, r in head.iterrows():
            m = r["metric"]
            lines.append(
                f"| {r['arm']} | {m} | {r['runs']} | {_num(m, r['median'])} "
                f"[{_num(m, r['median_low'])}, {_num(m, r['median_high'])}] | "
                f"{_num(m, r['p5'])} to {_num(m, r['p95'])} |"
            )
        lines.append("")
    claims = tables["seed_claims"]
    if not claims.empty:
        lines += [
            "## New money committed against the static seed claims",
            "",
            "Committed money is contributions and purchases minus the cost of what was sold,"
            " retirement withdrawals excluded (`cumulative_invested_usd`): the same measure for every"
            " arm, comparable with '1% of $8.7T = $87B'.",
            "",
            "| arm | quarter | runs | median [95% CI] | 5-95% band | reach $87B [95% CI] | reach $435B [95% CI] |",
            "|---|---|---|---|---|---|---|",
        ]
        for _, r in claims.iterrows():
            reach = [
                f"{_pct(r[f'reach {k}'])} [{_pct(r[f'reach {k} low'])}, {_pct(r[f'reach {k} high'])}]"
                for k in SEED_CLAIMS_USD
            ]
            lines.append(
                f"| {r['arm']} | {r['quarter']} | {r['runs']} | {_usd(r['median_usd'])} "
                f"[{_usd(r['median_low_usd'])}, {_usd(r['median_high_usd'])}] | "
                f"{_usd(r['p5_usd'])} to {_usd(r['p95_usd'])} | " + " | ".join(reach) + " |"
            )
        lines.append("")
    vol = tables["volatility"]
    if not vol.empty:
        lines += [
            "## Volatility: each arm against no_401k on the same random numbers",
            "",
            "Return volatility is the annualised spread of overlapping 1-, 4- and 8-quarter log returns"
            " over the run; max drawdown the deepest weekly peak-to-trough fall; recovery the quarters"
            " from the deepest quarter-end trough back to the earlier peak (censored at the horizon)."
            " A negative difference means the 401(k) channel lowered it.",
            "",
            "| arm | measure | pairs | arm median | no_401k median | difference: median [95% CI] | mean difference | pairs where lower [95% CI] |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for _, r in vol.iterrows():
            m = r["metric"]
            lines.append(
                f"| {r['arm']} | {m} | {r['pairs']} | {_num(m, r['arm_median'])} | "
                f"{_num(m, r['no_401k_median'])} | {r['diff_median']:+.3g} [{r['diff_low']:+.3g},"
                f" {r['diff_high']:+.3g}] | {r['mean_diff']:+.3g} | {_pct(r['share_lower'])}"
                f" [{_pct(r['share_lower_low'])}, {_pct(r['share_lower_high'])}] |"
            )
        lines.append("")
    chan = tables["channel"]
    if not chan.empty:
        lines += [
            "## The 401(k) channel and the moat",
            "",
            "| arm | runs | channel lost within the run [95% CI] | moat index at the end: median [95% CI] | 95th percentile |",
            "|---|---|---|---|---|",
        ]
        for _, r in chan.iterrows():
            moat = (
                f"{r['moat_median']:.3f} [{r['moat_low']:.3f}, {r['moat_high']:.3f}] | {r['moat_p95']:.3f}"
                if "moat_median" in r and not pd.isna(r["moat_median"])
                else "n/a | n/a"
            )
            lines.append(
                f"| {r['arm']} | {r['runs']} | {_pct(r['lost'])} [{_pct(r['lost_low'])},"
                f" {_pct(r['lost_high'])}] | {moat} |"
            )
        lines.append("")
    effect = tables["exposure_effect"]
    if not effect.empty:
        lines += [
            "### What voters' exposure changes (paired on seeds)",
            "",
            "The same runs with and without voters' stake reaching any political decision"
            " (`exposure_in_politics`). Positive difference: exposure protects the channel.",
            "",
            "| scenario | pairs | lost without exposure | lost with exposure | difference [95% CI] | pairs saved / lost only with exposure |",
            "|---|---|---|---|---|---|",
        ]
        for _, r in effect.iterrows():
            lines.append(
                f"| {r['scenario']} | {r['pairs']} | {_pct(r['lost_without'])} [{_pct(r['lost_without_low'])},"
                f" {_pct(r['lost_without_high'])}] | {_pct(r['lost_with'])} [{_pct(r['lost_with_low'])},"
                f" {_pct(r['lost_with_high'])}] | {100 * r['difference']:+.1f} points"
                f" [{100 * r['difference_low']:+.1f}, {100 * r['difference_high']:+.1f}] |"
                f" {r['saved']} / {r['lost_only_with']} |"
            )
        lines.append("")
    ret = tables["retirement"]
    if not ret.empty:
        lines += [
            "## Retirement security at the last quarter",
            "",
            "Balance ratio: a saver's balance over the same saver's balance had the crypto money stayed"
            " in the balanced portfolio (same contributions); p5 is the 5th percentile within the cohort."
            " Holders are the savers who hold crypto in the plan or have held it since the order (everyone"
            " else's ratio is exactly 1); retirees count at the moment they retire. `_at_shadow_price`:"
            " their crypto valued at the no-401(k) price, without the price support their own plans'"
            " buying gave it. Share behind: holders more than 5% below their counterfactual.",
            "",
            "| arm | outcome | runs | median over runs [95% CI] | 5-95% band |",
            "|---|---|---|---|---|",
        ]
        for _, r in ret.iterrows():
            m = r["metric"]
            lines.append(
                f"| {r['arm']} | {m} | {r['runs']} | {_num(m, r['median'])} [{_num(m, r['low'])},"
                f" {_num(m, r['high'])}] | {_num(m, r['p5'])} to {_num(m, r['p95'])} |"
            )
        lines.append("")
    figs = [p.name for k, p in written.items() if k.startswith("fan_")]
    if figs:
        lines += ["## Figures", ""] + [f"![{f}]({f})" for f in figs] + [""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)

"""Reports over a batch store: fan charts, a headline table per scenario, a markdown summary.

Everything is computed by DuckDB from the store (reports never re-run models), so a report
over thousands of runs does not load them all into memory. Outputs a store lacks (e.g.
moat_index before the politics module exists) are skipped with a note.

Definitions used in the report:
- band: the 5th-95th percentile over all runs of a scenario (replicates x design points);
  median: the 50th percentile.
- realized volatility of a run: the mean over quarters 1..end of `realized_vol` (annualised
  volatility of each quarter's 13 weekly log returns).
- max drawdown of a run: the largest weekly peak-to-trough fall of the price over the run.
- seed claims: $87B = 1% and $435B = 5% of the $8.7T 401(k) asset base (ICI, 31 Mar 2025),
  the static arithmetic the model is asked to test.
- paired comparison: runs of two scenarios with the same seed and parameters (common random
  numbers) are compared run by run; the difference is scenario minus no_401k.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from experiments.batch import store
from model.errors import InputError

FAN_METRICS = {
    "adoption_rate": ("Adoption (share of participants holding crypto)", 1.0, ""),
    "cumulative_net_flow_usd": ("Cumulative net 401(k) flow into crypto ($B)", 1e9, "$B"),
    "price_index": ("Crypto price index (quarter 0 = 1)", 1.0, ""),
    "moat_index": ("Moat index", 1.0, ""),
    "crackdown_pass_probability": ("Crackdown pass probability", 1.0, ""),
}
SEED_CLAIMS_USD = {"$87B (1% of $8.7T)": 87e9, "$435B (5% of $8.7T)": 435e9}  # ICI 31 Mar 2025 base
HEADLINE_QUARTERS = (4, 12, 40)
COUNTERFACTUAL = "no_401k"


def _columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("DESCRIBE runs").fetchall()}


def _present(con: duckdb.DuckDBPyConnection, col: str) -> bool:
    """Whether the store has the column with at least one value."""
    if col not in _columns(con):
        return False
    return con.execute(f'SELECT count("{col}") FROM runs').fetchone()[0] > 0


def fan_data(con: duckdb.DuckDBPyConnection, metric: str) -> pd.DataFrame:
    """Per scenario and quarter: the 5th, 50th and 95th percentile of `metric` over runs."""
    return con.execute(f"""
        SELECT scenario, quarter, count(*) AS n,
               quantile_cont("{metric}", 0.05) AS p5,
               quantile_cont("{metric}", 0.50) AS median,
               quantile_cont("{metric}", 0.95) AS p95
        FROM runs WHERE "{metric}" IS NOT NULL
        GROUP BY scenario, quarter ORDER BY scenario, quarter""").df()


def per_run(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per run: the headline numbers of that run (present outputs only)."""
    cols = _columns(con)
    exprs = ["scenario", "any_value(seed) AS seed"]
    finals = {
        "adoption_rate": "final_adoption_rate",
        "price_index": "final_price_index",
        "flow_price_impact": "final_flow_price_impact",
        "cumulative_net_flow_usd": "final_cumulative_net_flow_usd",
        "crypto_aum_usd": "final_crypto_aum_usd",
        "moat_index": "final_moat_index",
        "crackdown_pass_probability": "final_crackdown_pass_probability",
    }
    for col, name in finals.items():
        if col in cols:
            exprs.append(f'arg_max("{col}", quarter) AS {name}')
    if "adoption_rate" in cols:
        exprs.append("max(adoption_rate) AS peak_adoption_rate")
    if "cumulative_net_flow_usd" in cols:
        for q in HEADLINE_QUARTERS:
            exprs.append(
                f"any_value(cumulative_net_flow_usd) FILTER (WHERE quarter = {q})"
                f" AS cumulative_net_flow_usd_q{q}"
            )
    if "realized_vol" in cols:
        exprs.append("avg(realized_vol) FILTER (WHERE quarter >= 1) AS mean_realized_vol")
    if "max_drawdown" in cols:
        exprs.append("max(max_drawdown) AS max_drawdown")
    return con.execute(
        f"SELECT run_id, {', '.join(exprs)} FROM runs GROUP BY run_id, scenario ORDER BY run_id"
    ).df()


def headline_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and headline number: runs, median, 5th and 95th percentile, mean."""
    metrics = [c for c in runs.columns if c not in ("run_id", "scenario", "seed")]
    rows = []
    for scen, g in runs.groupby("scenario", sort=True):
        for m in metrics:
            v = g[m].dropna()
            if v.empty:
                continue
            rows.append(
                {
                    "scenario": scen,
                    "metric": m,
                    "runs": len(v),
                    "median": v.median(),
                    "p5": v.quantile(0.05),
                    "p95": v.quantile(0.95),
                    "mean": v.mean(),
                }
            )
    return pd.DataFrame(rows)


def seed_claims(runs: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and headline quarter: the share of runs whose cumulative flow reaches each claim."""
    rows = []
    for scen, g in runs.groupby("scenario", sort=True):
        for q in HEADLINE_QUARTERS:
            col = f"cumulative_net_flow_usd_q{q}"
            if col not in g or g[col].isna().all():
                continue
            v = g[col].dropna()
            row = {
                "scenario": scen,
                "quarter": q,
                "runs": len(v),
                "median_usd": v.median(),
                "p5_usd": v.quantile(0.05),
                "p95_usd": v.quantile(0.95),
            }
            for label, usd in SEED_CLAIMS_USD.items():
                row[f"share >= {label}"] = float((v >= usd).mean())
            rows.append(row)
    return pd.DataFrame(rows)


def paired(con: duckdb.DuckDBPyConnection, runs: pd.DataFrame) -> pd.DataFrame:
    """Each scenario against no_401k, run by run on the same seed and parameters.

    Per scenario: pairs, and the median and 5-95% band of the difference (scenario minus
    no_401k) in mean realized volatility and in max drawdown, and the share of pairs where
    the scenario's value is lower (the 401(k) channel dampened it).
    """
    if COUNTERFACTUAL not in set(runs["scenario"]) or "mean_realized_vol" not in runs:
        return pd.DataFrame()
    keys = con.execute("SELECT run_id, params_json FROM catalogue WHERE status = 'ok'").df()
    df = runs.merge(keys, on="run_id")
    base = df[df["scenario"] == COUNTERFACTUAL].set_index(["seed", "params_json"])
    rows = []
    for scen, g in df[df["scenario"] != COUNTERFACTUAL].groupby("scenario", sort=True):
        j = g.merge(base, left_on=["seed", "params_json"], right_index=True, suffixes=("", "_cf"))
        if j.empty:
            continue
        row = {"scenario": scen, "pairs": len(j)}
        for m in ("mean_realized_vol", "max_drawdown"):
            if m not in j:
                continue
            d = j[m] - j[f"{m}_cf"]
            row.update(
                {
                    f"{m}_{scen}_median": j[m].median(),
                    f"{m}_no_401k_median": j[f"{m}_cf"].median(),
                    f"{m}_diff_median": d.median(),
                    f"{m}_diff_p5": d.quantile(0.05),
                    f"{m}_diff_p95": d.quantile(0.95),
                    f"{m}_share_lower": float((d < 0).mean()),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


def plot_fan(data: pd.DataFrame, metric: str, path: Path) -> None:
    """A fan chart: per scenario, the median line and the 5-95% band over quarters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from model.calendar import quarter_to_date

    with matplotlib.rc_context({"text.parse_math": False}):  # labels hold dollar signs
        _draw_fan(plt, data, metric, path, quarter_to_date)


def _draw_fan(plt, data: pd.DataFrame, metric: str, path: Path, quarter_to_date) -> None:
    title, scale, _ = FAN_METRICS[metric]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for i, (scen, g) in enumerate(data.groupby("scenario", sort=True)):
        color = f"C{i % 10}"
        ax.fill_between(g["quarter"], g["p5"] / scale, g["p95"] / scale, color=color, alpha=0.2, linewidth=0)
        ax.plot(g["quarter"], g["median"] / scale, color=color, label=f"{scen} (n={int(g['n'].max())})")
    if metric == "cumulative_net_flow_usd":
        for label, usd in SEED_CLAIMS_USD.items():
            ax.axhline(usd / scale, color="grey", linestyle=":", linewidth=1)
            ax.annotate(label, (data["quarter"].min(), usd / scale), fontsize=7, color="grey", va="bottom")
    ticks = sorted(set(int(q) for q in data["quarter"].unique() if int(q) % 8 == 0))
    ax.set_xticks(ticks, [quarter_to_date(q) for q in ticks])
    ax.set_title(f"{title}: median and 5-95% band over runs", fontsize=10)
    ax.set_xlabel("quarter")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name)


def _usd(v: float) -> str:
    return f"${v / 1e9:,.1f}B"


def _fmt(metric: str, v: float) -> str:
    if pd.isna(v):
        return ""
    if metric.endswith("_usd") or "_usd_" in metric:
        return _usd(v)
    return f"{v:.3f}"


def write_report(out_dir: str | Path, report_dir: str | Path | None = None) -> dict[str, Path]:
    """Write fan charts (PNG), headline.csv, seed_claims.csv, paired.csv and summary.md.

    report_dir defaults to `<out_dir>/report`. Returns the written files by kind. Raises
    InputError when the store holds no completed run.
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
            notes.append(f"`{metric}` is not in this store: its fan chart is skipped.")
            continue
        path = dest / f"fan_{_safe(metric)}.png"
        data = fan_data(con, metric)
        atomic_write(path, lambda p, d=data, m=metric: plot_fan(d, m, p))
        written[f"fan_{metric}"] = path
    runs = per_run(con)
    head = headline_table(runs)
    claims = seed_claims(runs)
    pairs = paired(con, runs)
    con.close()
    for name, frame in (("headline", head), ("seed_claims", claims), ("paired", pairs)):
        if not frame.empty:
            path = dest / f"{name}.csv"
            atomic_write(path, lambda p, f=frame: f.to_csv(p, index=False))
            written[name] = path
    md = _markdown(root, n_ok, n_failed, head, claims, pairs, written, notes)
    atomic_write(dest / "summary.md", lambda p: p.write_text(md))
    written["summary"] = dest / "summary.md"
    return written


def _markdown(
    root: Path,
    n_ok: int,
    n_failed: int,
    head: pd.DataFrame,
    claims: pd.DataFrame,
    pairs: pd.DataFrame,
    written: dict[str, Path],
    notes: list[str],
) -> str:
    lines = [
        f"# Batch report: {root.name}",
        "",
        f"{n_ok} completed runs, {n_failed} failed. Values are medians with the 5-95% band"
        " over runs in brackets.",
        "",
    ]
    if not head.empty:
        scen = sorted(head["scenario"].unique())
        lines += [
            "## Headline numbers per scenario",
            "",
            "| metric | " + " | ".join(scen) + " |",
            "|---|" + "---|" * len(scen),
        ]
        for m in head["metric"].unique():
            cells = []
            for s in scen:
                r = head[(head["scenario"] == s) & (head["metric"] == m)]
                cells.append(
                    ""
                    if r.empty
                    else f"{_fmt(m, r['median'].iloc[0])} "
                    f"[{_fmt(m, r['p5'].iloc[0])}, {_fmt(m, r['p95'].iloc[0])}]"
                )
            lines.append(f"| {m} | " + " | ".join(cells) + " |")
        runs_per = head.groupby("scenario")["runs"].max()
        lines += ["", "Runs per scenario: " + ", ".join(f"{s} {runs_per[s]}" for s in scen), ""]
    if not claims.empty:
        labels = list(SEED_CLAIMS_USD)
        lines += [
            "## Cumulative flow against the static seed claims",
            "",
            "| scenario | quarter | median [5-95%] | "
            + " | ".join(f"share >= {label}" for label in labels)
            + " |",
            "|---|---|---|" + "---|" * len(labels),
        ]
        for _, r in claims.iterrows():
            lines.append(
                f"| {r['scenario']} | {r['quarter']} | {_usd(r['median_usd'])} "
                f"[{_usd(r['p5_usd'])}, {_usd(r['p95_usd'])}] | "
                + " | ".join(f"{r[f'share >= {label}']:.0%}" for label in labels)
                + " |"
            )
        lines.append("")
    if not pairs.empty:
        lines += [
            "## Paired comparison with the no_401k counterfactual (same random numbers)",
            "",
            "| scenario | pairs | metric | scenario median | no_401k median | difference median [5-95%] | share of pairs lower |",
            "|---|---|---|---|---|---|---|",
        ]
        for _, r in pairs.iterrows():
            s = r["scenario"]
            for m in ("mean_realized_vol", "max_drawdown"):
                if f"{m}_diff_median" in r and not pd.isna(r[f"{m}_diff_median"]):
                    lines.append(
                        f"| {s} | {r['pairs']} | {m} | {r[f'{m}_{s}_median']:.4f} | "
                        f"{r[f'{m}_no_401k_median']:.4f} | {r[f'{m}_diff_median']:+.3g} "
                        f"[{r[f'{m}_diff_p5']:+.3g}, {r[f'{m}_diff_p95']:+.3g}] | "
                        f"{r[f'{m}_share_lower']:.0%} |"
                    )
        lines.append("")
    figs = [p.name for k, p in written.items() if k.startswith("fan_")]
    if figs:
        lines += ["## Figures", ""] + [f"![{f}]({f})" for f in figs] + [""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    lines += [
        "Definitions: realized volatility is the mean over quarters of the annualised"
        " volatility of each quarter's weekly log returns; max drawdown is the largest"
        " peak-to-trough fall of the weekly price; the seed claims are 1% and 5% of the"
        " $8.7T 401(k) asset base (ICI, 31 Mar 2025).",
        "",
    ]
    return "\n".join(lines)

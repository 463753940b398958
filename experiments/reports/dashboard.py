"""The one-run dashboard (PNG): adoption, flows, AUM, price with and without 401(k) flow, the
political moat, plans and products, with the rule changes and elections marked.

Drawn with matplotlib's object-oriented Figure on the Agg canvas (no pyplot). Importing
matplotlib costs about as long as a tenth of a default run, so `crypto401k run` draws in a
helper process (`DashboardProcess`) started before the model: it imports matplotlib while the
model runs on the other core, then receives the quarters table as JSON on its standard input.
This module imports neither matplotlib nor pandas until it draws.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

B = 1e9
# The quarters-table columns the dashboard reads (those present are sent to the helper process).
COLUMNS = (
    "quarter",
    "date",
    "adoption_rate",
    "active_adoption_rate",
    "default_adoption_rate",
    "participants_offered_share",
    "net_flow_usd",
    "cumulative_net_flow_usd",
    "cumulative_invested_usd",
    "holdings_share_of_float",
    "asset_weighted_fee",
    "balance_ratio_p5_under35",
    "balance_ratio_p5_35_49",
    "balance_ratio_p5_50_64",
    "retiree_balance_ratio_p5",
    "near_retirement_shortfall_share",
    "crypto_aum_usd",
    "price_index",
    "price_index_no_401k",
    "moat_index",
    "crackdown_pass_probability",
    "pro_crypto_share_house",
    "plans_offering_share",
    "average_fee",
    "rule_status",
    "election",
)
RULE_WORDS = {
    "order_only": "executive order only",
    "proposed": "rule proposed",
    "final": "rule final",
    "rescinded": "rule rescinded",
    "codified": "rule codified by law",
}


def events(table: Mapping[str, Sequence]) -> list[tuple[int, str, str]]:
    """The run's rule changes and elections: (quarter, date, what happened), in time order."""
    out = []
    quarters, dates = list(table["quarter"]), list(table["date"])
    status = list(table["rule_status"]) if "rule_status" in table else []
    elections = list(table["election"]) if "election" in table else []
    for i, q in enumerate(quarters):
        if i and status and status[i] != status[i - 1]:
            out.append((int(q), str(dates[i]), RULE_WORDS.get(str(status[i]), str(status[i]))))
        if elections and isinstance(elections[i], str) and elections[i]:
            out.append((int(q), str(dates[i]), f"{elections[i]} election"))
    return out


def _align_zero(left, right) -> None:
    """Put zero at the same height on two y axes sharing a panel (a twin-axes bar/line plot)."""
    lims = []
    for ax in (left, right):
        lo, hi = ax.get_ylim()
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        if lo == hi:
            lo, hi = -1.0, 1.0
        lims.append((lo, hi))
    below = max(-lo / (hi - lo) for lo, hi in lims)  # the larger share of the axis below zero
    for ax, (lo, hi) in zip((left, right), lims, strict=True):
        if below < 1 and -lo / (hi - lo) < below:
            lo = -below * hi / (1 - below)
        ax.set_ylim(lo, hi)


def plot_dashboard(table: Mapping[str, Sequence], path: Path, title: str = "", subtitle: str = "") -> None:
    """Draw the dashboard of one run's quarters table (a DataFrame or a dict of columns) as PNG at `path`."""
    draw_dashboard(table, title, subtitle).savefig(path, dpi=90, format="png")


def draw_dashboard(table: Mapping[str, Sequence], title: str = "", subtitle: str = ""):
    """The dashboard figure (a matplotlib Figure on the Agg canvas) of one run's quarters table."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    col = {c: np.asarray(table[c]) for c in COLUMNS if c in table}
    q = col["quarter"]
    fig = Figure(figsize=(19, 7.8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 4).ravel()
    fig.subplots_adjust(left=0.04, right=0.96, top=0.86, bottom=0.08, wspace=0.32, hspace=0.35)
    ax = axes[0]
    ax.plot(q, col["active_adoption_rate"], label="active (own choice)")
    ax.plot(q, col["default_adoption_rate"], label="default (product sleeve)")
    ax.plot(q, col["adoption_rate"], "k--", lw=1, label="any")
    ax.plot(q, col["participants_offered_share"], ":", label="plan offers crypto")
    ax.set_title("Adoption (share of participants)")
    ax = axes[1]
    ax.bar(q, col["net_flow_usd"] / B, color="tab:blue", alpha=0.6, label="quarterly")
    right = ax.twinx()
    if "cumulative_invested_usd" in col:
        right.plot(
            q, col["cumulative_invested_usd"] / B, color="tab:red", label="new money committed, cumulative"
        )
    right.plot(q, col["cumulative_net_flow_usd"] / B, color="tab:red", ls=":", label="net flow, cumulative")
    _align_zero(ax, right)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_title("401(k) flow into crypto ($B)")
    ax.set_ylabel("quarterly ($B)", color="tab:blue")
    right.set_ylabel("cumulative ($B)", color="tab:red")
    axes[2].plot(q, col["crypto_aum_usd"] / B, color="tab:purple")
    axes[2].set_title("401(k) crypto holdings ($B)")
    ax = axes[3]
    ax.plot(q, col["price_index"], label="with 401(k) flow")
    ax.plot(q, col["price_index_no_401k"], "--", label="without")
    ax.set_yscale("log")
    ax.set_title("Crypto price index (quarter 0 = 1, log scale)")
    ax = axes[4]
    if "moat_index" in col:
        ax.plot(q, col["moat_index"], label="moat index")
        ax.plot(q, col["crackdown_pass_probability"], label="crackdown pass probability")
        if "pro_crypto_share_house" in col:
            ax.plot(q, col["pro_crypto_share_house"], ":", label="pro-crypto House share")
        ax.set_ylim(-0.02, 1.02)
    ax.set_title("Political moat (shares, probability)")
    ax = axes[5]
    ax.plot(q, col["plans_offering_share"], label="plans offering (share)")
    if "holdings_share_of_float" in col:
        ax.plot(q, col["holdings_share_of_float"], label="plans' holdings (share of the float)")
    fee = "asset_weighted_fee" if "asset_weighted_fee" in col else "average_fee"
    if fee in col:
        ax.plot(q, col[fee] * 100, label="fee holders pay (% a year)")
    ax.set_title("Plans, holdings and fees")
    ax = axes[6]
    cohorts = (
        ("balance_ratio_p5_under35", "under 35"),
        ("balance_ratio_p5_35_49", "35-49"),
        ("balance_ratio_p5_50_64", "50-64"),
        ("retiree_balance_ratio_p5", "at retirement"),
    )
    for name, label in cohorts:
        if name in col:
            ax.plot(q, col[name], ls="--" if name.startswith("retiree") else "-", label=label)
    ax.axhline(1.0, color="0.3", lw=0.8)
    ax.set_title("Savers: 5th percentile of balance / no-crypto balance")
    ax = axes[7]
    if "near_retirement_shortfall_share" in col:
        ax.plot(q, col["near_retirement_shortfall_share"] * 100, color="tab:brown")
    ax.set_title("Savers within 10 years of retirement\nmore than 10% below no crypto (%)")
    ax.set_ylim(bottom=0.0)  # a share: an all-zero line must not sit mid-panel above negative ticks
    marks = events(table)
    ticks = np.unique(np.linspace(q[0], q[-1], 5).round())
    for ax in axes:
        for quarter, _date, what in marks:
            if not what.endswith("election"):
                ax.axvline(quarter, color="tab:red", lw=0.8, ls="--", alpha=0.7)
        ax.set_xlabel("quarter (0 = 2025Q3)")
        ax.set_xticks(ticks)  # few ticks: each is a text to lay out and a line to draw
        ax.grid(alpha=0.3)
    elections = [quarter for quarter, _date, what in marks if what.endswith("election")]
    if elections:
        axes[4].plot(elections, [0.0] * len(elections), "v", color="0.4", ms=5, label="election")
    for ax in (axes[0], axes[3], axes[4], axes[5], axes[6]):
        ax.legend(fontsize=7, loc="best")
    (bars, bar_label), (line, line_label) = (
        axes[1].get_legend_handles_labels(),
        right.get_legend_handles_labels(),
    )
    axes[1].legend(bars + line, bar_label + line_label, fontsize=7, loc="upper left")
    changes = [
        f"{what.removeprefix('rule ')} q{quarter}"
        for quarter, _d, what in marks
        if not what.endswith("election")
    ]
    lines = [f"crypto401k: {title}", subtitle]
    if changes:
        lines.append(
            "DOL rule (red dashed lines): " + ", ".join(changes) + "; elections: triangles on the moat panel"
        )
    fig.suptitle("\n".join(line for line in lines if line), fontsize=10)
    return fig


class DashboardProcess:
    """A helper process that draws the dashboard; started early so matplotlib loads in parallel.

    It runs in its own session, so the terminal's Ctrl-C reaches only the command, which then
    closes it; it also ends by itself when its standard input closes (the command died).
    """

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,  # a failure is redrawn in-process, with its error
                start_new_session=True,
            )
        except OSError:
            self.proc = None  # drawn in-process instead
        self.job: tuple | None = None

    def submit(self, table: Any, path: Path, title: str, subtitle: str) -> None:
        """Send the table to the helper, which starts drawing to `path` at once."""
        self.job = (table, path, title, subtitle)
        if self.proc is None:
            return
        doc = {
            "path": str(path),
            "title": title,
            "subtitle": subtitle,
            "columns": {c: list(table[c]) for c in COLUMNS if c in table},
        }
        try:
            self.proc.stdin.write(json.dumps(doc, default=_plain).encode())
            self.proc.stdin.close()
        except OSError:
            self.close()

    def finish(self, timeout: float = 120.0) -> None:
        """Wait for the drawing; if the helper failed, draw in this process instead."""
        table, path, title, subtitle = self.job
        ok = False
        if self.proc is not None:
            try:
                self.proc.wait(timeout)
                ok = self.proc.returncode == 0 and Path(path).is_file()
            except subprocess.TimeoutExpired:
                pass
        self.close()
        if not ok:
            plot_dashboard(table, path, title, subtitle)

    def close(self) -> None:
        """Stop the helper if it still runs (e.g. the command was interrupted)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            if not self.proc.stdin.closed:
                self.proc.stdin.close()
            self.proc = None

    def __enter__(self) -> DashboardProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _plain(value: Any) -> Any:
    """numpy scalars as plain numbers for JSON."""
    return value.item() if hasattr(value, "item") else str(value)


def _serve() -> None:
    """The helper process: load matplotlib and draw a throwaway dashboard now (fonts, text
    layout and the Agg renderer warm up while the model runs), then draw the table that arrives
    on stdin."""
    import io

    import matplotlib.figure  # noqa: F401  (the slow import, done while the model runs)
    from matplotlib.backends import backend_agg  # noqa: F401

    blank = {c: [0.0, 0.0] for c in COLUMNS}
    blank.update(quarter=[0, 1], date=["2025Q3", "2025Q4"], rule_status=["order_only"] * 2, election=["", ""])
    blank["price_index"] = blank["price_index_no_401k"] = [1.0, 1.0]
    draw_dashboard(blank, "warming up", "").savefig(io.BytesIO(), dpi=90, format="png")
    raw = sys.stdin.buffer.read()
    if not raw:  # the command stopped before the run finished
        return
    doc = json.loads(raw)
    plot_dashboard(doc["columns"], Path(doc["path"]), doc["title"], doc["subtitle"])


if __name__ == "__main__":
    _serve()

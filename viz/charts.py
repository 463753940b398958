"""The browser page's pictures: ECharts options built from one model's state (and a comparison).

Each function decides what one view shows and returns an ECharts option (a plain dict that
viz/widgets.py's Chart draws; ECharts ships with solara-assets, so nothing is fetched from the
internet). Time charts are declared by output name (`TIME_CHARTS`, names from
model/outputs.py's OUTPUTS): a series whose output the model does not report is left out, and
a chart with none of its outputs is not drawn, so new outputs (the cohort panel) need only a
declaration here. Time axes run from quarter 0 to the run's horizon. Shares are shown in
percent, dollars in billions of US dollars (US scale) and written by viz/money.py in text,
tooltips and axis labels, stances in log-odds of voting against a crackdown (> 0: pro-crypto).
Tooltips are confined to their chart; every line and axis says what it sums.

A comparison (viz/ensemble.py) adds, for each line declared with a band, arm A in the line's
colour and arm B in the line's `pair` colour: one seed as a dashed line, more seeds as the
median (dashed) in a 5-95% band whose legend swatch is the band's own colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from model.calendar import is_house_election, is_presidential_election, quarter_to_date
from viz.districts import COLUMNS, ROWS, cartogram
from viz.money import money

B = 1e9
PCT = 100.0
MAX_NETWORK_NODES = 500  # a spring layout of 500 plans takes ~1 s once per model; 2,000 take ~15 s
NETWORK_SPAN = 1000.0  # node coordinates: ECharts drops most links between nodes placed within +-1
STANCE_RANGE = 4.0  # colour scale of stances, log-odds (fixed, so quarters can be compared)
RULE_COLOURS = {
    "order_only": "rgba(160,160,160,0.20)",
    "proposed": "rgba(255,200,0,0.20)",
    "final": "rgba(60,170,60,0.16)",
    "rescinded": "rgba(220,40,40,0.18)",
    "codified": "rgba(20,110,20,0.28)",
}
RULE_MEANING = {
    "order_only": "executive order only",
    "proposed": "DOL rule proposed",
    "final": "DOL rule final",
    "rescinded": "rule rescinded",
    "codified": "safe harbour in law",
}
OFFERING, NOT_OFFERING, NEWLY = "#f28e2b", "#b8b8b8", "#d62728"
STANCE_COLOURS = ["#c51b7d", "#f1b6da", "#f7f7f7", "#b8e186", "#4d9221"]
BAND_OPACITY = 0.18  # fill of a fan band (and of its legend swatch)
COMPARE = "#e6550d"  # arm B's colour unless a line declares its own pair
HOLDINGS_BINS = (1e6, 1e7, 1e8, 1e9)  # district crypto holdings, US$ (fixed, so quarters and runs compare)
HOLDINGS_COLOURS = ("#e8e8e8", "#fde0c5", "#facba6", "#f2855d", "#c8406a", "#6b0f6b")


def holdings_pieces() -> list[dict]:
    """The district map's colour bins, in $M (the map's values), labelled by the money writer."""
    edges = [e / 1e6 for e in HOLDINGS_BINS]
    label = [money(e, trim=True) for e in HOLDINGS_BINS]
    pieces = [{"lt": 0.001, "label": "none"}, {"gte": 0.001, "lt": edges[0], "label": f"< {label[0]}"}]
    for lo, hi, a, b in zip(edges, edges[1:], label, label[1:], strict=False):
        pieces.append({"gte": lo, "lt": hi, "label": f"{a} to {b}"})
    pieces.append({"gte": edges[-1], "label": f"> {label[-1]}"})
    return [{**piece, "color": colour} for piece, colour in zip(pieces, HOLDINGS_COLOURS, strict=True)]


def rgba(colour: str, alpha: float) -> str:
    """'#rrggbb' with an opacity, as CSS writes it."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


# --- time charts, declared by output name
@dataclass(frozen=True)
class Line:
    """One series of a time chart: output name, legend label, colour and style."""

    output: str
    label: str
    color: str
    dash: str | None = None  # "dashed" or "dotted"
    width: float = 2.0
    area: bool = False
    band: bool = True  # drawn for each arm of a comparison (a fan band with several seeds)
    pair: str = COMPARE  # arm B's colour for this line in a comparison
    opacity: float = 1.0
    z: int = 3  # drawing order: higher on top


@dataclass(frozen=True)
class TimeChart:
    """A chart of outputs over quarters: `scale` turns the output's unit into the axis unit."""

    view: str
    title: str
    axis: str  # axis name, with its unit
    scale: float
    fmt: str  # tooltip format: pct, usdb or num (viz/chart.vue)
    lines: tuple[Line, ...]
    log_when_wide: bool = False  # a log axis once values span more than 4x
    caption: str = ""  # what the chart's numbers are, written under it


TIME_CHARTS: dict[str, TimeChart] = {
    "adoption": TimeChart(
        "adoption",
        "Adoption",
        "% of participants",
        PCT,
        "pct",
        (
            # drawn first, wide and pale, so that "by own choice" shows on it where they coincide
            Line("adoption_rate", "hold any crypto", "#9a9a9a", width=8, opacity=0.55, z=1),
            Line("active_adoption_rate", "hold by own choice", "#1f77b4", band=False),
            Line(
                "default_adoption_rate",
                "hold through a default product",
                "#2ca02c",
                dash="dashed",
                band=False,
            ),
            Line("participants_offered_share", "plan offers crypto", OFFERING, dash="dotted", band=False),
        ),
        caption=(
            "The wide grey line is everyone holding crypto; by own choice and through a default product "
            "can overlap (one participant may hold both), so they need not add up to it."
        ),
    ),
    "aum": TimeChart(
        "aum",
        "Crypto held in 401(k) accounts",
        "$B",
        1 / B,
        "usdb",
        (Line("crypto_aum_usd", "crypto held", "#8c564b", area=True, pair="#17becf"),),
    ),
    "price": TimeChart(
        "price",
        "Crypto price index, with and without 401(k) flow",
        "index, 2025Q3 = 1",
        1.0,
        "num",
        (
            Line("price_index", "with 401(k) flow", "#d62728", pair="#1f77b4"),
            Line("price_index_no_401k", "without 401(k) flow", "#7f7f7f", dash="dashed", band=False),
        ),
        log_when_wide=True,
    ),
}
# Savers' balances against the same savers never holding crypto (the Participants tab).
RETIREMENT_CHART = TimeChart(
    "retirement",
    "Savers' balances against no crypto",
    "balance / no-crypto balance",
    1.0,
    "num",
    (
        Line("balance_ratio_p5_under35", "under 35", "#9ecae1", pair="#fdae6b"),
        Line("balance_ratio_p5_35_49", "35-49", "#4292c6", pair="#f16913"),
        Line("balance_ratio_p5_50_64", "50-64", "#08306b", width=2.5, pair="#7f2704"),
        Line("retiree_balance_ratio_p5", "at retirement", "#d62728", dash="dashed", pair="#31a354"),
    ),
    caption=(
        "The 5th percentile, over the savers of each age group, of their balance divided by the same "
        "saver's balance had they never held crypto (1 = no difference)."
    ),
)
FLOW_BARS = Line("net_flow_usd", "net flow in the quarter (bars, left axis)", "#6baed6", band=False)
FLOW_TOTAL = Line("cumulative_net_flow_usd", "running total of the bars (right axis)", "#000000")
FLOW_COMMITTED = Line(
    "cumulative_invested_usd",
    "money committed, running total (right axis)",
    "#8c564b",
    dash="dashed",
    width=1.6,
    band=False,
)
FLOW_CAPTION = (
    "Net flow = contributions + purchases - sales - withdrawals, each quarter (bars); the black line "
    "sums the bars. Money committed = contributions + purchases - the cost of what was sold, summed "
    "(withdrawals and gains left out), as the command line's 'committed' column."
)
MOAT_LINES = (
    Line("moat_index", "moat index", "#9467bd", width=3, pair="#ff7f0e"),
    Line("pro_crypto_share_house", "pro-crypto House", "#1f77b4", band=False),
    Line("pro_crypto_share_senate", "pro-crypto Senate", "#17becf", band=False),
    Line("crackdown_pass_probability", "crackdown would pass", "#d62728", band=False),
    Line(
        "crackdown_pass_probability_no_exposure",
        "... without voters' exposure",
        "#d62728",
        dash="dashed",
        width=1.2,
        band=False,
    ),
)


def dates(horizon: int) -> list[str]:
    """Calendar quarters 0 to `horizon` (the time axis)."""
    return [quarter_to_date(q) for q in range(horizon + 1)]


def _num(v) -> float | None:
    v = float(v)
    return round(v, 6) if np.isfinite(v) else None


def title(text: str) -> dict:
    """A chart's title (13 px, top left; what its numbers are is the caption under the chart)."""
    return {"text": text, "left": 6, "top": 2, "textStyle": {"fontSize": 13}}


def _frame(title_text: str, horizon: int, axis: str, bottom: int = 50) -> dict:
    """The common frame of a time chart: quarters 0..horizon on x, one value axis named on its side."""
    return {
        "animation": False,
        "title": title(title_text),
        "tooltip": {"trigger": "axis", "confine": True},
        "legend": {
            "type": "plain",
            "bottom": 0,
            "left": 6,
            "right": 6,
            "itemWidth": 18,
            "itemGap": 8,
            "textStyle": {"fontSize": 10},
        },
        "grid": {"left": 58, "right": 26, "top": 32, "bottom": bottom},
        "xAxis": {"type": "category", "data": dates(horizon), "boundaryGap": False},
        "yAxis": [_value_axis(axis)],
        "series": [],
    }


def _value_axis(name: str, **extra) -> dict:
    return {
        "type": "value",
        "name": name,
        "nameLocation": "middle",
        "nameGap": 42,
        "nameTextStyle": {"fontSize": 10},
        "scale": False,
        **extra,
    }


def _line(line: Line, values, fmt: str, n_points: int, **extra) -> dict:
    style: dict = {"width": line.width}
    if line.dash:
        style["type"] = line.dash
    if line.opacity < 1:
        style["opacity"] = line.opacity
    out = {
        "type": "line",
        "name": line.label,
        "data": [_num(v) for v in values],
        "color": line.color,
        "lineStyle": style,
        "showSymbol": n_points <= 2,  # a lone point is drawn as a dot
        "symbolSize": 6,
        "z": line.z,
        "tooltip": {"valueFormatter": f"fmt:{fmt}"},
        **extra,
    }
    if line.area:
        out["areaStyle"] = {"opacity": 0.15}
    return out


def band_series(
    line: Line,
    band: tuple[list, list, list],
    n: int,
    fmt: str,
    axis: int = 0,
    colour: str | None = None,
    prefix: str = "",
) -> list[dict]:
    """The fan of `n` seeds for `line`: the 5-95% band (two stacked series, the band's colour
    also its legend swatch's) and the median (dashed)."""
    colour = colour or line.color
    lo, med, hi = band
    name = f"{prefix}{line.label}: 5-95% of {n} seeds"
    fill = rgba(colour, BAND_OPACITY)
    common = {"type": "line", "symbol": "none", "yAxisIndex": axis, "silent": True, "z": 1}
    stack = f"band-{prefix}{line.output}"
    return [
        {
            **common,
            "name": name,
            "color": fill,
            "stack": stack,
            "data": [_num(v) for v in lo],
            "lineStyle": {"opacity": 0},
            "tooltip": {"show": False},
        },
        {
            **common,
            "name": name,
            "color": fill,
            "stack": stack,
            "data": [_num(h - v) for v, h in zip(lo, hi, strict=True)],
            "lineStyle": {"opacity": 0},
            "areaStyle": {"color": fill, "opacity": 1},
            "tooltip": {"show": False},
        },
        {
            **common,
            "name": f"{prefix}{line.label}: median of {n} seeds",
            "color": colour,
            "data": [_num(v) for v in med],
            "lineStyle": {"type": "dashed", "width": 1.4, "opacity": 0.95},
            "silent": False,
            "z": 2,
            "tooltip": {"valueFormatter": f"fmt:{fmt}"},
        },
    ]


def fan_series(line: Line, comparison, scale: float, fmt: str, axis: int = 0) -> list[dict]:
    """What a finished comparison adds to a chart for `line` (values divided by `scale`): for
    each arm its fan (several seeds) or its run (one seed, dashed); nothing for a line drawn
    without bands."""
    if comparison is None or not comparison.finished or not line.band:
        return []
    out: list[dict] = []
    for arm in comparison.arms:
        band = comparison.band(arm.key, line.output, scale)
        if band is None:
            continue
        colour = line.color if arm.key == "A" else line.pair
        prefix = f"{arm.key}: " if comparison.compared else ""
        if comparison.n > 1:
            out += band_series(line, band, comparison.n, fmt, axis, colour, prefix)
        else:
            out.append(
                {
                    "type": "line",
                    "name": f"{prefix}{line.label} (seed {comparison.seeds.start})",
                    "color": colour,
                    "symbol": "none",
                    "yAxisIndex": axis,
                    "z": 2,
                    "data": [_num(v) for v in band[1]],
                    "lineStyle": {"type": "dashed", "width": 1.6},
                    "tooltip": {"valueFormatter": f"fmt:{fmt}"},
                }
            )
    return out


def present(lines, table: pd.DataFrame) -> list[Line]:
    """The lines whose outputs the model reports (others are skipped)."""
    return [ln for ln in lines if ln.output in table.columns]


LEGEND_WIDTH = 380  # px: the narrowest a chart is drawn (two columns on a 1280-px screen)


def legend_rows(names: list[str], width: float = LEGEND_WIDTH) -> int:
    """Lines a plain legend of `names` takes in a chart `width` px wide (10-px text)."""
    rows, used = 1, 0.0
    for n in names:
        item = 18 + 5 + 5.6 * len(n) + 8
        if used and used + item > width - 12:
            rows, used = rows + 1, 0.0
        used += item
    return rows


def _with_legend_icons(c: dict) -> dict:
    """Legend entries in series order (fan bands as filled squares), with room kept for them
    under the plot so that they never cover the axis."""
    names = list(dict.fromkeys(s["name"] for s in c["series"]))
    c["legend"]["data"] = [{"name": n, "icon": "rect"} if "5-95%" in n else {"name": n} for n in names]
    c["grid"]["bottom"] = max(c["grid"]["bottom"], 26 + 17 * legend_rows(names))
    return c


def time_chart(spec: TimeChart, table: pd.DataFrame, horizon: int, comparison=None) -> dict | None:
    """A declared time chart of the run (and a comparison's arms), or None without its outputs."""
    lines = present(spec.lines, table)
    if not lines:
        return None
    c = _frame(spec.title, horizon, spec.axis)
    for ln in lines:
        c["series"].append(_line(ln, table[ln.output] * spec.scale, spec.fmt, len(table)))
    values = [table[ln.output] * spec.scale for ln in lines]
    c["series"][:0] = [f for ln in lines for f in fan_series(ln, comparison, 1 / spec.scale, spec.fmt)]
    if spec.log_when_wide and comparison is not None and comparison.finished:
        for ln in lines:
            for arm in comparison.arms:
                band = comparison.band(arm.key, ln.output, 1 / spec.scale) if ln.band else None
                if band:
                    values.append(pd.Series(band[0] + band[2], dtype=float))
    if spec.log_when_wide:
        both = pd.concat(values)
        both = both[both > 0]
        if len(both) and both.max() > 4 * both.min():
            c["yAxis"][0].update({"type": "log", "name": spec.axis + " (log)"})
        c["yAxis"][0]["scale"] = True
    return _with_legend_icons(c)


def _round(x: float) -> float:
    return float(f"{x:.12g}")


def nice(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is at least x (x > 0)."""
    k = math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10**k >= x * (1 - 1e-12):
            return m * 10**k
    return 10 ** (k + 1)


def aligned_axes(a: list[float], b: list[float]) -> tuple[dict, dict]:
    """Ranges of two value axes with zero at the same height and the same number of ticks.

    Each axis gets min = -k x step and max = (ticks - k) x step with a round step; k (the
    ticks below zero) and the number of ticks (4 to 8) are shared, so both zeros fall on the
    same gridline. Of the choices, the one that wastes least of the plot's height is taken.
    """

    def span(v):
        v = [x for x in v if x is not None and np.isfinite(x)]
        return (min(0.0, min(v, default=0.0)), max(0.0, max(v, default=0.0)))

    spans = [span(a), span(b)]
    any_neg = any(lo < 0 for lo, _ in spans)
    any_pos = any(hi > 0 for _, hi in spans)
    best = None
    for ticks in range(4, 9):
        for k in range(0, ticks + 1):
            if (any_neg and k == 0) or (any_pos and k == ticks):
                continue
            axes, waste = [], 0.0
            for lo, hi in spans:
                need = max(hi / (ticks - k) if ticks > k else 0.0, -lo / k if k else 0.0)
                step = nice(need) if need > 0 else 1.0
                axes.append(
                    {"min": _round(-k * step), "max": _round((ticks - k) * step), "interval": _round(step)}
                )
                waste += ticks * step / (hi - lo) if hi > lo else 1.0
            if best is None or waste < best[0] - 1e-9:
                best = (waste, axes)
    return best[1][0], best[1][1]


def flows_chart(table: pd.DataFrame, horizon: int, comparison=None) -> dict | None:
    """Net 401(k) flow into crypto, $B: the quarter's (bars, left axis) and its running total
    (line, right axis), beside the money committed (contributions + purchases - cost of what was
    sold, summed; dashed, right axis), which leaves out sales' gains and withdrawals. Both axes
    put zero at the same height.
    """
    if FLOW_BARS.output not in table.columns or FLOW_TOTAL.output not in table.columns:
        return None
    c = _frame("Net 401(k) flow into crypto, $B", horizon, "$B in the quarter")
    bars = (table[FLOW_BARS.output] / B).tolist()
    total = (table[FLOW_TOTAL.output] / B).tolist()
    c["xAxis"]["boundaryGap"] = True
    c["series"] = [
        {
            "type": "bar",
            "name": FLOW_BARS.label,
            "data": [_num(v) for v in bars],
            "color": FLOW_BARS.color,
            "tooltip": {"valueFormatter": "fmt:usdb"},
        },
        _line(FLOW_TOTAL, total, "usdb", len(table), yAxisIndex=1),
    ]
    right = list(total)
    if FLOW_COMMITTED.output in table.columns:
        committed = (table[FLOW_COMMITTED.output] / B).tolist()
        c["series"].append(_line(FLOW_COMMITTED, committed, "usdb", len(table), yAxisIndex=1))
        right += committed
    fans = fan_series(FLOW_TOTAL, comparison, B, "usdb", axis=1)
    c["series"][1:1] = fans
    right += [v for f in fans if "areaStyle" not in f for v in f["data"] if v is not None]
    if comparison is not None and comparison.finished:  # the bands' tops, too
        for arm in comparison.arms:
            band = comparison.band(arm.key, FLOW_TOTAL.output, B)
            if band:
                right += band[2]
    left_range, right_range = aligned_axes(bars, right)
    c["yAxis"] = [
        _value_axis("$B in the quarter", **left_range),
        _value_axis("$B summed since 2025Q3", **right_range, splitLine={"show": False}, nameGap=46),
    ]
    c["grid"]["right"] = 62
    return _with_legend_icons(c)


def rule_spans(table: pd.DataFrame) -> list[list[dict]]:
    """Runs of quarters with the same DOL rule status (ECharts markArea data, no labels)."""
    statuses = table["rule_status"].astype(str).to_list()
    ds = table["date"].astype(str).to_list()
    spans, start = [], 0
    for i in range(1, len(statuses) + 1):
        if i == len(statuses) or statuses[i] != statuses[start]:
            spans.append(
                [
                    {
                        "xAxis": ds[start],
                        "name": RULE_MEANING.get(statuses[start], statuses[start]),
                        "itemStyle": {"color": RULE_COLOURS.get(statuses[start], "rgba(0,0,0,0)")},
                    },
                    {"xAxis": ds[i - 1]},
                ]
            )
            start = i
    return spans


def election_markers(horizon: int) -> list[dict]:
    """Vertical markers at every House (dotted) and presidential (dashed) election to the horizon."""
    out = []
    for q in range(horizon + 1):
        if is_presidential_election(q):
            out.append(
                {
                    "xAxis": quarter_to_date(q),
                    "lineStyle": {"color": "#555555", "type": "dashed", "width": 1.2},
                }
            )
        elif is_house_election(q):
            out.append({"xAxis": quarter_to_date(q), "lineStyle": {"color": "#888888", "type": "dotted"}})
    return out


def moat_chart(table: pd.DataFrame, horizon: int, comparison=None) -> dict | None:
    """The political moat over time, on the DOL rule status (shaded) and the election calendar.

    `moat_index` and the pro-crypto shares of House and Senate are shares of members, the pass
    probabilities are probabilities, all in percent; diamonds mark quarters with a bill vote.
    """
    lines = present(MOAT_LINES, table)
    if not lines:
        return None
    c = _frame("Political moat and a crackdown's chances", horizon, "% of members / % chance")
    c["yAxis"][0].update({"min": 0, "max": 100})
    c["series"] = [_line(ln, table[ln.output] * PCT, "pct", len(table)) for ln in lines]
    first = c["series"][0]
    if "rule_status" in table.columns:
        first["markArea"] = {"silent": True, "label": {"show": False}, "data": rule_spans(table)}
    first["markLine"] = {
        "symbol": "none",
        "silent": True,
        "label": {"show": False},
        "data": election_markers(horizon),
    }
    if "bill" in table.columns:
        bills = [
            {"value": [d, 97], "tip": f"{d}: {b}"}
            for d, b in zip(table["date"].astype(str), table["bill"].fillna("").astype(str), strict=True)
            if b
        ]
        c["series"].append(
            {
                "type": "scatter",
                "name": "bill voted (hover)",
                "data": bills,
                "symbol": "diamond",
                "symbolSize": 10,
                "color": "#000000",
                "tooltip": {"trigger": "item", "formatter": "fmt:tip"},
                "z": 5,
            }
        )
    if MOAT_LINES[0] in lines:
        c["series"][:0] = fan_series(MOAT_LINES[0], comparison, 1 / PCT, "pct")
    return _with_legend_icons(c)


def moat_key(table: pd.DataFrame) -> list[tuple[str, str]]:
    """What the moat chart's marks mean: (CSS swatch, text) for the rule shading seen so far and
    the election lines and bill diamonds."""
    seen = list(dict.fromkeys(table["rule_status"].astype(str))) if "rule_status" in table else []
    out = [(f"background:{RULE_COLOURS[s]}", f"shaded: {RULE_MEANING[s]}") for s in seen if s in RULE_COLOURS]
    out += [
        ("border-left:2px dotted #888; width:0", "House election"),
        ("border-left:2px dashed #555; width:0", "presidential election"),
        ("color:#000", "◆ bill voted (hover for the roll call)"),
    ]
    return out


# --- the House
def hemicycle(n: int, rows: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Seat positions for `n` members on a half circle, filled left to right across the rows."""
    if n == 0:
        return np.array([]), np.array([])
    rows = max(1, min(rows, n // 8))
    radii = np.linspace(1.0, 2.0, rows)
    per_row = np.maximum(1, np.round(n * radii / radii.sum())).astype(int)
    per_row[-1] += n - per_row.sum()
    seats = [(a, r) for r, k in zip(radii, per_row, strict=True) for a in np.linspace(np.pi, 0.0, k)]
    seats.sort(key=lambda s: (-s[0], s[1]))  # left to right
    angle, radius = np.array(seats[:n]).T
    return radius * np.cos(angle), radius * np.sin(angle)


def house_seats(stance0: np.ndarray) -> np.ndarray:
    """Each House slot's seat on the hemicycle: ordered by quarter-0 stance, then kept, so the
    colours, not the places, change as stances move."""
    x, y = hemicycle(len(stance0))
    where = np.empty(len(stance0), int)
    where[np.argsort(stance0, kind="stable")] = np.arange(len(stance0))
    return np.column_stack([x[where], y[where]])


def stance_tip(name: str, party: int, stance: float, shadow: float) -> str:
    side = "pro-crypto" if stance > 0 else "anti-crypto"
    p = {1: "R", -1: "D"}.get(party, "?")
    return (
        f"{name} ({p}): stance {stance:+.2f} log-odds ({side})<br>"
        f"without voters' exposure {shadow:+.2f}; exposure adds {stance - shadow:+.2f}"
    )


def stance_visual_map(dimension: int, series_index: int | list[int], **place) -> dict:
    return {
        "type": "continuous",
        "dimension": dimension,
        "seriesIndex": series_index,
        "min": -STANCE_RANGE,
        "max": STANCE_RANGE,
        "text": [f"pro-crypto (+{STANCE_RANGE:g})", f"anti (-{STANCE_RANGE:g})"],
        "textStyle": {"fontSize": 10},
        "inRange": {"color": STANCE_COLOURS},
        "orient": "horizontal",
        "itemHeight": 120,
        "itemWidth": 10,
        "calculable": False,
        **place,
    }


def house_chart(members: list, seats: np.ndarray, names: list[str]) -> dict:
    """House members on a hemicycle, coloured by stance on a fixed scale (seats fixed per run)."""
    stances = [float(m.stance) for m in members]
    pro = sum(s > 0 for s in stances)
    data = [
        {
            "value": [round(float(seats[i][0]), 4), round(float(seats[i][1]), 4), round(stances[i], 4)],
            "id": i,
            "tip": stance_tip(names[i], m.party, stances[i], float(m.shadow)),
        }
        for i, m in enumerate(members)
    ]
    return {
        "animation": False,
        "title": title(f"House: {pro} of {len(members)} members pro-crypto"),
        "tooltip": {"trigger": "item", "confine": True, "formatter": "fmt:tip"},
        "xAxis": {"show": False, "min": -2.1, "max": 2.1},
        "yAxis": {"show": False, "min": -0.05, "max": 2.05},
        "grid": {"left": 8, "right": 8, "top": 30, "bottom": 46},
        "visualMap": stance_visual_map(2, 0, left="center", bottom=4),
        "series": [{"type": "scatter", "name": "House", "symbolSize": 7, "data": data}],
    }


# --- the districts
def district_chart(model, records, measure: str = "holdings") -> dict:
    """The 435 districts on a tile cartogram: coloured by the crypto their voters hold in 401(k)
    accounts ($M, US scale, fixed bins), with a dot for their member's stance (fixed scale);
    measure='stance' or 'exposure' colours the tiles by the member's stance or by the support
    constituents' exposure adds to it."""
    geo = cartogram()
    members = model.politics.members[:435]
    crypto = records.district_crypto_usd[-1] / 1e6
    holders = records.district_holders[-1]
    voters = model.params["votes_per_district"]
    cells, dots = [], []
    for d, (x, y) in enumerate(geo.cells):
        m = members[d]
        stance, shadow = float(m.stance), float(m.shadow)
        tip = (
            f"<b>{geo.names[d]}</b>: crypto held {money(crypto[d] * 1e6)} "
            f"({money(crypto[d] * 1e6 / voters)} per voter), {holders[d]:,.0f} holders<br>"
            + stance_tip("member", m.party, stance, shadow)
        )
        value = {"holdings": crypto[d], "stance": stance, "exposure": stance - shadow}[measure]
        cells.append({"value": [x, y, round(float(value), 4)], "id": d, "tip": tip})
        dots.append({"value": [x, y, round(stance, 3)], "id": d, "tip": tip})
    labels = [{"value": [x, y], "name": s} for s, x, y in geo.labels]
    total = float(records.district_crypto_usd[-1].sum())
    heading = {
        "holdings": f"Districts: crypto held in 401(k)s ({money(total)}), dot = member's stance",
        "stance": "Districts: their House member's stance",
        "exposure": "Districts: support for crypto their voters' exposure adds to the member",
    }[measure]
    if measure == "holdings":
        fill_map = {
            "type": "piecewise",
            "seriesIndex": 0,
            "dimension": 2,
            "pieces": holdings_pieces(),
            "orient": "horizontal",
            "left": 6,
            "bottom": 2,
            "itemWidth": 12,
            "itemHeight": 10,
            "textStyle": {"fontSize": 10},
        }
        maps = [fill_map, stance_visual_map(2, 1, right=6, bottom=2, itemHeight=80)]
    elif measure == "stance":
        maps = [stance_visual_map(2, 0, left="center", bottom=2)]
    else:
        maps = [
            {
                "type": "continuous",
                "seriesIndex": 0,
                "dimension": 2,
                "min": 0,
                "max": 1,
                "text": ["+1 log-odds", "0"],
                "textStyle": {"fontSize": 10},
                "inRange": {"color": ["#f7fcf5", "#74c476", "#00441b"]},
                "orient": "horizontal",
                "left": "center",
                "bottom": 2,
                "itemHeight": 120,
                "itemWidth": 10,
                "calculable": False,
            }
        ]
    series = [
        {"type": "heatmap", "name": "districts", "data": cells, "itemStyle": {"borderWidth": 0.5}},
    ]
    if measure == "holdings":
        series.append({"type": "scatter", "name": "members", "data": dots, "symbolSize": 5})
    series.append(
        {
            "type": "scatter",
            "name": "states",
            "data": labels,
            "symbolSize": 0,
            "silent": True,
            "label": {"show": True, "formatter": "{b}", "fontSize": 9, "color": "#666"},
            "tooltip": {"show": False},
        }
    )
    return {
        "animation": False,
        "title": title(heading),
        "tooltip": {"trigger": "item", "confine": True, "formatter": "fmt:tip"},
        "grid": {"left": 4, "right": 4, "top": 28, "bottom": 34},
        "xAxis": {"type": "category", "data": list(range(COLUMNS)), "show": False},
        "yAxis": {"type": "category", "data": list(range(ROWS)), "show": False, "inverse": True},
        "visualMap": maps,
        "series": series,
    }


# --- participants
def participant_sample(n: int, seed: int, size: int = 600) -> np.ndarray:
    """Rows drawn on the participants' scatter: a seeded sample, never the model's random numbers."""
    rng = np.random.default_rng([seed, 0xD07])
    return np.sort(rng.choice(n, min(size, n), replace=False))


PARTICIPANT_GROUPS = (
    ("hold by own choice", "#1f77b4"),
    ("hold through a default product", "#2ca02c"),
    ("offered, hold none", OFFERING),
    ("not offered crypto", NOT_OFFERING),
)


def participant_group(pop, offered: np.ndarray) -> np.ndarray:
    """0 active holder, 1 default holder, 2 offered but holding none, 3 not offered (per row)."""
    return np.select([pop.crypto_active > 0, pop.crypto_default > 0, offered], [0, 1, 2], default=3).astype(
        int
    )


def participants_chart(model, rows: np.ndarray) -> dict:
    """A sample of participants: balance (log axis) against the crypto share of the balance."""
    pop = model.population
    offered = model.offered_mask()
    group = participant_group(pop, offered)
    balance = pop.balance
    crypto = pop.crypto_active + pop.crypto_default
    series = []
    for g, (name, color) in enumerate(PARTICIPANT_GROUPS):
        pick = rows[group[rows] == g]
        series.append(
            {
                "type": "scatter",
                "name": name,
                "color": color,
                "symbolSize": 5,
                "data": [
                    {
                        "value": [
                            round(max(float(balance[r]), 100.0), 2),
                            round(100 * float(crypto[r] / balance[r]) if balance[r] > 0 else 0.0, 4),
                        ],
                        "id": int(r),
                        "tip": (
                            f"participant {int(r)}: age {pop.age[r]:.0f}, balance {money(balance[r])}, "
                            f"crypto {money(crypto[r])}<br>{name}; click to inspect"
                        ),
                    }
                    for r in pick.tolist()
                ],
            }
        )
    return {
        "animation": False,
        "title": title(f"Participants ({len(rows)} drawn): balance and crypto share"),
        "tooltip": {"trigger": "item", "confine": True, "formatter": "fmt:tip"},
        "legend": {"type": "plain", "bottom": 0, "left": 6, "textStyle": {"fontSize": 10}},
        # right margin: the last balance label is centred on the axis's end
        "grid": {"left": 58, "right": 34, "top": 32, "bottom": 84},
        "xAxis": {
            "type": "log",
            "name": "balance per person (log scale)",
            "nameLocation": "middle",
            "nameGap": 24,
            "min": 100,
            "nameTextStyle": {"fontSize": 10},
            "axisLabel": {"formatter": "fmt:usd_axis", "hideOverlap": True},
        },
        "yAxis": _value_axis("crypto, % of balance", min=0),
        "series": series,
    }


ALLOC_EDGES = np.linspace(0.0, 0.20, 21)  # 1-point bins up to the largest plan cap
BALANCE_EDGES = 10.0 ** np.arange(2.0, 7.51, 0.5)  # $100 to ~$30M, half decades


def _hist(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    clipped = np.clip(values, edges[0], edges[-1] * (1 - 1e-12))
    return np.histogram(clipped, bins=edges)[0]


def allocation_chart(model) -> dict:
    """How much participants who chose crypto allocate (people, US scale, by 1-point bins)."""
    pop = model.population
    chosen = pop.alloc[pop.alloc > 0]
    counts = _hist(chosen, ALLOC_EDGES) * pop.weight / 1e3
    labels = [f"{100 * a:.0f}-{100 * b:.0f}%" for a, b in zip(ALLOC_EDGES[:-1], ALLOC_EDGES[1:], strict=True)]
    return {
        "animation": False,
        "title": title("Chosen crypto allocations"),
        "tooltip": {"trigger": "axis", "confine": True},
        "grid": {"left": 58, "right": 18, "top": 32, "bottom": 40},
        "xAxis": {
            "type": "category",
            "data": labels,
            "name": "allocation (share of contributions and balance)",
            "nameLocation": "middle",
            "nameGap": 26,
            "nameTextStyle": {"fontSize": 10},
        },
        "yAxis": _value_axis("thousand people"),
        "series": [
            {
                "type": "bar",
                "name": "participants (thousands)",
                "color": "#1f77b4",
                "data": [{"value": _num(v), "id": i} for i, v in enumerate(counts)],
                "tooltip": {"valueFormatter": "fmt:num"},
            }
        ],
    }


def allocation_note(model) -> str:
    """Why the share that chose an allocation differs from the share holding crypto."""
    pop = model.population
    chose = pop.alloc > 0
    holds = pop.holds
    n = pop.n
    return (
        f"{chose.sum() / n:.2%} of participants have chosen an allocation (the bars); "
        f"{holds.sum() / n:.2%} hold crypto, of whom "
        f"{(holds & ~chose).sum() / n:.2%} hold it without a current choice (a default product, "
        f"or a balance kept after choosing 0)"
        + (
            f"; {(chose & ~holds).sum() / n:.2%} chose one and hold none yet"
            if (chose & ~holds).any()
            else ""
        )
    )


def balance_chart(model) -> dict:
    """Participants by balance (half-decade bins), split by whether they hold crypto (millions)."""
    pop = model.population
    crypto = pop.crypto_active + pop.crypto_default
    holds = crypto > 0
    balance = pop.balance
    labels = [money(a, trim=True) for a in BALANCE_EDGES[:-1]]
    series = []
    for name, mask, color in (("hold crypto", holds, "#8c564b"), ("hold none", ~holds, NOT_OFFERING)):
        counts = _hist(balance[mask], BALANCE_EDGES) * pop.weight / 1e6
        series.append(
            {
                "type": "bar",
                "name": name,
                "stack": "all",
                "color": color,
                "data": [{"value": _num(v), "id": i} for i, v in enumerate(counts)],
                "tooltip": {"valueFormatter": "fmt:num"},
            }
        )
    return {
        "animation": False,
        "title": title("Participants by balance"),
        "tooltip": {"trigger": "axis", "confine": True},
        "legend": {"type": "plain", "bottom": 0, "left": 6, "textStyle": {"fontSize": 10}},
        "grid": {"left": 58, "right": 18, "top": 32, "bottom": 62},
        "xAxis": {
            "type": "category",
            "data": labels,
            "name": "balance per person, from",
            "nameLocation": "middle",
            "nameGap": 26,
            "nameTextStyle": {"fontSize": 10},
        },
        "yAxis": _value_axis("million people"),
        "series": series,
    }


def participant_in_bin(model, chart: str, bin_index: int, series: str | None = None) -> int | None:
    """A participant to inspect from a clicked histogram bar: the largest balance in the bin
    (of holders or non-holders, for the balance chart's two bars); None when the bin is empty."""
    pop = model.population
    if chart == "allocation":
        lo, hi = ALLOC_EDGES[bin_index], ALLOC_EDGES[bin_index + 1]
        mask = (pop.alloc > 0) & (pop.alloc >= lo) & ((pop.alloc < hi) | (bin_index == len(ALLOC_EDGES) - 2))
    else:
        lo, hi = BALANCE_EDGES[bin_index], BALANCE_EDGES[bin_index + 1]
        b = np.clip(pop.balance, BALANCE_EDGES[0], BALANCE_EDGES[-1] * (1 - 1e-12))
        holds = (pop.crypto_active + pop.crypto_default) > 0
        mask = (b >= lo) & (b < hi) & (holds if series == "hold crypto" else ~holds)
    rows = np.flatnonzero(mask)
    if not rows.size:
        return None
    return int(rows[np.argmax(pop.balance[rows])])


# --- the employer peer network
@dataclass(frozen=True)
class NetworkLayout:
    """The employers drawn and where: the peer network (or a seeded sample of it), laid out once."""

    nodes: list[int]
    graph: nx.Graph
    pos: dict[int, tuple[float, float]]


def network_layout(graph: nx.Graph, seed: int, max_nodes: int = MAX_NETWORK_NODES) -> NetworkLayout:
    """The drawn part of the employer peer network and its spring layout, in 0..NETWORK_SPAN.

    Up to `max_nodes` employers are drawn: all of them in a small network, otherwise a snowball
    sample (breadth-first from seeded random starting employers) so that the drawn employers
    keep their peer links. The sample and the layout use their own generator built from `seed`
    and never touch the model's random streams.
    """
    rng = np.random.default_rng([seed, 0x5EED])
    if graph.number_of_nodes() <= max_nodes:
        nodes = sorted(graph.nodes)
    else:
        chosen: set[int] = set()
        for start in rng.permutation(np.array(sorted(graph.nodes))):
            if len(chosen) >= max_nodes:
                break
            frontier = [int(start)]
            budget = max(1, max_nodes // 10)  # several clusters of about a tenth of the sample each
            while frontier and budget > 0 and len(chosen) < max_nodes:
                node = frontier.pop(0)
                if node in chosen:
                    continue
                chosen.add(node)
                budget -= 1
                frontier.extend(sorted(graph.neighbors(node)))
        nodes = sorted(chosen)
    sub = graph.subgraph(nodes).copy()
    raw = nx.spring_layout(sub, seed=int(rng.integers(2**31)), iterations=50)
    xy = np.array([raw[n] for n in nodes]).reshape(-1, 2)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    scaled = (xy - lo) / np.where(hi > lo, hi - lo, 1.0) * NETWORK_SPAN
    pos = {n: (round(float(x), 1), round(float(y), 1)) for n, (x, y) in zip(nodes, scaled, strict=True)}
    return NetworkLayout(nodes, sub, pos)


def _network_nodes(model, layout: NetworkLayout) -> list[dict]:
    emps = list(model.employers)
    out = []
    for n in layout.nodes:
        e = emps[n]
        category = 2 if e.newly_offered else int(e.offers_crypto)
        x, y = layout.pos[n]
        since = "" if e.offered_since is None else f" since {quarter_to_date(e.offered_since)}"
        out.append(
            {
                "id": str(n),
                "name": f"employer {n}",
                "x": x,
                "y": NETWORK_SPAN - y,
                "category": category,
                "symbolSize": 5 + 3 * e.segment,
                "tip": (
                    f"employer {n}: {('small', 'mid-size', 'large')[e.segment]} plan; "
                    f"{'offers crypto' + since if e.offers_crypto else 'does not offer crypto'}"
                    "<br>click to inspect"
                ),
            }
        )
    return out


def _network_title(model, layout: NetworkLayout) -> dict:
    emps = list(model.employers)
    offering = sum(e.offers_crypto for e in emps)
    shown = "all" if len(layout.nodes) == len(emps) else f"{len(layout.nodes)} of"
    return {
        "text": f"Employer peer network ({shown} {len(emps):,} plans): {offering / max(len(emps), 1):.1%} offer crypto",
        "left": 6,
        "top": 2,
        "textStyle": {"fontSize": 13},
    }


def network_chart(model, layout: NetworkLayout) -> dict:
    """Employers as dots on their peer links, coloured by whether the plan offers crypto now.

    Plans that added crypto this quarter are red; dot size grows with the plan segment. The
    chart can be zoomed and dragged; `network_patch` updates it without losing the view.
    """
    return {
        "animation": False,
        "title": _network_title(model, layout),
        "tooltip": {"trigger": "item", "confine": True, "formatter": "fmt:tip"},
        "legend": {
            "bottom": 0,
            "data": ["does not offer crypto", "offers crypto", "added this quarter"],
            "textStyle": {"fontSize": 10},
        },
        "color": [NOT_OFFERING, OFFERING, NEWLY],
        "series": [
            {
                "id": "network",
                "type": "graph",
                "layout": "none",
                "roam": True,
                "top": 34,
                "bottom": 30,
                "left": 10,
                "right": 10,
                "categories": [
                    {"name": "does not offer crypto"},
                    {"name": "offers crypto"},
                    {"name": "added this quarter"},
                ],
                "data": _network_nodes(model, layout),
                "links": [{"source": str(a), "target": str(b)} for a, b in layout.graph.edges],
                "lineStyle": {"color": "#9a9a9a", "width": 0.8, "opacity": 0.7},
                "emphasis": {"focus": "adjacency"},
            }
        ],
    }


def network_patch(model, layout: NetworkLayout) -> dict:
    """What changes in the network after a step (node colours and the title), merged by id."""
    return {
        "title": _network_title(model, layout),
        "series": [{"id": "network", "data": _network_nodes(model, layout)}],
    }


# --- the inspector
INSPECTOR_HEIGHT = 250  # px of the inspector's chart


def inspection_chart(ins, height: int = INSPECTOR_HEIGHT) -> dict:
    """The inspected agent's series over the quarters it has been recorded: one panel per unit
    (a district's dollars and its member's stance never share an axis), each axis named with
    its unit; the quarters are written under the lowest panel only."""
    units = list(dict.fromkeys(ins.unit_of(name) for name in ins.series)) or [""]
    panels = len(units)
    top, bottom, gap = 12, 62, 24
    each = (height - top - bottom - gap * (panels - 1)) / panels
    dates_ = [quarter_to_date(q) for q in ins.quarters]
    grids, xs, ys = [], [], []
    for i, unit in enumerate(units):
        grids.append({"left": 48, "right": 24, "top": round(top + i * (each + gap)), "height": round(each)})
        xs.append(
            {"type": "category", "data": dates_, "gridIndex": i, "axisLabel": {"show": i == panels - 1}}
        )
        ys.append(
            {
                "type": "value",
                "scale": True,
                "gridIndex": i,
                "name": unit,
                "nameLocation": "middle",
                "nameGap": 34,
                "nameTextStyle": {"fontSize": 10},
                "axisLabel": {"fontSize": 10},
                "splitNumber": 3,
            }
        )
    return {
        "animation": False,
        "tooltip": {"trigger": "axis", "confine": True},
        "axisPointer": {"link": [{"xAxisIndex": "all"}]},
        "legend": {"type": "plain", "bottom": 0, "left": 4, "textStyle": {"fontSize": 10}},
        "grid": grids,
        "xAxis": xs,
        "yAxis": ys,
        "series": [
            {
                "type": "line",
                "name": f"{name} ({ins.unit_of(name)})" if ins.unit_of(name) else name,
                "xAxisIndex": units.index(ins.unit_of(name)),
                "yAxisIndex": units.index(ins.unit_of(name)),
                "data": [_num(v) if v is not None else None for v in values],
                "showSymbol": len(values) <= 12,
                "tooltip": {"valueFormatter": "fmt:num"},
            }
            for name, values in ins.series.items()
        ],
    }

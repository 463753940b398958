"""The browser page's pictures: ECharts options built from one model's state.

Each function decides what one view shows and returns an ECharts option (a plain dict that
solara.FigureEcharts draws in the browser; ECharts 5.4.0 ships with solara-assets, so nothing
is fetched from the internet). Building an option costs milliseconds in Python, which keeps a
step of the page cheap. Dollar axes are in billions of US dollars; shares are shares of 1. The
political views read the politics outputs and agents when the model has them and say "not
available" when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from model.calendar import is_house_election, is_presidential_election

B = 1e9
MAX_NETWORK_NODES = 500  # spring layout of 500 nodes takes ~1 s once per model; 5,000 take ~50 s
RULE_COLOURS = {
    "order_only": "rgba(200,200,200,0.18)",
    "proposed": "rgba(255,214,0,0.16)",
    "final": "rgba(60,170,60,0.13)",
    "rescinded": "rgba(220,40,40,0.16)",
    "codified": "rgba(20,130,20,0.22)",
}
MOAT_SERIES = {
    "moat_index": ("moat index", {"color": "#9467bd", "lineStyle": {"width": 3}}),
    "pro_crypto_share_house": ("pro-crypto House share", {"color": "#1f77b4"}),
    "pro_crypto_share_senate": ("pro-crypto Senate share", {"color": "#17becf"}),
    "crackdown_pass_probability": ("crackdown pass probability", {"color": "#d62728"}),
    "crackdown_pass_probability_no_exposure": (
        "crackdown pass probability without exposure",
        {"color": "#d62728", "lineStyle": {"type": "dashed", "width": 1}},
    ),
}
OFFERING, NOT_OFFERING, NEWLY = "#f28e2b", "#b8b8b8", "#d62728"


def _chart(title: str, table: pd.DataFrame, y_name: str = "", y_type: str = "value") -> dict:
    """The common frame of a time chart: calendar quarters on x, one value axis."""
    return {
        "animation": False,
        "title": {"text": title, "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 22, "textStyle": {"fontSize": 10}},
        "grid": {"left": 55, "right": 55, "top": 62, "bottom": 28},
        "xAxis": {"type": "category", "data": table["date"].astype(str).to_list(), "boundaryGap": True},
        "yAxis": [
            {"type": y_type, "name": y_name, "nameTextStyle": {"fontSize": 10}, "scale": y_type == "log"}
        ],
        "series": [],
    }


def _line(name: str, values, **extra) -> dict:
    return {"type": "line", "name": name, "data": [_num(v) for v in values], "showSymbol": False, **extra}


def _num(v) -> float | None:
    v = float(v)
    return round(v, 6) if np.isfinite(v) else None


def _now(table: pd.DataFrame) -> str:
    return str(table["date"].iloc[-1]) if len(table) else ""


def adoption_chart(table: pd.DataFrame) -> dict:
    """Share of participants holding crypto by own choice (active) and through a default sleeve."""
    c = _chart(f"Adoption, share of participants ({_now(table)})", table, "share")
    c["series"] = [
        _line("active (own choice)", table["active_adoption_rate"], color="#1f77b4"),
        _line("default (product sleeve)", table["default_adoption_rate"], color="#2ca02c"),
        _line("any", table["adoption_rate"], color="#333333", lineStyle={"type": "dashed", "width": 1}),
        _line(
            "offered crypto",
            table["participants_offered_share"],
            color=OFFERING,
            lineStyle={"type": "dotted"},
        ),
    ]
    return c


def flows_chart(table: pd.DataFrame) -> dict:
    """Quarterly net 401(k) flow into crypto (bars) and its cumulative sum (line), $B."""
    c = _chart("Net 401(k) flow into crypto ($B)", table, "quarterly")
    c["yAxis"].append(
        {
            "type": "value",
            "name": "cumulative",
            "nameTextStyle": {"fontSize": 10},
            "splitLine": {"show": False},
        }
    )
    c["series"] = [
        {
            "type": "bar",
            "name": "quarterly",
            "data": [_num(v) for v in table["net_flow_usd"] / B],
            "itemStyle": {"color": "#6baed6"},
        },
        _line("cumulative", table["cumulative_net_flow_usd"] / B, yAxisIndex=1, color="#000000"),
    ]
    return c


def aum_chart(table: pd.DataFrame) -> dict:
    """Crypto held in 401(k) accounts ($B), with its share of all 401(k) assets in the title."""
    share = float(table["crypto_share_of_401k_assets"].iloc[-1]) if len(table) else 0.0
    c = _chart(f"401(k) crypto AUM ($B), now {share:.2%} of 401(k) assets", table, "$B")
    c["series"] = [
        _line("crypto AUM", table["crypto_aum_usd"] / B, color="#8c564b", areaStyle={"opacity": 0.15})
    ]
    return c


def price_chart(table: pd.DataFrame) -> dict:
    """The crypto price index with the 401(k) flow and on the same path without it.

    The axis is logarithmic once the prices span more than a factor of 4 (a boom or a crash).
    """
    impact = float(table["flow_price_impact"].iloc[-1]) if len(table) else 0.0
    both = pd.concat([table["price_index"], table["price_index_no_401k"]])
    wide = len(both) and both.max() > 4 * both.min()  # a log axis only when prices move a lot
    c = _chart(
        f"Crypto price index (2025Q3 = 1), 401(k) impact now {impact:+.1%}",
        table,
        "index (log)" if wide else "index",
        "log" if wide else "value",
    )
    c["yAxis"][0]["scale"] = True
    c["series"] = [
        _line("with 401(k) flow", table["price_index"], color="#d62728"),
        _line(
            "without 401(k) flow", table["price_index_no_401k"], color="#7f7f7f", lineStyle={"type": "dashed"}
        ),
    ]
    return c


def has_moat_outputs(table: pd.DataFrame) -> bool:
    """Whether the model reports the political moat (the politics module is present)."""
    return "moat_index" in table.columns


def election_markers(table: pd.DataFrame) -> list[dict]:
    """Vertical markers at the House and presidential elections in the table (ECharts markLine data).

    Reads the model's `election` output when it has one, otherwise the fixed calendar.
    """
    out = []
    dates = table["date"].astype(str).to_list()
    if "election" in table.columns:
        kinds = table["election"].astype(str).to_list()
    else:
        kinds = [
            "presidential" if is_presidential_election(q) else "house" if is_house_election(q) else ""
            for q in table["quarter"].to_list()
        ]
    for date, kind in zip(dates, kinds, strict=True):
        if kind == "presidential":
            out.append(
                {
                    "xAxis": date,
                    "name": "presidential election",
                    "lineStyle": {"color": "#000000", "type": "dashed"},
                }
            )
        elif kind == "house":
            out.append(
                {"xAxis": date, "name": "House election", "lineStyle": {"color": "#888888", "type": "dotted"}}
            )
    return out


def rule_spans(table: pd.DataFrame) -> list[list[dict]]:
    """Runs of quarters with the same DOL rule status (ECharts markArea data, coloured by status)."""
    statuses = table["rule_status"].astype(str).to_list()
    dates = table["date"].astype(str).to_list()
    spans, start = [], 0
    for i in range(1, len(statuses) + 1):
        if i == len(statuses) or statuses[i] != statuses[start]:
            spans.append(
                [
                    {
                        "xAxis": dates[start],
                        "name": statuses[start],
                        "itemStyle": {"color": RULE_COLOURS.get(statuses[start], "rgba(0,0,0,0)")},
                    },
                    {"xAxis": dates[i - 1]},
                ]
            )
            start = i
    return spans


def moat_chart(table: pd.DataFrame) -> dict:
    """The political moat over time, on the DOL rule status (shaded) and the election calendar.

    Shows moat_index, the pro-crypto shares of House and Senate and the crackdown pass
    probability when the model reports them; otherwise the perceived regulatory clarity, with a
    title saying that the moat outputs are not available.
    """
    moat = has_moat_outputs(table)
    status = str(table["rule_status"].iloc[-1]) if len(table) else ""
    title = (
        f"Political moat (rule: {status})"
        if moat
        else f"Rule ({status}) and elections; moat outputs not available"
    )
    c = _chart(title, table, "0-1")
    c["yAxis"][0].update({"min": 0, "max": 1})
    if moat:
        series = [
            _line(label, table[col], **style)
            for col, (label, style) in MOAT_SERIES.items()
            if col in table.columns
        ]
    else:
        series = [_line("regulatory clarity", table["clarity"], color="#2ca02c")]
    series[0]["markArea"] = {
        "silent": True,
        "label": {"show": True, "fontSize": 9, "position": "insideBottom"},
        "data": rule_spans(table),
    }
    series[0]["markLine"] = {
        "symbol": "none",
        "silent": True,
        "label": {"show": False},
        "data": election_markers(table),
    }
    if "bill" in table.columns:
        bills = [
            {"value": [d, 0.97], "name": b}
            for d, b in zip(table["date"].astype(str), table["bill"].fillna("").astype(str), strict=True)
            if b
        ]
        series.append(
            {
                "type": "scatter",
                "name": "bill voted",
                "data": bills,
                "symbol": "diamond",
                "symbolSize": 9,
                "color": "#000000",
                "tooltip": {"trigger": "item", "formatter": "{b}"},
            }
        )
    c["series"] = series
    c["legend"]["type"] = "scroll"
    return c


# --- the employer peer network
@dataclass(frozen=True)
class NetworkLayout:
    """The employers drawn and where: the peer network (or a seeded sample of it), laid out once."""

    nodes: list[int]
    graph: nx.Graph
    pos: dict[int, tuple[float, float]]


def network_layout(graph: nx.Graph, seed: int, max_nodes: int = MAX_NETWORK_NODES) -> NetworkLayout:
    """The drawn part of the employer peer network and its spring layout.

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
    pos = nx.spring_layout(sub, seed=int(rng.integers(2**31)), iterations=50)
    return NetworkLayout(
        nodes, sub, {n: (round(float(x), 4), round(float(y), 4)) for n, (x, y) in pos.items()}
    )


def network_chart(model, layout: NetworkLayout) -> dict:
    """Employers as dots on their peer links, coloured by whether the plan offers crypto now.

    Plans that added crypto this quarter are red; dot size grows with the plan segment.
    """
    emps = list(model.employers)
    offering = sum(e.offers_crypto for e in emps)
    shown = "all" if len(layout.nodes) == len(emps) else f"{len(layout.nodes)} of"
    nodes = []
    for n in layout.nodes:
        e = emps[n]
        category = 2 if e.newly_offered else int(e.offers_crypto)
        x, y = layout.pos[n]
        nodes.append(
            {
                "name": f"employer {n}",
                "x": x,
                "y": -y,
                "category": category,
                "symbolSize": 5 + 3 * e.segment,
                "value": ("small", "mid", "large")[e.segment] + " plan",
            }
        )
    return {
        "animation": False,
        "title": {
            "text": f"Employer peer network ({shown} {len(emps)} plans): "
            f"{offering / max(len(emps), 1):.1%} offer crypto",
            "textStyle": {"fontSize": 13},
        },
        "tooltip": {},
        "legend": {
            "top": 22,
            "data": ["not offering", "offering crypto", "added this quarter"],
            "textStyle": {"fontSize": 10},
        },
        "color": [NOT_OFFERING, OFFERING, NEWLY],
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "roam": True,
                "top": 55,
                "bottom": 10,
                "categories": [
                    {"name": "not offering"},
                    {"name": "offering crypto"},
                    {"name": "added this quarter"},
                ],
                "data": nodes,
                "links": [
                    {"source": f"employer {a}", "target": f"employer {b}"} for a, b in layout.graph.edges
                ],
                "lineStyle": {"color": "#cccccc", "width": 0.6, "opacity": 0.8},
                "emphasis": {"focus": "adjacency"},
            }
        ],
    }


# --- the House
def politicians(model) -> list:
    """The model's politician agents, or [] when the politics module is absent."""
    politics = getattr(model, "politics", None)
    return list(getattr(politics, "members", None) or [])


def house_members(model) -> list:
    """Politicians sitting in the House (all politicians when they carry no chamber)."""
    house = [m for m in politicians(model) if str(getattr(m, "chamber", "house")).lower().startswith("house")]
    return sorted(house, key=lambda m: getattr(m, "unique_id", 0))


def stance_of(member) -> float:
    """A member's crypto stance as a number (positive: pro-crypto)."""
    return float(getattr(member, "stance", 0.0))


def is_pro_crypto(member) -> bool:
    """Whether the member counts as pro-crypto (the politics module's own flag when it has one)."""
    flag = getattr(member, "pro_crypto", None)
    if flag is not None:
        return bool(flag() if callable(flag) else flag)
    return stance_of(member) > 0.0


def member_label(member) -> str:
    """'R seat 12' for a tooltip (party +1 Republican, -1 Democratic, or the module's own label)."""
    party = getattr(member, "party", "")
    if isinstance(party, (int, float)) and not isinstance(party, bool):
        party = "R" if party > 0 else "D"
    return f"{party} seat {getattr(member, 'seat', getattr(member, 'unique_id', ''))}".strip()


def house_chart(members: list) -> dict:
    """House members as seats on a hemicycle, ordered left to right and coloured by crypto stance."""
    stances = np.array([stance_of(m) for m in members])
    pro = sum(is_pro_crypto(m) for m in members)
    order = np.argsort(stances, kind="stable")
    x, y = hemicycle(len(members))
    lim = max(float(np.abs(stances).max()) if len(stances) else 1.0, 1e-9)
    data = []
    for seat, i in enumerate(order):
        m = members[i]
        data.append(
            {
                "value": [round(float(x[seat]), 4), round(float(y[seat]), 4), round(float(stances[i]), 4)],
                "name": member_label(m),
            }
        )
    return {
        "animation": False,
        "title": {
            "text": f"House by crypto stance: {pro} of {len(members)} pro-crypto",
            "textStyle": {"fontSize": 13},
        },
        "tooltip": {},
        "xAxis": {"show": False, "min": -2.1, "max": 2.1},
        "yAxis": {"show": False, "min": -0.1, "max": 2.1},
        "grid": {"left": 10, "right": 10, "top": 40, "bottom": 50},
        "visualMap": {
            "type": "continuous",
            "dimension": 2,
            "min": -lim,
            "max": lim,
            "orient": "horizontal",
            "left": "center",
            "bottom": 5,
            "text": ["pro-crypto", "anti-crypto"],
            "inRange": {"color": ["#d73027", "#ffffbf", "#1a9850"]},
            "calculable": False,
        },
        "series": [{"type": "scatter", "symbolSize": 7, "data": data}],
    }


def hemicycle(n: int, rows: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Seat positions for `n` members on a half circle, filled left to right across the rows."""
    if n == 0:
        return np.array([]), np.array([])
    rows = max(1, min(rows, n // 8))  # a few members sit on one arc
    radii = np.linspace(1.0, 2.0, rows)
    per_row = np.maximum(1, np.round(n * radii / radii.sum())).astype(int)
    per_row[-1] += n - per_row.sum()
    seats = [(a, r) for r, k in zip(radii, per_row, strict=True) for a in np.linspace(np.pi, 0.0, k)]
    seats.sort(key=lambda s: (-s[0], s[1]))  # left to right, so stance runs anti -> pro
    angle, radius = np.array(seats[:n]).T
    return radius * np.cos(angle), radius * np.sin(angle)


def follow_chart(kind_label: str, history: list[dict], series: tuple[str, ...]) -> dict:
    """The followed agent's chosen series over the quarters it has been followed."""
    rows = [h for h in history if not h.get("retired")]
    quarters = [str(h["quarter"]) for h in rows]
    retired = history[-1].get("retired") if history else False
    title = kind_label + (f" (retired in quarter {history[-1]['left quarter']})" if retired else "")
    return {
        "animation": False,
        "title": {"text": title, "textStyle": {"fontSize": 12}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 20, "textStyle": {"fontSize": 10}},
        "grid": {"left": 50, "right": 20, "top": 55, "bottom": 28},
        "xAxis": {"type": "category", "data": quarters, "name": "quarter"},
        "yAxis": {"type": "value"},
        "series": [
            _line(name, [h.get(name, float("nan")) for h in rows], showSymbol=True) for name in series
        ],
    }

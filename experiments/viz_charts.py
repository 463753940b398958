"""The browser page's pictures: matplotlib figures drawn from one model's state.

Each function decides what one view shows and returns a `matplotlib.figure.Figure` (no pyplot,
so sessions drawing at the same time do not share a current figure). Dollar axes are in
billions of US dollars; shares are shares of 1. The political views read the politics outputs
and agents when the model has them and say "not available" when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from model.calendar import is_house_election, is_presidential_election

B = 1e9
FIGSIZE = (6.4, 3.6)
MAX_NETWORK_NODES = 300  # spring layout of 300 nodes takes ~0.3 s once per model; 5,000 take ~50 s
RULE_COLOURS = {"order_only": "#eeeeee", "proposed": "#fff3c4", "final": "#d8f0d2",
                "rescinded": "#f6d0d0", "codified": "#b9e4b0"}
MOAT_SERIES = {"moat_index": "moat index", "pro_crypto_share_house": "pro-crypto House share",
               "pro_crypto_share_senate": "pro-crypto Senate share",
               "crackdown_pass_probability": "crackdown pass probability"}


def _axes(title: str, figsize=FIGSIZE):
    fig = Figure(figsize=figsize, dpi=80, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.set_xlabel("quarter (0 = 2025Q3)", fontsize=8)
    ax.tick_params(labelsize=8)
    return fig, ax


def _now(table: pd.DataFrame) -> str:
    return str(table["date"].iloc[-1]) if len(table) else ""


def adoption_figure(table: pd.DataFrame) -> Figure:
    """Share of participants holding crypto by own choice (active) and through a default sleeve."""
    fig, ax = _axes(f"Adoption, share of participants ({_now(table)})")
    q = table["quarter"]
    ax.plot(q, table["active_adoption_rate"], label="active (own choice)", color="tab:blue")
    ax.plot(q, table["default_adoption_rate"], label="default (product sleeve)", color="tab:green")
    ax.plot(q, table["adoption_rate"], "k--", lw=1, label="any")
    ax.plot(q, table["participants_offered_share"], ":", color="tab:orange", label="offered crypto")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def flows_figure(table: pd.DataFrame) -> Figure:
    """Quarterly net 401(k) flow into crypto (bars) and its cumulative sum (line), $B."""
    fig, ax = _axes("Net 401(k) flow into crypto ($B)")
    q = table["quarter"]
    flow = table["net_flow_usd"] / B
    ax.bar(q, flow, color=np.where(flow >= 0, "tab:blue", "tab:red"), alpha=0.6, label="quarterly")
    ax.set_ylabel("quarterly", fontsize=8)
    ax2 = ax.twinx()
    ax2.plot(q, table["cumulative_net_flow_usd"] / B, color="black", label="cumulative")
    ax2.set_ylabel("cumulative", fontsize=8)
    ax2.tick_params(labelsize=8)
    ax.legend(handles=ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0],
              fontsize=7, loc="upper left")
    return fig


def aum_figure(table: pd.DataFrame) -> Figure:
    """Crypto held in 401(k) accounts ($B) and its share of all 401(k) assets."""
    share = float(table["crypto_share_of_401k_assets"].iloc[-1]) if len(table) else 0.0
    fig, ax = _axes(f"401(k) crypto AUM ($B), now {share:.2%} of 401(k) assets")
    ax.plot(table["quarter"], table["crypto_aum_usd"] / B, color="tab:purple")
    ax.set_ylim(bottom=0)
    return fig


def price_figure(table: pd.DataFrame) -> Figure:
    """The crypto price index with the 401(k) flow and on the same path without it (log scale)."""
    impact = float(table["flow_price_impact"].iloc[-1]) if len(table) else 0.0
    fig, ax = _axes(f"Crypto price index (q0 = 1), 401(k) impact now {impact:+.1%}")
    q = table["quarter"]
    ax.plot(q, table["price_index"], label="with 401(k) flow", color="tab:red")
    ax.plot(q, table["price_index_no_401k"], "--", label="without 401(k) flow", color="grey")
    ax.set_yscale("log")
    ax.legend(fontsize=7, loc="upper left")
    return fig


def has_moat_outputs(table: pd.DataFrame) -> bool:
    """Whether the model reports the political moat (the politics module is present)."""
    return "moat_index" in table.columns


def moat_figure(table: pd.DataFrame) -> Figure:
    """The political moat over time, on the DOL rule status (shaded) and the election calendar.

    Shows moat_index, the pro-crypto shares of House and Senate and the crackdown pass
    probability when the model reports them; otherwise the perceived regulatory clarity, with a
    note that the moat outputs are not available.
    """
    moat = has_moat_outputs(table)
    title = "Political moat" if moat else "Rule and elections (moat outputs not available)"
    fig, ax = _axes(title)
    q = table["quarter"].to_numpy()
    last = int(q[-1]) if len(q) else 0
    _shade_rule_status(ax, table)
    if moat:
        for column, label in MOAT_SERIES.items():
            if column in table.columns:
                ax.plot(q, table[column], label=label)
    else:
        ax.plot(q, table["clarity"], color="tab:green", label="regulatory clarity")
    for k in range(0, max(last, 1) + 1):
        if is_presidential_election(k):
            ax.axvline(k, color="black", ls="--", lw=1)
        elif is_house_election(k):
            ax.axvline(k, color="grey", ls=":", lw=1)
    ax.plot([], [], color="grey", ls=":", label="House election")
    ax.plot([], [], color="black", ls="--", label="presidential election")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(-0.5, max(last, 1) + 0.5)
    status = str(table["rule_status"].iloc[-1]) if len(table) else ""
    ax.text(0.99, 0.02, f"rule: {status}", transform=ax.transAxes, ha="right", fontsize=8)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def _shade_rule_status(ax, table: pd.DataFrame) -> None:
    """Background spans coloured by the DOL rule status of each quarter."""
    statuses = table["rule_status"].astype(str).to_list()
    q = table["quarter"].to_list()
    start = 0
    for i in range(1, len(statuses) + 1):
        if i == len(statuses) or statuses[i] != statuses[start]:
            ax.axvspan(q[start] - 0.5, q[i - 1] + 0.5, color=RULE_COLOURS.get(statuses[start], "white"),
                       zorder=0, lw=0)
            start = i


# --- the employer peer network
@dataclass(frozen=True)
class NetworkLayout:
    """The employers drawn and where: a seeded snowball sample of the peer network, laid out once."""

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
        all_nodes = np.array(sorted(graph.nodes))
        chosen: set[int] = set()
        for start in rng.permutation(all_nodes):
            if len(chosen) >= max_nodes:
                break
            if start in chosen:
                continue
            frontier = [int(start)]
            budget = max(1, max_nodes // 10)  # several clusters, each of about a tenth of the sample
            while frontier and budget > 0 and len(chosen) < max_nodes:
                node = frontier.pop(0)
                if node in chosen:
                    continue
                chosen.add(node)
                budget -= 1
                frontier.extend(sorted(graph.neighbors(node)))
        nodes = sorted(chosen)
    sub = graph.subgraph(nodes).copy()
    pos = nx.spring_layout(sub, seed=int(rng.integers(2 ** 31)), iterations=50)
    return NetworkLayout(nodes, sub, {n: (float(x), float(y)) for n, (x, y) in pos.items()})


def network_figure(model, layout: NetworkLayout) -> Figure:
    """Employers as dots on their peer links, coloured by whether the plan offers crypto now.

    Newly offering plans (this quarter) are outlined in red; marker size grows with plan segment.
    """
    emps = model.employer_list
    offering = sum(e.offers_crypto for e in emps)
    shown = "all" if len(layout.nodes) == len(emps) else f"{len(layout.nodes)} of"
    fig = Figure(figsize=(6.4, 5.2), dpi=80, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(f"Employer peer network ({shown} {len(emps)} plans); "
                 f"{offering / max(len(emps), 1):.1%} offer crypto", fontsize=10)
    xy = np.array([layout.pos[n] for n in layout.nodes])
    index = {n: i for i, n in enumerate(layout.nodes)}
    if layout.graph.number_of_edges():
        from matplotlib.collections import LineCollection

        segs = [(xy[index[a]], xy[index[b]]) for a, b in layout.graph.edges]
        ax.add_collection(LineCollection(segs, colors="#cccccc", linewidths=0.5, zorder=1))
    offers = np.array([emps[n].offers_crypto for n in layout.nodes], bool)
    new = np.array([emps[n].newly_offered for n in layout.nodes], bool)
    size = np.array([12 + 14 * emps[n].segment for n in layout.nodes], float)
    ax.scatter(xy[~offers, 0], xy[~offers, 1], s=size[~offers], c="#b0b0b0", label="not offering",
               zorder=2, linewidths=0)
    ax.scatter(xy[offers, 0], xy[offers, 1], s=size[offers], c="tab:orange", label="offering crypto",
               zorder=3, edgecolors=np.where(new[offers], "red", "none"), linewidths=1.2)
    ax.scatter([], [], s=20, c="tab:orange", edgecolors="red", label="added this quarter")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_axis_off()
    ax.autoscale()
    return fig


# --- the House
def politicians(model) -> list:
    """The model's politician agents, or [] when the politics module is absent."""
    politics = getattr(model, "politics", None)
    for name in ("members", "politicians"):
        found = getattr(politics, name, None) if politics is not None else None
        if found:
            return list(found.values()) if isinstance(found, dict) else list(found)
    for cls, agents in model.agents_by_type.items():
        if cls.__name__ == "Politician":
            return list(agents)
    return []


def house_members(model) -> list:
    """Politicians sitting in the House (all politicians when they carry no chamber)."""
    members = politicians(model)
    house = [m for m in members if str(getattr(m, "chamber", "house")).lower().startswith("house")]
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


def house_figure(members: list) -> Figure:
    """House members as seats on a hemicycle, ordered and coloured by crypto stance."""
    fig = Figure(figsize=(6.4, 3.8), dpi=80, layout="constrained")
    ax = fig.add_subplot()
    stances = np.array([stance_of(m) for m in members])
    pro = sum(is_pro_crypto(m) for m in members)
    ax.set_title(f"House by crypto stance: {pro} of {len(members)} pro-crypto", fontsize=10)
    order = np.argsort(stances, kind="stable")
    x, y = hemicycle(len(members))
    lim = max(float(np.abs(stances).max()) if len(stances) else 1.0, 1e-9)
    points = ax.scatter(x, y, c=stances[order], cmap="RdYlGn", vmin=-lim, vmax=lim, s=22,
                        edgecolors="none")
    fig.colorbar(points, ax=ax, shrink=0.7, label="stance (anti  <  0  <  pro)")
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig


def hemicycle(n: int, rows: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Seat positions for `n` members on a half circle, filled left to right across the rows."""
    if n == 0:
        return np.array([]), np.array([])
    rows = max(1, min(rows, n // 8))  # a few members sit on one arc
    radii = np.linspace(1.0, 2.0, rows)
    per_row = np.maximum(1, np.round(n * radii / radii.sum())).astype(int)
    per_row[-1] += n - per_row.sum()
    seats = []
    for r, k in zip(radii, per_row, strict=True):
        for a in np.linspace(np.pi, 0.0, k):
            seats.append((a, r))
    seats.sort(key=lambda s: (-s[0], s[1]))  # left to right, so stance runs anti -> pro
    angle, radius = np.array(seats[:n]).T
    return radius * np.cos(angle), radius * np.sin(angle)


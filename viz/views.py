"""The page's main pane: headline monitors, the tabs of views and the inspector.

Charts follow the model outside Solara's component tree (`LiveChart`): a step costs one model
step and the visible charts. Every chart saves itself as PNG or SVG under the run's name and
quarter. With a comparison (viz/ensemble.py) the monitors give each arm's median and 5-95%
range at the quarter shown and, for two arms, B - A seed by seed.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import ipyvuetify
import solara
import solara.lab

from model.calendar import quarter_to_date
from viz import charts, sharing
from viz.follow import KINDS, check_index, inspect, interesting_participant
from viz.money import money
from viz.state import Ctx, default_selection
from viz.widgets import Chart

TABS = ("Markets", "Districts & Congress", "Participants", "Employers")


# --- charts that follow the model
@solara.component
def LiveChart(
    model,
    view: str,
    build: Callable[[Any], dict | None],
    height: str = "300px",
    on_click: Callable[[dict], None] | None = None,
    patch: Callable[[Any], dict] | None = None,
    deps: tuple = (),
    caption: str | Callable[[Any], str] = "",
):
    """A chart showing `build(model)`, redrawn after every step the page draws, with a caption
    under it saying what its numbers are (`caption(model)` when it depends on the quarter).

    The widget is made once and its option assigned from a listener on the model, outside the
    component tree (re-rendering would make Solara walk the option's thousands of points).
    With `patch`, steps merge `patch(model)` into the picture instead, keeping zoom and pan.
    The chart's file name (PNG/SVG) follows the run and the quarter.
    """
    dark = solara.lab.use_dark_effective()
    widget = solara.use_memo(lambda: Chart(view=view, height=height), [])
    note = solara.use_memo(
        lambda: ipyvuetify.Html(tag="div", class_="c401k-small c401k-caption", children=[]), []
    )
    widget.on_click = on_click
    solara.use_effect(lambda: widget.close, [])
    solara.use_effect(lambda: note.close, [])

    def text() -> list[str]:
        words = caption(model) if callable(caption) else caption
        return [words] if words else []

    def name() -> str:
        return sharing.file_name(model.settings, view, model.quarter)

    def follow():
        with model.lock:  # never read a model halfway through a step (Play steps in a thread)
            option = build(model) or {}
            widget.filename = name()
            note.children = text()
        widget.patch = {}
        widget.option = option

        def redraw():
            with model.lock:
                widget.filename = name()
                if callable(caption):
                    note.children = text()
                if patch is not None:
                    widget.patch = patch(model)
                else:
                    widget.option = build(model) or {}

        return model.add_view(redraw)

    solara.use_effect(follow, [model, *deps])

    def set_dark():
        widget.dark = bool(dark)

    solara.use_effect(set_dark, [dark])
    solara.Column(children=[widget, note], gap="0px", style={"width": "100%"}, classes=["c401k-panel"])


# --- headline monitors
MONITORS = (
    # output, label, format
    ("adoption_rate", "of participants hold crypto", "pct"),
    ("net_flow_usd", "net 401(k) flow into crypto this quarter", "usd"),
    ("cumulative_invested_usd", "new money committed to crypto since 2025Q3", "usd"),
    ("crypto_share_of_401k_assets", "of 401(k) assets held in crypto", "pct"),
    ("flow_price_impact", "crypto price change due to 401(k) flow", "spct"),
    ("moat_index", "of Congress turned against a crackdown by voters' exposure (moat)", "pct"),
    (
        "near_retirement_shortfall_share",
        "of savers near retirement >10% below their no-crypto balance",
        "pct",
    ),
    ("rule_status", "DOL rule status", "text"),
)


def fmt_monitor(value: Any, kind: str) -> str:
    """A headline number: shares in percent, dollars by the money writer, text as words."""
    if kind == "text":
        return str(value).replace("_", " ")
    if kind == "pct":
        return f"{100 * value:.2f}%"
    if kind == "spct":
        return f"{100 * value:+.2f}%"
    return money(value)


def fmt_change(value: float, kind: str) -> str:
    """A difference between two runs: shares in percentage points, dollars with their sign."""
    if kind in ("pct", "spct"):
        return f"{100 * value:+.2f} pts"
    return ("+" if value > 0 else "") + money(value)


def spread(c, key: str, name: str, kind: str, q: int) -> str:
    """Arm `key`'s value at quarter q: the median (5th to 95th percentile), or the one seed's value."""
    band = c.band(key, name)
    if not band:
        return ""
    if c.n == 1:
        return fmt_monitor(band[1][q], kind)
    return f"{fmt_monitor(band[1][q], kind)} ({fmt_monitor(band[0][q], kind)} to {fmt_monitor(band[2][q], kind)})"


def compared(c, name: str, kind: str, q: int) -> str:
    """What a finished comparison says about one monitor at quarter q."""
    seeds = f"seed {c.seeds.start}" if c.n == 1 else f"{c.n} seeds, median (5-95%)"
    if not c.compared:
        return f"{seeds}: {spread(c, 'A', name, kind, q)}"
    text = f"{seeds}: A {spread(c, 'A', name, kind, q)}; B {spread(c, 'B', name, kind, q)}"
    diff = c.paired(name, q)
    if diff is not None:
        lo, med, hi = diff
        text += f"; B - A {fmt_change(med, kind)}"
        if c.n > 1:
            text += f" ({fmt_change(lo, kind)} to {fmt_change(hi, kind)})"
    return text


@solara.component
def Monitors(ctx: Ctx):
    """The headline numbers of the quarter shown (and a comparison's at that quarter)."""
    ctx.version.get()
    m = ctx.model.value
    with m.lock:
        table = m.table()
        q = m.quarter
    last = table.iloc[-1]
    c = ctx.fans()
    tiles = []
    for name, label, kind in MONITORS:
        if name not in table.columns:
            continue
        extra = ""
        if name == "moat_index":
            extra = f"about {round(float(last[name]) * 535)} of 535 members"
        elif name == "rule_status" and "crackdown_pass_probability" in table.columns:
            extra = f"a crackdown would pass: {100 * float(last['crackdown_pass_probability']):.1f}%"
        elif name == "adoption_rate" and "participants_offered_share" in table.columns:
            extra = f"{100 * float(last['participants_offered_share']):.1f}% are offered crypto"
        if c is not None and kind != "text":
            extra = compared(c, name, kind, q)
        tiles.append(
            f"<div class='c401k-monitor' data-monitor='{name}'>"
            f"<div class='c401k-monitor-value'>{escape(fmt_monitor(last[name], kind))}</div>"
            f"<div class='c401k-monitor-label'>{escape(label)}</div>"
            f"<div class='c401k-small'>{escape(extra)}</div></div>"
        )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<div class='c401k-small' style='margin-bottom:4px'>{escape(m.record.row['date'])} "
            f"(quarter <span class='run-quarter' data-run='{m.serial}'>{q}</span> of {m.horizon})</div>"
            f"<div class='c401k-monitors'>{''.join(tiles)}</div>"
        ),
    )


# --- the tabs
def market_views() -> list[str]:
    """The Markets tab's charts in order: the declared time charts, the flows chart second."""
    names = list(charts.TIME_CHARTS)
    names.insert(1, "flows")
    return names


@solara.component
def MarketsTab(ctx: Ctx):
    m = ctx.model.value
    c = ctx.fans()
    table = m.table()
    with solara.Div(classes=["c401k-grid"]):
        for name in market_views():
            if name == "flows":
                LiveChart(
                    m,
                    "flows",
                    lambda mm: charts.flows_chart(mm.table(), mm.horizon, c),
                    deps=(c,),
                    caption=charts.FLOW_CAPTION,
                )
            elif charts.present(charts.TIME_CHARTS[name].lines, table):  # a chart without outputs is left out
                spec = charts.TIME_CHARTS[name]
                LiveChart(
                    m,
                    name,
                    lambda mm, spec=spec: charts.time_chart(spec, mm.table(), mm.horizon, c),
                    deps=(c,),
                    caption=spec.caption,
                )


@solara.component
def PoliticsTab(ctx: Ctx):
    m = ctx.model.value
    c = ctx.fans()
    measure = solara.use_reactive("holdings")
    with solara.Row(gap="8px", style={"align-items": "center"}):
        solara.HTML(tag="span", unsafe_innerHTML="colour districts by:", classes=["c401k-small"])
        solara.ToggleButtonsSingle(
            value=measure,
            dense=True,
            children=[
                solara.Button("voters' crypto", value="holdings", small=True),
                solara.Button("member's stance", value="stance", small=True),
                solara.Button("support from exposure", value="exposure", small=True),
            ],
        )
    LiveChart(
        m,
        "districts",
        lambda mm: charts.district_chart(mm, mm.records, measure.value),
        height="470px",
        on_click=lambda d: ctx.select(
            "member" if d.get("seriesName") == "members" else "district", d.get("id")
        ),
        deps=(measure.value,),
    )
    with solara.Div(classes=["c401k-grid"]):
        with solara.Column(gap="0px"):
            LiveChart(
                m, "moat", lambda mm: charts.moat_chart(mm.table(), mm.horizon, c), height="340px", deps=(c,)
            )
            MoatKey(ctx)
        LiveChart(
            m,
            "house",
            lambda mm: charts.house_chart(
                mm.politics.members[:435], mm.house_seats, charts.cartogram().names
            ),
            height="340px",
            on_click=lambda d: ctx.select("member", d.get("id")),
        )


@solara.component
def MoatKey(ctx: Ctx):
    ctx.version.get()
    items = charts.moat_key(ctx.model.value.table())
    html = "".join(f"<span class='sw' style='{style}'></span>{escape(text)}" for style, text in items)
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=["c401k-small", "c401k-key"])


@solara.component
def ParticipantsTab(ctx: Ctx):
    m = ctx.model.value
    c = ctx.fans()

    def from_bin(chart):
        def click(d):
            row = charts.participant_in_bin(
                ctx.model.value, chart, int(d.get("id") or 0), d.get("seriesName")
            )
            ctx.select("participant", row)

        return click

    with solara.Div(classes=["c401k-grid"]):
        LiveChart(
            m,
            "participants",
            lambda mm: charts.participants_chart(mm, mm.participant_rows),
            height="360px",
            on_click=lambda d: ctx.select("participant", d.get("id")),
        )
        LiveChart(
            m,
            "allocation",
            charts.allocation_chart,
            height="360px",
            on_click=from_bin("allocation"),
            caption=charts.allocation_note,
        )
        LiveChart(m, "balance", charts.balance_chart, height="360px", on_click=from_bin("balance"))
        if charts.present(charts.RETIREMENT_CHART.lines, m.table()):
            LiveChart(
                m,
                "retirement",
                lambda mm: charts.time_chart(charts.RETIREMENT_CHART, mm.table(), mm.horizon, c),
                height="360px",
                deps=(c,),
                caption=charts.RETIREMENT_CHART.caption,
            )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            "Each participant agent stands for about "
            f"{m.population.weight:,.0f} people. Click a dot or a bar to inspect a participant."
        ),
        classes=["c401k-small"],
    )


@solara.component
def EmployersTab(ctx: Ctx):
    m = ctx.model.value
    LiveChart(
        m,
        "network",
        lambda mm: charts.network_chart(mm, mm.network_layout),
        height="560px",
        patch=lambda mm: charts.network_patch(mm, mm.network_layout),
        on_click=lambda d: ctx.select("employer", d.get("id")),
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            "Scroll to zoom, drag to pan (kept while stepping); click a plan to inspect it. "
            f"More than {charts.MAX_NETWORK_NODES} plans: a seeded snowball sample is drawn."
        ),
        classes=["c401k-small"],
    )


TAB_VIEWS = (MarketsTab, PoliticsTab, ParticipantsTab, EmployersTab)


@solara.component
def Inspector(ctx: Ctx):
    """The selected district, member, employer or participant: now, and over the quarters."""
    ctx.version.get()
    m = ctx.model.value
    kind, index = ctx.selection.value
    try:
        check_index(m, kind, index)
    except ValueError:  # chosen in a larger run before Reset: show the new run's default meanwhile
        kind, index = default_selection(m)
    text = solara.use_reactive(str(index))  # follows the selection (use_reactive's update)
    error = solara.use_reactive("")
    with m.lock:
        if kind == "participant":
            m.follow(index)
        ins = inspect(m, kind, index, m.follower)

    def choose_kind(k):
        if k == kind:
            return
        error.value = ""
        ctx.selection.value = default_selection(m) if k == "participant" else (k, 0)

    def choose_index(t):
        text.value = t
        try:
            ctx.selection.value = (kind, check_index(m, kind, t))
            error.value = ""
        except ValueError as exc:
            error.value = str(exc)

    with solara.Card("Inspector", margin=0, classes=["c401k-inspector-card"]):
        with solara.Row(gap="6px"):
            solara.Select("inspect", values=list(KINDS), value=kind, on_value=choose_kind, dense=True)
            solara.InputText(
                "index", value=text.value, on_value=choose_index, error=bool(error.value), dense=True
            )
        if error.value:
            solara.Error(error.value, dense=True, classes=["c401k-inspect-error"])
        if kind == "participant":
            solara.Button(
                "next crypto holder",
                on_click=lambda: ctx.select("participant", interesting_participant(m, index)),
                text=True,
                small=True,
            )
        rows = "".join(
            f"<tr><td>{escape(k)}</td><td class='v'>{escape(str(v_))}</td></tr>" for k, v_ in ins.rows
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f"<div class='c401k-inspect-title' style='font-weight:600'>{escape(ins.title)}</div>"
                f"<div class='c401k-small'>{escape('; '.join(filter(None, [quarter_to_date(m.quarter), ins.note])))}</div>"
                f"<table class='c401k-inspect' data-quarter='{m.quarter}'>{rows}</table>"
            ),
        )
        LiveChart(
            m,
            "inspected",
            lambda mm: charts.inspection_chart(inspect(mm, kind, index, mm.follower)),
            height=f"{charts.INSPECTOR_HEIGHT}px",
            deps=(kind, index),
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML="Click a district, member, plan or participant in a view to inspect it.",
            classes=["c401k-small"],
        )

"""crypto401k in the browser: a page to watch a run, read its settings and compare seeds.

Served through app.py (`crypto401k viz`, or `solara run app.py`). Built on Solara directly
(Mesa's SolaraViz component names its tabs "Page 0/1", lets a dragged title rearrange the grid,
shows slider values only while dragging and has no horizon; its import of Altair and
matplotlib also cost 3.5 s of server start). The model is the command line's model: the page
starts at the command line's defaults and copies the equivalent `crypto401k run` command.

Sidebar: the run's controls (Step, Play and Run to end stop at the scenario's horizon; Reset
builds a new run from the settings), what this run is (with the command line and the
quarters.csv download), the settings (scenario, seed, resolution and every behavioural
parameter with its meaning, unit, range and the value the run uses; changes apply at Reset)
and an ensemble of seeds run in worker processes. Main pane: headline monitors, then tabs of
views (markets, districts and Congress, participants, employers) and the inspector, which
follows whatever district, member, employer or participant was clicked last.

Each browser session has its own model; views redraw by listening to it (viz/session.py),
outside Solara's component tree, so a step costs one model step and the visible charts.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

import solara
import solara.lab
from solara import v

from model.calendar import quarter_to_date
from model.errors import InputError
from viz import charts, ensemble, settings
from viz.follow import KINDS, check_index, inspect, interesting_participant
from viz.session import PageModel, new_model
from viz.settings import Settings
from viz.widgets import Chart, CopyText

TITLE = "crypto401k: crypto in US 401(k) plans"
PLAY_PAUSE_S = 0.12  # between quarters while playing: a watchable pace that leaves the CPU to others
PLAY_REDRAW_S = 0.25  # at most about four redraws a second while playing
TABS = ("Markets", "Districts & Congress", "Participants", "Employers")
CSS = """
.c401k-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 10px; }
.c401k-panel { border: 1px solid rgba(128,128,128,0.25); border-radius: 6px; padding: 4px; min-width: 0; }
.c401k-monitors { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; }
.c401k-monitor { border: 1px solid rgba(128,128,128,0.3); border-radius: 6px; padding: 4px 8px; }
.c401k-monitor-value { font-size: 20px; font-weight: 600; }
.c401k-monitor-label, .c401k-small { font-size: 11px; opacity: 0.8; line-height: 1.3; }
.c401k-param { margin-bottom: 6px; }
.c401k-param-label { font-size: 12.5px; line-height: 1.3; }
.c401k-param-value { font-weight: 700; }
.c401k-param.overridden .c401k-param-label { color: #1565c0; }
.c401k-key span.sw { display: inline-block; width: 14px; height: 10px; margin: 0 4px 0 10px; vertical-align: middle; }
table.c401k-inspect { font-size: 12px; line-height: 1.25; border-collapse: collapse; width: 100%; }
table.c401k-inspect td { padding: 1px 4px; vertical-align: top; }
table.c401k-inspect td.v { text-align: right; }
.c401k-main { display: flex; gap: 10px; align-items: flex-start; }
.c401k-views { flex: 1 1 auto; min-width: 0; }
.c401k-inspector { flex: 0 0 310px; position: sticky; top: 8px; }
.c401k-views .v-tab { min-width: 0; padding: 0 12px; font-size: 13px; letter-spacing: 0; }
"""


@dataclass(frozen=True)
class Ctx:
    """The session's state, handed to every view (reactive values live in the Page)."""

    model: solara.Reactive  # PageModel
    version: solara.Reactive  # bumped after steps: monitors and text re-render
    playing: solara.Reactive  # "", "play" or "end"
    pending: solara.Reactive  # Settings for the next Reset
    selection: solara.Reactive  # (kind, index) in the inspector
    ensemble: solara.Reactive  # ensemble.Ensemble | None
    progress: solara.Reactive  # seeds done in the running ensemble
    tab: solara.Reactive  # index into TABS

    def redraw(self, m: PageModel) -> None:
        m.refresh_views()
        self.version.value += 1

    def bands(self):
        """The ensemble to draw on the charts: finished and of the running settings (any seed)."""
        e = self.ensemble.value
        if e is not None and e.finished and e.settings.same_except_seed(self.model.value.settings):
            return e
        return None

    def select(self, kind: str, index: int | None) -> None:
        if index is not None:
            self.selection.value = (kind, int(index))


def initial_settings() -> Settings:
    """The settings a new page starts with: the command line's defaults."""
    return Settings()


def default_selection(m: PageModel) -> tuple[str, int]:
    return ("participant", interesting_participant(m))


# --- charts that follow the model
@solara.component
def LiveChart(
    model: PageModel,
    view: str,
    build: Callable[[PageModel], dict | None],
    height: str = "300px",
    on_click: Callable[[dict], None] | None = None,
    patch: Callable[[PageModel], dict] | None = None,
    deps: tuple = (),
):
    """A chart showing `build(model)`, redrawn after every step the page draws.

    The widget is made once and its option assigned from a listener on the model, outside the
    component tree (re-rendering would make Solara walk the option's thousands of points).
    With `patch`, steps merge `patch(model)` into the picture instead, keeping zoom and pan.
    """
    dark = solara.lab.use_dark_effective()
    widget = solara.use_memo(lambda: Chart(view=view, height=height), [])
    widget.on_click = on_click
    solara.use_effect(lambda: widget.close, [])

    def follow():
        with model.lock:  # never read a model halfway through a step (Play steps in a thread)
            option = build(model) or {}
        widget.patch = {}
        widget.option = option

        def redraw():
            with model.lock:
                if patch is not None:
                    widget.patch = patch(model)
                else:
                    widget.option = build(model) or {}

        return model.add_view(redraw)

    solara.use_effect(follow, [model, *deps])

    def set_dark():
        widget.dark = bool(dark)

    solara.use_effect(set_dark, [dark])
    solara.Column(children=[widget], style={"width": "100%"}, classes=["c401k-panel"])


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
    """A headline number: shares in percent, dollars in $B (in $M below $100M), text as words."""
    if kind == "text":
        return str(value).replace("_", " ")
    if kind == "pct":
        return f"{100 * value:.2f}%"
    if kind == "spct":
        return f"{100 * value:+.2f}%"
    sign = "-" if value < 0 else ""
    if abs(value) < 1e8:
        return f"{sign}${abs(value) / 1e6:,.1f}M"
    return f"{sign}${abs(value) / 1e9:,.2f}B"


@solara.component
def Monitors(ctx: Ctx):
    """The headline numbers of the quarter shown (and the ensemble's spread at that quarter)."""
    ctx.version.get()
    m = ctx.model.value
    with m.lock:
        table = m.table()
    last = table.iloc[-1]
    e = ctx.bands()
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
        if e is not None and kind != "text":
            band = e.band(name)
            if band:
                q = m.quarter
                extra = (
                    f"{e.n} seeds: median {fmt_monitor(band[1][q], kind)} "
                    f"(5-95%: {fmt_monitor(band[0][q], kind)} to {fmt_monitor(band[2][q], kind)})"
                )
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
            f"(quarter <span class='run-quarter' data-run='{m.serial}'>{m.quarter}</span> of {m.horizon})</div>"
            f"<div class='c401k-monitors'>{''.join(tiles)}</div>"
        ),
    )


# --- the run's controls
@solara.component
def RunControls(ctx: Ctx):
    """Step, Play/Pause, Run to end and Reset; all stop at the scenario's horizon."""
    ctx.version.get()
    m = ctx.model.value
    busy = ctx.playing.value
    at_end = m.quarter >= m.horizon

    def step():
        with m.lock:
            m.step()
        ctx.redraw(m)

    def play():
        ctx.playing.value = "" if busy else "play"

    def run_to_end():
        ctx.playing.value = "end"

    def reset():
        ctx.playing.value = ""
        new = new_model(ctx.pending.value)
        kind, index = ctx.selection.value
        ctx.model.value = new
        try:
            check_index(new, kind, index)
        except ValueError:
            ctx.selection.value = default_selection(new)

    with solara.Row(gap="6px", style={"flex-wrap": "wrap"}):
        solara.Button("Step", on_click=step, disabled=bool(busy) or at_end, color="primary")
        solara.Button(
            "Pause" if busy == "play" else "Play",
            on_click=play,
            disabled=at_end or busy == "end",
            color="primary",
            icon_name="mdi-pause" if busy == "play" else "mdi-play",
        )
        solara.Button(
            "Run to end", on_click=run_to_end, disabled=bool(busy) or at_end, color="primary", outlined=True
        )
        solara.Button("Reset", on_click=reset, disabled=bool(busy), outlined=True, classes=["c401k-reset"])
    solara.ProgressLinear(value=100 * m.quarter / max(m.horizon, 1), color="primary")
    note = f"quarter {m.quarter} of {m.horizon} ({m.record.row['date']})"
    if at_end:
        note += ": the scenario's horizon; Reset to run again"
    solara.HTML(tag="div", unsafe_innerHTML=f"<span class='c401k-small run-status'>{escape(note)}</span>")


def csv_of(m: PageModel) -> str:
    """The run's quarters.csv so far, exactly as `crypto401k run` writes it."""
    with m.lock:
        return m.table().to_csv(index=False)


@solara.component
def RunInfo(ctx: Ctx):
    """What the running model is, the command that recomputes it and its quarters.csv."""
    ctx.version.get()
    m = ctx.model.value
    s: Settings = m.settings
    defaults = s.participants == settings.PAGE_PARTICIPANTS and s.employers == settings.PAGE_EMPLOYERS
    set_here = ", ".join(f"{k} = {settings.fmt_value(v)}" for k, v in s.overrides) or "none"
    html = (
        f"<b>scenario</b> {escape(s.scenario)}: {escape(settings.description(s.scenario))}<br>"
        f"<b>seed</b> <span class='run-seed'>{s.seed}</span> &nbsp; <b>quarters</b> 0 to {m.horizon}<br>"
        f"<span class='run-size'>{s.participants:,} participants, {s.employers:,} employers</span>"
        + (" (the command line's defaults)" if defaults else "")
        + f"<br><b>parameters set on the page:</b> <span class='run-overrides'>{escape(set_here)}</span>"
        "<div class='c401k-small' style='margin-top:6px'>The same run from the command line "
        "(its quarters.csv starts with this page's rows):</div>"
    )
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=["c401k-small"])
    widget = solara.use_memo(lambda: CopyText(label="copy command"), [])
    widget.text = s.command()
    solara.Column(children=[widget], gap="0px")
    solara.FileDownload(
        lambda: csv_of(m),
        filename=f"quarters-{s.scenario}-seed{s.seed}-q{m.quarter}.csv",
        label=f"quarters.csv (0 to {m.quarter})",
        mime_type="text/csv",
    )


# --- settings
@solara.component
def ParamRow(p, pending: solara.Reactive, running: Settings):
    """One behavioural parameter: meaning, unit, range, the value Reset applies and the run's."""
    s: Settings = pending.value
    value = s.value(p.name)
    used = running.value(p.name)
    set_here = p.name in s.override_dict
    scenario_value = settings.scenario_params(s.scenario)[p.name]

    def on_value(x):
        pending.value = pending.value.with_override(p.name, x)

    def back():
        pending.value = pending.value.with_override(p.name, None)

    notes = [f"range {settings.fmt_value(p.low)} to {settings.fmt_value(p.high)}"]
    notes.append(f"declared default {settings.fmt_value(p.default)}")
    if scenario_value != p.default:
        notes.append(f"{s.scenario} sets {settings.fmt_value(scenario_value)}")
    if used != value or running.scenario != s.scenario:
        notes.append(f"this run uses {settings.fmt_value(used)}")
    with solara.Column(gap="0px", classes=["c401k-param"] + (["overridden"] if set_here else [])):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f"<span class='c401k-param-label' data-param='{p.name}' title='{escape(p.name)}'>"
                f"{escape(settings.label(p))} = <span class='c401k-param-value'>"
                f"{escape(settings.fmt_value(value))}</span> <i>{escape(p.unit)}</i></span>"
            ),
        )
        with solara.Row(gap="2px", style={"align-items": "center"}):
            slider = solara.SliderInt if p.type is int else solara.SliderFloat
            with solara.Column(style={"flex": "1 1 auto"}, gap="0px"):
                slider(
                    "",
                    value=settings.on_grid(p, value),
                    min=p.low,
                    max=p.high,
                    step=settings.slider_step(p),
                    on_value=on_value,
                )
            solara.Button(
                icon_name="mdi-restore",
                on_click=back,
                disabled=not set_here,
                text=True,
                small=True,
                classes=["c401k-param-reset"],
            )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"{escape(p.doc)} <br>{escape('; '.join(notes))}",
            classes=["c401k-small"],
        )


@solara.component
def SettingsPanel(ctx: Ctx):
    """Scenario, seed, resolution and the behavioural parameters by group; Reset applies them."""
    m = ctx.model.value
    s: Settings = ctx.pending.value
    seed_text = solara.use_reactive(str(s.seed))
    seed_error = solara.use_reactive("")
    open_groups = solara.use_reactive([])  # closed groups are not built: a quicker first render

    def on_seed(text):
        seed_text.value = text
        try:
            ctx.pending.value = dataclasses.replace(ctx.pending.value, seed=settings.parse_seed(text))
            seed_error.value = ""
        except InputError as exc:
            seed_error.value = str(exc)

    def undo():
        ctx.pending.value = m.settings
        seed_text.value = str(m.settings.seed)
        seed_error.value = ""

    changes = m.settings.differences(s)
    if changes or seed_error.value:
        with solara.Column(gap="4px", classes=["c401k-pending"]):
            if seed_error.value:
                solara.Error(seed_error.value + " (the run keeps its seed)", dense=True)
            if changes:
                solara.Warning(
                    "Not applied yet: " + "; ".join(changes) + ". Reset starts a new run with them.",
                    dense=True,
                )
                solara.Button("Undo changes", on_click=undo, text=True, small=True)
    solara.Select(
        "scenario",
        values=settings.scenarios.available(),
        value=s.scenario,
        on_value=lambda x: ctx.pending.set(dataclasses.replace(ctx.pending.value, scenario=x)),
    )
    solara.HTML(tag="div", unsafe_innerHTML=escape(settings.description(s.scenario)), classes=["c401k-small"])
    solara.InputText(
        f"seed (an integer from 0 to {settings.MAX_SEED})",
        value=seed_text.value,
        on_value=on_seed,
        error=bool(seed_error.value),
    )
    with solara.Row(gap="8px"):
        v.Select(
            label="participant agents",
            items=[{"text": f"{n:,}", "value": n} for n in settings.PARTICIPANT_CHOICES],
            v_model=s.participants,
            on_v_model=lambda x: ctx.pending.set(dataclasses.replace(ctx.pending.value, participants=int(x))),
        )
        v.Select(
            label="employers",
            items=[{"text": f"{n:,}", "value": n} for n in settings.EMPLOYER_CHOICES],
            v_model=s.employers,
            on_v_model=lambda x: ctx.pending.set(dataclasses.replace(ctx.pending.value, employers=int(x))),
        )
    groups = settings.parameter_groups()
    with v.ExpansionPanels(
        multiple=True, accordion=True, v_model=open_groups.value, on_v_model=open_groups.set
    ):
        for i, (group, params) in enumerate(groups.items()):
            n_set = sum(p.name in s.override_dict for p in params)
            header = f"{settings.GROUP_TITLES.get(group, group)} ({len(params)})" + (
                f", {n_set} set" if n_set else ""
            )
            with v.ExpansionPanel():
                v.ExpansionPanelHeader(children=[header])
                with v.ExpansionPanelContent():
                    if i in (open_groups.value or []):  # closed groups are not built
                        for p in params:
                            ParamRow(p, ctx.pending, m.settings)


# --- ensemble
@solara.component
def EnsemblePanel(ctx: Ctx):
    """Run N seeds of the running settings in worker processes; fans appear on the charts."""
    m = ctx.model.value
    n = solara.use_reactive(ensemble.SEED_CHOICES[1])
    request = solara.use_reactive(0)
    e = ctx.ensemble.value

    def work():
        if request.value == 0:
            return
        job = ensemble.Ensemble(m.settings, n.value).submit()
        ctx.progress.value = 0
        ctx.ensemble.value = job
        job.wait(on_progress=lambda k: ctx.progress.set(k))
        ctx.ensemble.value = dataclasses.replace(job)  # a new object: the charts redraw with fans
        ctx.redraw(m)

    task = solara.lab.use_task(work, dependencies=[request.value], prefer_threaded=True)
    running = e is not None and not e.finished and e.error is None and task.pending
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            "Runs seeds S, S+1, ... of this run's settings to the horizon in worker processes "
            f"({ensemble.workers()} here), without slowing other pages; the charts then show "
            "the median and the 5-95% band of the seeds, so a parameter's effect can be told from noise."
        ),
        classes=["c401k-small"],
    )
    with solara.Row(gap="6px", style={"align-items": "center"}):
        v.Select(
            label="seeds",
            items=[{"text": str(k), "value": k} for k in ensemble.SEED_CHOICES],
            v_model=n.value,
            on_v_model=lambda x: n.set(int(x)),
            style_="max-width: 90px",
            disabled=running,
        )
        solara.Button(
            f"Run {n.value} seeds",
            on_click=lambda: request.set(request.value + 1),
            disabled=running,
            color="primary",
            outlined=True,
            classes=["c401k-ensemble-run"],
        )
        if e is not None and not running:
            solara.Button("Clear", on_click=lambda: ctx.ensemble.set(None), text=True, small=True)
    if e is None:
        return
    if running:
        solara.ProgressLinear(value=100 * ctx.progress.value / e.n)
        status = f"running seeds {e.seeds.start}-{e.seeds.stop - 1}: {ctx.progress.value} of {e.n} done"
    elif e.error:
        status = f"the ensemble failed: {e.error}"
    elif ctx.bands() is not None:
        status = f"fans: {e.n} seeds ({e.seeds.start}-{e.seeds.stop - 1}) of these settings"
    else:
        status = f"{e.n} seeds of other settings (not drawn; run again for these settings)"
    solara.HTML(tag="div", unsafe_innerHTML=escape(status), classes=["c401k-small", "c401k-ensemble-status"])


# --- the views
def market_views() -> list[str]:
    """The Markets tab's charts in order: the declared time charts, the flows chart second."""
    names = list(charts.TIME_CHARTS)
    names.insert(1, "flows")
    return names


@solara.component
def MarketsTab(ctx: Ctx):
    m = ctx.model.value
    e = ctx.bands()
    table = m.table()
    with solara.Div(classes=["c401k-grid"]):
        for name in market_views():
            if name == "flows":
                LiveChart(m, "flows", lambda mm: charts.flows_chart(mm.table(), mm.horizon, e), deps=(e,))
            elif charts.present(charts.TIME_CHARTS[name].lines, table):  # a chart without outputs is left out
                spec = charts.TIME_CHARTS[name]
                LiveChart(
                    m,
                    name,
                    lambda mm, spec=spec: charts.time_chart(spec, mm.table(), mm.horizon, e),
                    deps=(e,),
                )


@solara.component
def PoliticsTab(ctx: Ctx):
    m = ctx.model.value
    e = ctx.bands()
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
                m, "moat", lambda mm: charts.moat_chart(mm.table(), mm.horizon, e), height="340px", deps=(e,)
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
        LiveChart(m, "allocation", charts.allocation_chart, height="360px", on_click=from_bin("allocation"))
        LiveChart(m, "balance", charts.balance_chart, height="360px", on_click=from_bin("balance"))
        if charts.present(charts.RETIREMENT_CHART.lines, m.table()):
            LiveChart(
                m,
                "retirement",
                lambda mm: charts.time_chart(charts.RETIREMENT_CHART, mm.table(), mm.horizon, ctx.bands()),
                height="360px",
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
            height="200px",
            deps=(kind, index),
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML="Click a district, member, plan or participant in a view to inspect it.",
            classes=["c401k-small"],
        )


@solara.component
def Page():
    """The page; each browser session builds its own model here."""
    first = solara.use_memo(lambda: new_model(initial_settings()), [])
    # use_reactive resets a variable whenever the value it is given changes: initial values are
    # memoised, or every re-render (a tab change) would undo the user's choice
    chosen = solara.use_memo(lambda: default_selection(first), [])
    ctx = Ctx(
        model=solara.use_reactive(first),
        version=solara.use_reactive(0),
        playing=solara.use_reactive(""),
        pending=solara.use_reactive(first.settings),
        selection=solara.use_reactive(chosen),
        ensemble=solara.use_reactive(None),
        progress=solara.use_reactive(0),
        tab=solara.use_reactive(0),
    )

    def run_loop():
        mode = ctx.playing.value
        m = ctx.model.value
        if not mode:
            return
        last = time.monotonic()
        while ctx.playing.value == mode and m.quarter < m.horizon and ctx.model.value is m:
            with m.lock:
                m.step()
            if mode == "play" and time.monotonic() - last >= PLAY_REDRAW_S:
                ctx.redraw(m)
                last = time.monotonic()
            time.sleep(PLAY_PAUSE_S if mode == "play" else 0.0)
        ctx.redraw(m)
        if ctx.playing.value == mode:
            ctx.playing.value = ""

    solara.lab.use_task(run_loop, dependencies=[ctx.playing.value], prefer_threaded=True)

    solara.Style(CSS)
    solara.Title(TITLE)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
        solara.lab.ThemeToggle()
    with solara.Sidebar(), solara.Column(gap="0px", style={"width": "372px", "max-width": "372px"}):
        with solara.Card("Run", margin=0):
            RunControls(ctx)
        with solara.Card("This run", margin=0, style={"margin-top": "8px"}):
            RunInfo(ctx)
        with solara.Card("Settings (Reset applies them)", margin=0, style={"margin-top": "8px"}):
            SettingsPanel(ctx)
        with solara.Card("Compare seeds", margin=0, style={"margin-top": "8px"}):
            EnsemblePanel(ctx)
    Monitors(ctx)
    with solara.Div(classes=["c401k-main"]):
        with solara.Div(classes=["c401k-views"]):
            with v.Tabs(v_model=ctx.tab.value, on_v_model=ctx.tab.set):
                for name in TABS:
                    v.Tab(children=[name])
            [MarketsTab, PoliticsTab, ParticipantsTab, EmployersTab][ctx.tab.value](ctx)
        with solara.Div(classes=["c401k-inspector"]):
            Inspector(ctx)

"""The page's sidebar: the run's controls, what this run is (its command and its files), the
settings Reset applies, and comparisons on seeds run in worker processes.

Settings are typed or dragged; a typed value outside its declared range is refused with the
range and Reset waits until every box holds an accepted value, so the page never runs
something other than what its boxes show. The settings waiting for Reset are listed once.
"""

from __future__ import annotations

import dataclasses
from html import escape

import solara
import solara.lab
from solara import v

from model import parameters as P
from model.errors import InputError
from viz import ensemble, export, settings, sharing, workers
from viz.follow import check_index
from viz.registry import Full, registry
from viz.session import build
from viz.settings import Settings
from viz.state import Ctx, default_selection
from viz.views import MONITORS, fmt_change, fmt_monitor
from viz.widgets import CopyText


# --- the run's controls
@solara.component
def RunControls(ctx: Ctx):
    """Step, Play/Pause, Run to end and Reset; all stop at the scenario's horizon."""
    ctx.version.get()
    m = ctx.model.value
    busy = ctx.playing.value
    at_end = m.quarter >= m.horizon
    refused = ctx.refused.value
    problem = solara.use_reactive("")
    ctx.session.touch()

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
        try:
            new = registry.make(ctx.session, lambda: build(ctx.pending.value))
        except Full as exc:
            problem.value = str(exc)
            return
        problem.value = ""
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
        solara.Button(
            "Reset",
            on_click=reset,
            disabled=bool(busy) or bool(refused),
            outlined=True,
            classes=["c401k-reset"],
        )
    solara.ProgressLinear(value=100 * m.quarter / max(m.horizon, 1), color="primary")
    note = f"quarter {m.quarter} of {m.horizon} ({m.record.row['date']})"
    if at_end:
        note += ": the scenario's horizon; Reset to run again"
    solara.HTML(tag="div", unsafe_innerHTML=f"<span class='c401k-small run-status'>{escape(note)}</span>")
    if problem.value:
        solara.Error(problem.value, dense=True, classes=["c401k-full"])


# --- what this run is
@solara.component
def RunInfo(ctx: Ctx):
    """What the running model is and the command that recomputes it (re-rendered on Reset,
    not at every step), then its files (which follow the quarter)."""
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
        "(its files start with this page's quarters):</div>"
    )
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=["c401k-small"])
    widget = solara.use_memo(lambda: CopyText(label="copy command"), [])
    widget.text = sharing.command(s)
    solara.Column(children=[widget], gap="0px")
    RunFiles(ctx)


@solara.component
def RunFiles(ctx: Ctx):
    """The run's files for the quarters so far, and its settings as a scenario file."""
    ctx.version.get()
    m = ctx.model.value
    s: Settings = m.settings
    q = m.quarter
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f"Save the run's files (quarters 0 to {q}) or its settings as a scenario file:",
        classes=["c401k-small"],
        style={"margin-top": "6px"},
    )
    with solara.Row(gap="4px", style={"flex-wrap": "wrap"}, classes=["c401k-files"]):
        solara.FileDownload(
            lambda: export.quarters_csv(m),
            filename=sharing.file_name(s, "quarters", q, ".csv"),
            label="quarters.csv",
            mime_type="text/csv",
        )
        solara.FileDownload(
            lambda: export.summary_json(m),
            filename=sharing.file_name(s, "summary", q, ".json"),
            label="summary.json",
            mime_type="application/json",
        )
        solara.FileDownload(
            lambda: export.dashboard_png(m),
            filename=sharing.file_name(s, "dashboard", q, ".png"),
            label="dashboard.png",
            mime_type="image/png",
        )
        solara.FileDownload(
            lambda: sharing.scenario_toml(s),
            filename=sharing.file_name(s, "scenario", suffix=".toml"),
            label="scenario .toml",
            mime_type="application/toml",
        )


# --- settings
@solara.component
def ParamRow(p, ctx: Ctx, running: Settings):
    """One behavioural parameter: meaning, unit, range, the value Reset applies and the run's;
    dragged on a slider or typed exactly in its box."""
    s: Settings = ctx.pending.value
    value = s.value(p.name)
    used = running.value(p.name)
    set_here = p.name in s.override_dict
    scenario_value = settings.scenario_params(s.scenario)[p.name]
    text = solara.use_reactive(settings.exact(value))  # follows the value (use_reactive's update)
    refused = ctx.refused.value.get(p.name, "")

    def on_value(x):
        ctx.refuse(p.name, None)
        ctx.pending.value = ctx.pending.value.with_override(p.name, x)

    def on_text(t):
        text.value = t
        try:
            x = settings.parse_value(p, t)
        except InputError as exc:
            ctx.refuse(p.name, str(exc))
            return
        on_value(x)

    def back():
        ctx.refuse(p.name, None)
        ctx.pending.value = ctx.pending.value.with_override(p.name, None)

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
            with solara.Div(style={"width": "92px"}, classes=["c401k-param-box"]):
                solara.InputText(
                    "value",
                    value=text.value,
                    on_value=on_text,
                    continuous_update=False,
                    error=bool(refused),
                    dense=True,
                )
            solara.Button(
                icon_name="mdi-restore",
                on_click=back,
                disabled=not set_here and not refused,
                text=True,
                small=True,
                classes=["c401k-param-reset"],
            )
        if refused:
            solara.Error(refused, dense=True, classes=["c401k-refused"])
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"{escape(p.doc)} <br>{escape('; '.join(notes))}",
            classes=["c401k-small"],
        )


@solara.component
def ResolutionBox(name: str, label: str, choices: tuple[int, ...], ctx: Ctx):
    """Participant agents or employers: chosen from the list or typed (declared range, page limit)."""
    p = P.get(name)
    field_ = "participants" if name == "n_participants" else "employers"
    current = getattr(ctx.pending.value, field_)
    refused = ctx.refused.value.get(name, "")

    def on_value(x):
        try:
            value = settings.parse_value(p, x)
        except InputError as exc:
            ctx.refuse(name, str(exc))
            return
        ctx.refuse(name, None)
        ctx.pending.value = dataclasses.replace(ctx.pending.value, **{field_: int(value)})

    v.Combobox(
        label=label,
        items=[f"{n:,}" for n in choices],
        v_model=f"{current:,}",
        on_v_model=on_value,
        error_messages=[refused] if refused else [],
        dense=True,
        class_=f"c401k-{field_}",
    )


@solara.component
def SettingsPanel(ctx: Ctx):
    """Scenario, seed, resolution and the behavioural parameters by group; Reset applies them."""
    m = ctx.model.value
    s: Settings = ctx.pending.value
    seed_text = solara.use_reactive(str(s.seed))
    open_groups = solara.use_reactive([])  # closed groups are not built: a quicker first render
    refused = ctx.refused.value
    ctx.session.touch()

    def on_seed(text):
        seed_text.value = text
        try:
            seed = settings.parse_seed(text)
        except InputError as exc:
            # one state: the box's refused text is not a pending seed (the run keeps its own)
            ctx.pending.value = dataclasses.replace(ctx.pending.value, seed=m.settings.seed)
            ctx.refuse("seed", str(exc))
            return
        ctx.refuse("seed", None)
        ctx.pending.value = dataclasses.replace(ctx.pending.value, seed=seed)

    def undo():
        ctx.pending.value = m.settings
        seed_text.value = str(m.settings.seed)
        ctx.refused.value = {}

    changes = m.settings.differences(s)
    # always there, empty or not: a box appearing above the inputs would shift them and make
    # Solara rebuild them under the user's cursor (a value being typed would be lost)
    with solara.Column(gap="4px", classes=["c401k-pending"] if changes or refused else []):
        if changes or refused:
            if refused:
                names = ", ".join(sorted(refused))
                solara.Error(
                    f"Reset waits until every box holds an accepted value (refused: {names}).",
                    dense=True,
                    classes=["c401k-waits"],
                )
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
        error=refused.get("seed", False) or False,
        classes=["c401k-seed"],
    )
    with solara.Row(gap="8px"):
        ResolutionBox("n_participants", "participant agents", settings.PARTICIPANT_CHOICES, ctx)
        ResolutionBox("n_employers", "employers", settings.EMPLOYER_CHOICES, ctx)
    groups = settings.parameter_groups()
    with v.ExpansionPanels(
        multiple=True, accordion=True, v_model=open_groups.value, on_v_model=open_groups.set
    ):
        for i, (group, params) in enumerate(groups.items()):
            n_set = sum(p.name in s.override_dict for p in params)
            header = f"{settings.group_title(group)} ({len(params)})" + (f", {n_set} set" if n_set else "")
            with v.ExpansionPanel():
                v.ExpansionPanelHeader(children=[header])
                with v.ExpansionPanelContent():
                    if i in (open_groups.value or []):  # closed groups are not built
                        for p in params:
                            ParamRow(p, ctx, m.settings)


# --- comparisons
def compare_choices(ctx: Ctx) -> list[dict]:
    """What B can be: nothing, the settings waiting for Reset, or another shipped scenario."""
    m = ctx.model.value
    items = [{"text": "nothing (seeds of this run only)", "value": ""}]
    if ctx.pending.value != m.settings and not ctx.refused.value:
        items.append({"text": "the settings not applied yet", "value": "pending"})
    for name in settings.scenarios.available():
        if name != m.settings.scenario:
            items.append({"text": f"scenario {name}", "value": f"scenario:{name}"})
    return items


def arm_b(ctx: Ctx, choice: str) -> Settings | None:
    m = ctx.model.value
    if choice == "pending":
        return ctx.pending.value
    if choice.startswith("scenario:"):
        return dataclasses.replace(m.settings, scenario=choice.split(":", 1)[1])
    return None


@solara.component
def ComparePanel(ctx: Ctx):
    """Run seeds of this run's settings (A), and optionally of other settings (B), in the
    worker processes; the charts then draw both, the monitors give B - A seed by seed."""
    m = ctx.model.value
    n = solara.use_reactive(ensemble.SEED_CHOICES[1])
    against = solara.use_reactive("")
    request = solara.use_reactive(0)
    c = ctx.comparison.value
    status, done, total, ahead, pages = ctx.progress.value
    ctx.session.touch()
    choices = compare_choices(ctx)
    if against.value not in {item["value"] for item in choices}:
        against.value = ""

    def work():
        if request.value == 0:
            return
        job = ensemble.Comparison.of(m.settings, n.value, arm_b(ctx, against.value)).submit(
            f"page {ctx.session.number}"
        )
        ctx.session.jobs.append(job.job)
        ctx.comparison.value = job
        while True:
            over = job.job.wait(0.5)
            if ctx.session.closed:  # the page went away (its job was cancelled with it)
                return
            ctx.progress.value = (job.job.status, job.job.done, job.job.total, *job.job.ahead())
            if over:
                break
        if job.job in ctx.session.jobs:
            ctx.session.jobs.remove(job.job)
        if job.job.status == "done":
            ctx.comparison.value = job.collect()  # a new object: the charts redraw with both arms
            if ctx.model.value is not None:
                ctx.redraw(ctx.model.value)

    solara.lab.use_task(work, dependencies=[request.value], prefer_threaded=True)
    active = c is not None and c.job is not None and not c.job.over
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            "Runs seeds S, S+1, ... of this run's settings (A) to the horizon in worker processes "
            f"({workers.workers()} here, shared by every page in turn), without slowing other pages; "
            "against B, the same seeds of other settings. The charts then show each arm's median and "
            "5-95% band (one seed: its line), the monitors B - A seed by seed."
        ),
        classes=["c401k-small"],
    )
    with solara.Row(gap="6px", style={"align-items": "center", "flex-wrap": "wrap"}):
        v.Select(
            label="seeds",
            items=[{"text": str(k), "value": k} for k in ensemble.SEED_CHOICES],
            v_model=n.value,
            on_v_model=lambda x: n.set(int(x)),
            style_="max-width: 70px",
            disabled=active,
        )
        v.Select(
            label="against (B)",
            items=choices,
            v_model=against.value,
            on_v_model=lambda x: against.set(x or ""),
            style_="max-width: 200px",
            disabled=active,
            class_="c401k-against",
        )
    with solara.Row(gap="6px", style={"align-items": "center"}):
        solara.Button(
            f"Compare on {n.value} seed{'s' if n.value > 1 else ''}"
            if against.value
            else f"Run {n.value} seed{'s' if n.value > 1 else ''}",
            on_click=lambda: request.set(request.value + 1),
            disabled=active or (n.value == 1 and not against.value),
            color="primary",
            outlined=True,
            classes=["c401k-ensemble-run"],
        )
        if active:
            solara.Button(
                "Cancel", on_click=c.job.cancel, text=True, small=True, classes=["c401k-ensemble-cancel"]
            )
        elif c is not None:
            solara.Button("Clear", on_click=lambda: ctx.comparison.set(None), text=True, small=True)
    if c is None:
        return
    if active and status == "waiting":
        text = (
            f"waiting for a worker: the {workers.workers()} worker(s) run {ahead} run(s) of {pages} other "
            "page(s); pages take turns, so yours start as soon as a worker is free"
        )
    elif active:
        solara.ProgressLinear(value=100 * done / max(total, 1))
        text = f"running {c.describe()}: {done} of {total} runs done"
        if ahead:
            text += f" (the workers also serve {pages} other page(s), in turn)"
    elif c.job is not None and c.job.status == "cancelled":
        text = f"cancelled after {c.job.done} of {c.job.total} runs"
    elif c.job is not None and c.job.status == "failed":
        text = f"the comparison failed: {c.job.error}"
    elif ctx.fans() is not None:
        text = f"drawn: {c.describe()}"
    else:
        text = f"{c.describe()}: of other settings than this run's (not drawn; run again)"
    solara.HTML(tag="div", unsafe_innerHTML=escape(text), classes=["c401k-small", "c401k-ensemble-status"])
    if c.finished:
        if c.compared:
            CompareTable(c)
        solara.FileDownload(
            c.csv,
            filename=sharing.file_name(c.arms[0].settings, f"runs-{len(c.arms)}x{c.n}", suffix=".csv"),
            label="per-seed outputs (CSV)",
            mime_type="text/csv",
        )


@solara.component
def CompareTable(c: ensemble.Comparison):
    """B against A at the horizon: each arm's median (5-95%) and B - A seed by seed."""
    q = c.arms[0].settings.horizon
    rows = []
    for name, label, kind in MONITORS:
        if kind == "text" or c.band("A", name) is None:
            continue
        a, b = c.band("A", name), c.band("B", name)
        diff = c.paired(name, q)
        if b is None or diff is None:
            continue

        def cell(band, kind=kind):
            if c.n == 1:
                return fmt_monitor(band[1][q], kind)
            return f"{fmt_monitor(band[1][q], kind)} ({fmt_monitor(band[0][q], kind)} to {fmt_monitor(band[2][q], kind)})"

        change = fmt_change(diff[1], kind) + (
            f" ({fmt_change(diff[0], kind)} to {fmt_change(diff[2], kind)})" if c.n > 1 else ""
        )
        rows.append(
            f"<tr data-output='{name}'><td>{escape(label)}</td><td>{escape(cell(a))}</td>"
            f"<td>{escape(cell(b))}</td><td>{escape(change)}</td></tr>"
        )
    head = "median (5-95% of seeds)" if c.n > 1 else f"seed {c.seeds.start}"
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<div class='c401k-small'>At the horizon (quarter {q}), {head}:</div>"
            "<table class='c401k-inspect c401k-compare'><tr><td></td><td>A</td><td>B</td><td>B - A</td></tr>"
            + "".join(rows)
            + "</table>"
        ),
    )

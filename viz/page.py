"""crypto401k in the browser: a page to watch a run, read its settings and compare runs.

Served through app.py (`crypto401k viz`, or `solara run app.py`). Built on Solara directly
(Mesa's SolaraViz component names its tabs "Page 0/1", lets a dragged title rearrange the grid,
shows slider values only while dragging and has no horizon; its import of Altair and
matplotlib also cost 3.5 s of server start). The model is the command line's model: the page
starts at the command line's defaults and copies the equivalent `uv run crypto401k run` command.

The sidebar (viz/sidebar.py) holds the run's controls, what this run is, the settings and
comparisons; the main pane (viz/views.py) headline monitors, tabs of views and the inspector.

Each browser page has its own model, registered with the server (viz/registry.py: a cap on
live models, release when idle or closed). The page's address holds the run's settings and
quarter (viz/sharing.py): a reload or a shared link rebuilds the same run at the same quarter,
and a page whose run was released restores it from there.
"""

from __future__ import annotations

import logging
import time
from html import escape

import solara
import solara.lab

from viz import sharing, sidebar, views
from viz.registry import Full, idle_s, max_runs, registry
from viz.session import build, drop_spare
from viz.state import Ctx, default_selection
from viz.widgets import AddressBar

log = logging.getLogger("crypto401k.viz")

TITLE = "crypto401k: crypto in US 401(k) plans"
PLAY_RATE = 10.0  # quarters a second at most while playing: watchable, and it leaves the CPU to others
PLAY_REDRAW_S = 0.25  # at most about four redraws a second while playing
TABS = views.TABS
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
.c401k-param-box .v-input { margin-top: 0; padding-top: 0; font-size: 12px; }
.c401k-key span.sw { display: inline-block; width: 14px; height: 10px; margin: 0 4px 0 10px; vertical-align: middle; }
table.c401k-inspect { font-size: 12px; line-height: 1.25; border-collapse: collapse; width: 100%; }
table.c401k-inspect td { padding: 1px 4px; vertical-align: top; }
table.c401k-inspect td.v { text-align: right; }
.c401k-main { display: flex; gap: 10px; align-items: flex-start; }
.c401k-views { flex: 1 1 auto; min-width: 0; }
.c401k-inspector { flex: 0 0 310px; position: sticky; top: 8px; }
.c401k-views .v-tab { min-width: 0; padding: 0 12px; font-size: 13px; letter-spacing: 0; }
.c401k-export button { font-size: 10px; line-height: 14px; padding: 0 4px; margin-left: 2px;
  border: 1px solid rgba(128,128,128,0.5); border-radius: 3px; opacity: 0.55; background: transparent;
  color: inherit; cursor: pointer; }
.c401k-export button:hover { opacity: 1; }
.c401k-files .v-btn { text-transform: none; letter-spacing: 0; }
"""
RELEASED = {
    "idle": "This page's run was released after {minutes:g} minutes without use, to free the server's memory.",
    "evicted": "This page's run was released for another page: the server was at its limit of {cap} runs "
    "and this one had been idle longest.",
}


def initial_address(query: str | None) -> sharing.Address:
    """What the page's address asks for (without one: the command line's defaults, quarter 0)."""
    return sharing.from_query(query, len(TABS))


def start(session, address: sharing.Address):
    """The model the address asks for, at its quarter (None and the reason when the server is full)."""
    try:
        room = registry.live() < max_runs() - 1
        if not room:
            drop_spare()
        model = registry.make(session, lambda: build(address.settings, address.quarter, spare_wanted=room))
        return model, ""
    except Full as exc:
        return None, str(exc)


@solara.component
def AddressKeeper(ctx: Ctx):
    """The address bar kept on the run's settings, quarter and tab."""
    ctx.version.get()
    widget = solara.use_memo(AddressBar, [])
    solara.use_effect(lambda: widget.close, [])
    m = ctx.model.value
    if m is not None:
        ctx.session.address = sharing.Address(m.settings, m.quarter, ctx.tab.value)
        widget.query = sharing.to_query(m.settings, m.quarter, ctx.tab.value)
    solara.Column(children=[widget], style={"display": "none"})


@solara.component
def Notice(ctx: Ctx, message: str):
    """What a page without a run shows: why, and a button to restore the run from its address."""
    address = getattr(ctx.session, "address", None) or sharing.Address()
    problem = solara.use_reactive("")

    def restore():
        model, why = start(ctx.session, address)
        if model is None:
            problem.value = why
            return
        problem.value = ""
        ctx.pending.value = model.settings
        ctx.refused.value = {}
        ctx.selection.value = default_selection(model)
        ctx.model.value = model
        ctx.notice.value = ""

    with solara.Card("This page has no run now", margin=0, style={"max-width": "760px"}):
        solara.HTML(tag="div", unsafe_innerHTML=escape(problem.value or message), classes=["c401k-notice"])
        solara.Button(
            f"Restore the run (quarter {address.quarter})" if address.quarter else "Start the run",
            on_click=restore,
            color="primary",
            classes=["c401k-restore"],
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                "The page's address holds its settings and quarter: restoring rebuilds the same run, "
                "step by step (the same seed gives the same quarters)."
            ),
            classes=["c401k-small"],
        )


def _kernel_context():
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context()
    except (ImportError, RuntimeError):
        return None


@solara.component
def Page():
    """The page; each browser page builds its own model here, from its address."""
    router = solara.use_router()
    session = solara.use_memo(lambda: registry.open(_kernel_id()), [])
    address = solara.use_memo(lambda: initial_address(router.search), [])
    # The model is put into its reactive variable rather than given as its initial value: the
    # initial value is kept for the page's life, and would keep a released model alive.
    model = solara.use_reactive(None)
    first_notice = solara.use_memo(lambda: _first_model(session, address, model), [])
    notice = solara.use_reactive(first_notice)
    first = model.peek()
    if session.address is None:  # later, the address of the run shown (AddressKeeper)
        session.address = address
    ctx = Ctx(
        session=session,
        model=model,
        version=solara.use_reactive(0),
        playing=solara.use_reactive(""),
        pending=solara.use_reactive(solara.use_memo(lambda: address.settings, [])),
        refused=solara.use_reactive({}),
        selection=solara.use_reactive(
            solara.use_memo(lambda: default_selection(first) if first else ("participant", 0), [])
        ),
        comparison=solara.use_reactive(None),
        progress=solara.use_reactive(("", 0, 0, 0, 0)),
        tab=solara.use_reactive(address.tab),
        notice=notice,
    )
    model.get()  # re-render when the model is replaced or released

    def tell_me():
        context = _kernel_context()

        def released(reason: str):
            text = RELEASED.get(reason, "This page's run was released.").format(
                minutes=idle_s() / 60, cap=max_runs()
            )

            def tell():
                ctx.playing.value = ""
                notice.value = text  # first: the page then shows only the notice
                model.value = None  # then nothing on the page holds the model

            try:
                if context is not None:
                    with context:
                        tell()
                else:
                    tell()
            except Exception:  # the page went away meanwhile
                log.debug("could not tell a page its run was released", exc_info=True)

        session.notify = released
        return lambda: setattr(session, "notify", None)

    solara.use_effect(tell_me, [])

    def run_loop():
        mode = ctx.playing.value
        m = ctx.model.value
        if not mode or m is None:
            return
        start = last = time.monotonic()
        played = 0
        while ctx.playing.value == mode and m.quarter < m.horizon and session.model is m:
            with m.lock:
                m.step()
            played += 1
            session.touch()
            if mode == "play" and time.monotonic() - last >= PLAY_REDRAW_S:
                ctx.redraw(m)
                last = time.monotonic()
            if mode == "play":  # on a schedule: a slow redraw is caught up by the next quarters
                time.sleep(max(0.0, start + played / PLAY_RATE - time.monotonic()))
        if session.model is m:
            ctx.redraw(m)
        if ctx.playing.value == mode:
            ctx.playing.value = ""

    solara.lab.use_task(run_loop, dependencies=[ctx.playing.value], prefer_threaded=True)

    solara.Style(CSS)
    solara.Title(TITLE)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
        solara.lab.ThemeToggle()
    if address.refused:
        solara.Warning(
            "The page's address asked for values that are refused (the rest of it is used): "
            + "; ".join(address.refused),
            dense=True,
            classes=["c401k-address-refused"],
        )
    if notice.value or model.value is None:
        Notice(ctx, notice.value or "This page's run was released.")
        return
    AddressKeeper(ctx)
    with solara.Sidebar(), solara.Column(gap="0px", style={"width": "372px", "max-width": "372px"}):
        with solara.Card("Run", margin=0):
            sidebar.RunControls(ctx)
        with solara.Card("This run", margin=0, style={"margin-top": "8px"}):
            sidebar.RunInfo(ctx)
        with solara.Card("Settings (Reset applies them)", margin=0, style={"margin-top": "8px"}):
            sidebar.SettingsPanel(ctx)
        with solara.Card("Compare seeds and settings", margin=0, style={"margin-top": "8px"}):
            sidebar.ComparePanel(ctx)
    views.Monitors(ctx)
    with solara.Div(classes=["c401k-main"]):
        with solara.Div(classes=["c401k-views"]):
            with solara.v.Tabs(v_model=ctx.tab.value, on_v_model=ctx.tab.set):
                for name in TABS:
                    solara.v.Tab(children=[name])
            views.TAB_VIEWS[ctx.tab.value](ctx)
        with solara.Div(classes=["c401k-inspector"]):
            views.Inspector(ctx)


def _first_model(session, address, model) -> str:
    """Build the page's first model into `model`; the notice to show when there is none."""
    m, why = start(session, address)
    model.value = m
    return why


def _kernel_id() -> str:
    try:
        return solara.get_kernel_id()
    except RuntimeError:  # rendered without a server (tests)
        return "local"

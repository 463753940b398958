"""crypto401k in the browser: the Mesa SolaraViz page (served through app.py).

Start it with `crypto401k viz [--port N]` (or `solara run app.py`). The sidebar has Mesa's
Step / Play / Reset buttons and the controls; the main pane has live charts of adoption, flows,
AUM, the price with and without the 401(k) flow, the political moat and the employer peer
network (page 0), and the House by stance and an inspector that follows one agent (page 1).

Controls come from the one parameter declaration (model/parameters.py): every parameter marked
`behavioural` is a slider over its declared range. A slider left at its declared default keeps
whatever value the selected scenario gives that parameter; a slider moved away from it overrides
the scenario. Changes apply when Reset builds a new model.

Each browser session gets its own model (built in `Page` with `use_memo`), so one user's Step or
Reset never changes another user's run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter
from solara.components.echarts import EchartsWidget

from model import parameters as P
from model import scenarios
from model.errors import InputError
from model.model import Crypto401kModel
from viz import charts
from viz.follow import PLOTTED, Follower, available_kinds, candidates

# The page's own resolution, chosen so that one step with its charts takes well under a second
# (docs/guide/viz.md has the measured cost); the sliders reach up to the declared defaults.
PAGE_PARTICIPANTS = 10_000
PAGE_PARTICIPANTS_STEP = 1_000
PAGE_EMPLOYERS = 500
PAGE_EMPLOYERS_STEP = 50
PAGE_SEED = 0
PAGE_SCENARIO = "baseline"
MAX_SEED = 2**63 - 1


def parse_seed(value: Any) -> int:
    """The seed typed in the page (Mesa's text input hands it over as a string) as an integer."""
    if isinstance(value, bool):
        raise InputError(
            f"expected an integer, got {value!r}", key="seed", allowed=f"an integer from 0 to {MAX_SEED}"
        )
    if isinstance(value, int):
        seed = value
    else:
        try:
            seed = int(str(value).strip().replace("_", ""))
        except ValueError:
            raise InputError(
                f"expected an integer, got {value!r}", key="seed", allowed=f"an integer from 0 to {MAX_SEED}"
            ) from None
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"{seed} is out of range", key="seed", allowed=f"an integer from 0 to {MAX_SEED}")
    return seed


def slider_step(p: P.Parameter) -> float:
    """A round slider step of about 1/100 of the declared range that lands on the declared default.

    Candidates are 1, 2 and 5 times powers of ten, largest first; integers step by at least 1.
    """
    span = float(p.high) - float(p.low)
    top = span / 100.0
    for exponent in range(math.floor(math.log10(top)), math.floor(math.log10(top)) - 6, -1):
        for mantissa in (5, 2, 1):
            step = mantissa * 10.0**exponent
            if step > top:
                continue
            if p.type is int and step < 1:
                return 1
            k = (float(p.default) - float(p.low)) / step
            if abs(k - round(k)) < 1e-6:
                return int(step) if p.type is int else float(f"{step:.10g}")
    return 1 if p.type is int else top


def slider(p: P.Parameter, *, value=None, low=None, high=None, step=None) -> dict:
    """Mesa's slider description for a declared parameter (its declared range unless narrowed)."""
    is_int = p.type is int
    return {
        "type": "SliderInt" if is_int else "SliderFloat",
        "label": p.name,
        "value": p.default if value is None else value,
        "min": p.low if low is None else low,
        "max": p.high if high is None else high,
        "step": slider_step(p) if step is None else step,
    }


BEHAVIOURAL = [p for p in P.PARAMETERS.values() if p.behavioural and p.type is not bool]


def model_params() -> dict[str, dict]:
    """The page's controls: scenario, seed, population size and the behavioural sliders."""
    n_part, n_emp = P.get("n_participants"), P.get("n_employers")
    out: dict[str, dict] = {
        "scenario_name": {
            "type": "Select",
            "label": "scenario",
            "value": PAGE_SCENARIO,
            "values": scenarios.available(),
        },
        "rng": {"type": "InputText", "label": "seed (integer; Reset applies it)", "value": str(PAGE_SEED)},
        "n_participants": slider(
            n_part,
            value=PAGE_PARTICIPANTS,
            low=PAGE_PARTICIPANTS_STEP,
            high=n_part.default,
            step=PAGE_PARTICIPANTS_STEP,
        ),
        "n_employers": slider(
            n_emp, value=PAGE_EMPLOYERS, low=PAGE_EMPLOYERS_STEP, high=n_emp.default, step=PAGE_EMPLOYERS_STEP
        ),
    }
    for p in BEHAVIOURAL:
        out[p.name] = slider(p)
    return out


def initial_kwargs() -> dict[str, Any]:
    """The keyword arguments of the first model, the same ones Reset passes (the controls' values)."""
    return {name: spec["value"] for name, spec in model_params().items()}


def scenario_overrides(params: dict[str, Any]) -> dict[str, Any]:
    """The slider values that override the scenario: those moved away from the declared default.

    Population and employer counts always apply (they are the page's resolution).
    """
    out = {}
    for name, value in params.items():
        p = P.get(name, "page control")
        if p.behavioural and value == p.default:
            continue
        out[name] = value
    return out


class PageModel(Crypto401kModel):
    """The model as the page builds it: scenario chosen by name, seed typed as text, one followed agent.

    Mesa's Reset passes its own `scenario` (mesa.experimental.scenarios.Scenario) back; it goes
    through to Mesa unchanged, the page's choice of scenario file being `scenario_name`.
    """

    def __init__(
        self, *, scenario_name: str = PAGE_SCENARIO, rng: Any = PAGE_SEED, scenario: Any = None, **params: Any
    ):
        overrides = scenario_overrides(params)
        try:
            seed = parse_seed(rng)
            seed_error = None
        except InputError as exc:  # shown in the page; Mesa's Reset has no place for an error
            seed, seed_error = PAGE_SEED, f"{exc}; used seed {PAGE_SEED}"
        super().__init__(scenario_name, rng=seed, scenario=scenario, **overrides)
        self.seed_error = seed_error
        self.page_overrides = overrides
        self.follower: Follower | None = None
        self._table: tuple[int, Any] | None = None
        self._layout: charts.NetworkLayout | None = None

    def step(self) -> None:
        """One quarter, then the followed agent's snapshot."""
        super().step()
        if self.follower is not None:
            self.follower.record(self.quarter)

    def follow(self, kind: str, index: int) -> None:
        """Start following agent `index` of `kind` (its history starts now)."""
        self.follower = Follower(self, kind, index)

    def table(self):
        """The quarters table, built once per quarter however many views read it."""
        if self._table is None or self._table[0] != self.quarter:
            self._table = (self.quarter, self.quarters_table())
        return self._table[1]

    @property
    def network_layout(self) -> charts.NetworkLayout:
        """The drawn employers and their positions, computed once per model."""
        if self._layout is None:
            self._layout = charts.network_layout(self.employer_graph, self.seed or 0)
        return self._layout


# --- views
CHART_HEIGHT = "330px"


@solara.component
def LiveChart(
    model: PageModel,
    name: str,
    build: Callable[[PageModel], dict],
    version: Any = None,
    height: str = CHART_HEIGHT,
):
    """An ECharts chart showing `build(model)`, redrawn after every step Mesa renders.

    The chart widget is made once and its option assigned directly, outside the component
    tree, from a listener on Mesa's step counter. Re-rendering the views instead cost most of a
    step: reacton walks every list and dict in the tree's props on each render pass (the
    network has thousands of nodes and links), and it makes one pass per subscribed view.
    `version` (besides the model) says when the chart must be rebuilt for another reason;
    `name` marks the chart in the page (attribute data-view) for tests and styling.
    """
    widget = solara.use_memo(
        lambda: EchartsWidget(
            option={},
            responsive=True,
            attributes={"style": f"height: {height}; width: 100%;", "data-view": name},
        ),
        [],
    )
    solara.use_effect(lambda: widget.close, [])  # closed when the view goes away

    def follow_steps():
        def redraw(_counter=None):
            widget.option = build(model)

        redraw()
        return update_counter.subscribe(redraw)  # the unsubscribe runs on cleanup

    solara.use_effect(follow_steps, [model, version])
    solara.Column(children=[widget], style={"width": "100%"})


@solara.component
def AdoptionView(model: PageModel):
    LiveChart(model, "adoption", lambda m: charts.adoption_chart(m.table()))


@solara.component
def FlowsView(model: PageModel):
    LiveChart(model, "flows", lambda m: charts.flows_chart(m.table()))


@solara.component
def AumView(model: PageModel):
    LiveChart(model, "aum", lambda m: charts.aum_chart(m.table()))


@solara.component
def PriceView(model: PageModel):
    LiveChart(model, "price", lambda m: charts.price_chart(m.table()))


@solara.component
def MoatView(model: PageModel):
    LiveChart(model, "moat", lambda m: charts.moat_chart(m.table()))


@solara.component
def NetworkView(model: PageModel):
    LiveChart(model, "network", lambda m: charts.network_chart(m, m.network_layout))


@solara.component
def HouseView(model: PageModel):
    if charts.house_members(model):
        LiveChart(model, "house", lambda m: charts.house_chart(charts.house_members(m)))
    else:
        solara.Info(
            "House view not available: this model has no politicians (the politics module is not present)."
        )


@solara.component
def InspectorView(model: PageModel):
    """Follow one participant, employer or politician: its state now and over the quarters since."""
    update_counter.get()
    kinds = available_kinds(model)
    kind = solara.use_reactive(kinds[0])
    index = solara.use_reactive(0)
    chosen = kind.value if kind.value in kinds else kinds[0]
    pool = candidates(model, chosen)
    error = None
    f = model.follower
    if f is None or f.kind != chosen or f.index != index.value:
        try:
            model.follow(chosen, index.value)
        except ValueError as exc:
            error = str(exc)
    with solara.Column(style={"padding": "0 8px", "overflow-y": "auto", "height": "100%"}, gap="4px"):
        with solara.Row():
            solara.Select("follow", values=kinds, value=chosen, on_value=kind.set)
            solara.InputInt(f"index (0 to {len(pool) - 1})", value=index)
        if error:
            solara.Error(error)
        else:
            FollowedAgent(model, model.follower)


@solara.component
def FollowedAgent(model: PageModel, f: Follower):
    """The followed agent's series over time and its snapshot now."""
    LiveChart(
        model,
        "followed",
        lambda m: charts.follow_chart(f.label, f.history, PLOTTED[f.kind]),
        version=id(f),
        height="170px",
    )
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td style='text-align:right; padding-left: 8px'>{escape(_fmt(v))}</td></tr>"
        for k, v in f.history[-1].items()
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<div style='font-size: 12px'>followed since quarter {f.history[0]['quarter']}; now:</div>"
            f"<div style='max-height: 150px; overflow-y: auto'>"
            f"<table class='followed' style='font-size: 12px; line-height: 1.2'>{rows}</table></div>"
        ),
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


@solara.component
def RunInfo(model: PageModel):
    """What the running model is: scenario, seed, resolution and the sliders that override it."""
    update_counter.get()
    changed = {k: v for k, v in model.page_overrides.items() if k not in ("n_participants", "n_employers")}
    moved = ", ".join(f"{k} = {v:g}" for k, v in changed.items()) or "none"
    # plain HTML, not solara.Markdown: Markdown loads KaTeX styles that solara-assets lacks
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<b>scenario</b> {escape(model.scenario_name)} &nbsp; <b>seed</b> {model.seed}<br>"
            f"<b>quarter</b> <span class='run-quarter'>{model.quarter}</span> ({model.record.row['date']})<br>"
            f"{model.population.n:,} participants, {len(model.employers):,} employers<br>"
            f"<b>sliders overriding the scenario:</b> <span class='run-overrides'>{escape(moved)}</span>"
        ),
    )
    if model.seed_error:
        solara.Error(model.seed_error)


COMPONENTS = [
    (AdoptionView, 0),
    (FlowsView, 0),
    (AumView, 0),
    (PriceView, 0),
    (MoatView, 0),
    (NetworkView, 0),
    (HouseView, 1),
    (InspectorView, 1),
]


@solara.component
def Page():
    """The page; each browser session builds its own model here."""
    first = solara.use_memo(lambda: PageModel(**initial_kwargs()), [])
    model = solara.use_reactive(first)
    controls = solara.use_memo(model_params, [])
    SolaraViz(
        model, components=COMPONENTS, model_params=controls, name="crypto401k: crypto in US 401(k) plans"
    )
    with solara.Sidebar(), solara.Card("This run"):
        RunInfo(model.value)

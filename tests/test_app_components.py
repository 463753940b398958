"""The browser page without a browser: controls, Reset, per-session models, views and the viz command.

Pages are rendered with solara.render at a small size (the page's own default is larger).
"""

from __future__ import annotations

import ipyvuetify as v
import pytest
import solara
from mesa.experimental.scenarios import Scenario as MesaScenario
from mesa.visualization.solara_viz import _build_model_init_kwargs
from solara.components.echarts import EchartsWidget
from typer.testing import CliRunner

from cli import viz as viz_cli
from cli.main import app as cli_app
from model import parameters as P
from model.errors import InputError
from viz import charts as viz_charts
from viz import page as app
from viz.follow import Follower

SMALL = {"n_participants": 2000, "n_employers": 100}


@pytest.fixture
def small_page(monkeypatch):
    """The page at 2,000 participants and 100 employers (the controls start there)."""
    monkeypatch.setattr(app, "PAGE_PARTICIPANTS", SMALL["n_participants"])
    monkeypatch.setattr(app, "PAGE_EMPLOYERS", SMALL["n_employers"])


def render_page():
    return solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)


def run_info(rc) -> str:
    return next(
        w.unsafe_innerHTML
        for w in rc.find(solara.widgets.HTML).widgets
        if "run-quarter" in w.unsafe_innerHTML
    )


def click(rc, label: str, times: int = 1) -> None:
    for _ in range(times):
        rc.find(v.Btn, children=[label]).widget.click()


# --- controls come from the one parameter declaration
def test_every_behavioural_parameter_is_a_slider_over_its_declared_range():
    controls = app.model_params()
    behavioural = [p for p in P.PARAMETERS.values() if p.behavioural]
    assert behavioural
    for p in behavioural:
        c = controls[p.name]
        assert (c["min"], c["max"], c["value"]) == (p.low, p.high, p.default)
        steps = (p.default - p.low) / c["step"]
        assert abs(steps - round(steps)) < 1e-6, f"{p.name}: the default is not on the slider's grid"
        assert 0 < c["step"] <= (p.high - p.low) / 100 + 1e-12
    assert controls["scenario_name"]["type"] == "Select" and "crash" in controls["scenario_name"]["values"]
    assert controls["rng"]["type"] == "InputText"
    assert controls["n_participants"]["max"] == P.get("n_participants").default


@pytest.mark.parametrize("text,seed", [("42", 42), (" 7 ", 7), (3, 3), ("1_000", 1000)])
def test_seed_typed_as_text_becomes_an_integer(text, seed):
    assert app.parse_seed(text) == seed


@pytest.mark.parametrize("text", ["abc", "-1", "1.5", "", True])
def test_bad_seed_is_refused(text):
    with pytest.raises(InputError, match="seed"):
        app.parse_seed(text)


def test_bad_seed_on_reset_is_reported_not_fatal():
    m = app.PageModel(rng="twelve", **SMALL)
    assert m.seed == app.PAGE_SEED and "twelve" in m.seed_error


def test_slider_at_declared_default_keeps_the_scenario_value():
    # a slider the user did not move must not undo what the scenario sets
    assert app.scenario_overrides({"flow_multiplier": P.get("flow_multiplier").default}) == {}
    assert app.scenario_overrides({"flow_multiplier": 9.0, "n_participants": 2000}) == {
        "flow_multiplier": 9.0,
        "n_participants": 2000,
    }


# --- Reset builds what the controls say, through Mesa's own Reset path
def test_mesa_reset_kwargs_rebuild_the_selected_scenario():
    kwargs = {**app.initial_kwargs(), **SMALL}
    first = app.PageModel(**kwargs)
    reset = _build_model_init_kwargs(
        first,
        {**kwargs, "scenario_name": "crash", "rng": "9"},
        add_scenario_when_empty=True,
        require_model_accepts_scenario=True,
    )
    assert isinstance(reset.get("scenario"), MesaScenario)  # Mesa passes its own Scenario object
    model = type(first)(**reset)
    assert model.scenario_name == "crash" and model.seed == 9
    assert model.params["crash_depth"] > 0


def test_page_reset_applies_scenario_seed_and_slider(small_page):
    box, rc = render_page()
    rc.find(v.Select, label="scenario").widget.v_model = "crash"
    seed = rc.find(v.TextField, label=app.model_params()["rng"]["label"]).widget
    seed.v_model = "42"
    seed.fire_event("keyup.enter", None)
    rc.find(v.Slider, label="flow_multiplier").widget.v_model = 10.0
    click(rc, "Step", 2)
    assert "run-quarter'>2<" in run_info(rc)
    click(rc, "Reset")
    info = run_info(rc)
    assert "crash" in info and "<b>seed</b> 42" in info and "flow_multiplier = 10" in info
    assert "run-quarter'>0<" in info


def test_step_advances_time_and_redraws_every_chart(small_page):
    box, rc = render_page()
    widgets = rc.find(EchartsWidget).widgets
    assert len(widgets) == 6
    before = [w.option for w in widgets]
    click(rc, "Step", 3)
    assert "run-quarter'>3<" in run_info(rc)
    after = [w.option for w in rc.find(EchartsWidget).widgets]
    assert all(a != b for a, b in zip(after, before, strict=True))
    adoption = next(
        w.option for w in rc.find(EchartsWidget).widgets if w.attributes["data-view"] == "adoption"
    )
    assert adoption["xAxis"]["data"] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]


def test_each_page_builds_its_own_model(small_page):
    box1, rc1 = render_page()
    box2, rc2 = render_page()
    click(rc1, "Step", 2)
    assert "run-quarter'>2<" in run_info(rc1)
    assert "run-quarter'>0<" in run_info(rc2)
    click(rc2, "Reset")
    assert "run-quarter'>2<" in run_info(rc1)


# --- the views
@pytest.fixture(scope="module")
def stepped():
    model = app.PageModel(**{**app.initial_kwargs(), **SMALL})
    model.run(6)
    return model


def test_time_charts_plot_the_quarters_table(stepped):
    table = stepped.table()
    adoption = viz_charts.adoption_chart(table)
    names = [s["name"] for s in adoption["series"]]
    assert names[:2] == ["active (own choice)", "default (product sleeve)"]
    assert adoption["series"][0]["data"] == pytest.approx(table["active_adoption_rate"].to_list(), abs=1e-6)
    flows = viz_charts.flows_chart(table)
    assert flows["series"][1]["data"][-1] == pytest.approx(
        table["cumulative_net_flow_usd"].iloc[-1] / 1e9, abs=1e-6
    )
    price = viz_charts.price_chart(table)
    assert len(price["series"]) == 2
    assert price["series"][1]["data"] == pytest.approx(table["price_index_no_401k"].to_list(), abs=1e-6)
    boom = table.assign(price_index=table["price_index"] * (1 + 9 * (table["quarter"] > 3)))
    assert viz_charts.price_chart(boom)["yAxis"][0]["type"] == "log"


def test_moat_chart_shows_politics_and_marks_elections(stepped):
    table = stepped.table()
    chart = viz_charts.moat_chart(table)
    names = [s["name"] for s in chart["series"]]
    assert "moat index" in names and "crackdown pass probability" in names
    assert [m["xAxis"] for m in chart["series"][0]["markLine"]["data"]] == ["2026Q4"]  # first House election
    assert {span[0]["name"] for span in chart["series"][0]["markArea"]["data"]} >= {"order_only", "proposed"}


def test_moat_chart_without_politics_says_not_available(stepped):
    political = [*viz_charts.MOAT_SERIES, "bill", "election"]
    table = stepped.table().drop(columns=[c for c in political if c in stepped.table()])
    chart = viz_charts.moat_chart(table)
    assert "not available" in chart["title"]["text"]
    assert [s["name"] for s in chart["series"]] == ["regulatory clarity"]


def test_house_view_degrades_without_politicians(stepped, monkeypatch):
    box, rc = solara.render(app.HouseView(stepped), handle_error=False)
    assert rc.find(EchartsWidget).widget.option["title"]["text"].startswith("House by crypto stance")
    monkeypatch.setattr(stepped, "politics", None)
    box, rc = solara.render(app.HouseView(stepped), handle_error=False)
    assert rc.find(v.Alert).widget  # the "not available" note
    assert not rc.find(EchartsWidget).widgets


def test_house_hemicycle_has_one_seat_per_member(stepped):
    members = viz_charts.house_members(stepped)
    assert len(members) == 435
    chart = viz_charts.house_chart(members)
    seats = {tuple(d["value"][:2]) for d in chart["series"][0]["data"]}
    assert len(seats) == 435
    pro = sum(viz_charts.is_pro_crypto(m) for m in members)
    assert f"{pro} of 435" in chart["title"]["text"]


def test_network_layout_is_seeded_sampled_and_leaves_the_model_alone():
    kwargs = {**app.initial_kwargs(), "n_participants": 2000, "n_employers": 400}
    a, b = app.PageModel(**kwargs), app.PageModel(**kwargs)
    layout = viz_charts.network_layout(a.employer_graph, a.seed, max_nodes=150)
    again = viz_charts.network_layout(b.employer_graph, b.seed, max_nodes=150)
    assert layout.nodes == again.nodes and layout.pos == again.pos
    assert len(layout.nodes) == 150 and layout.graph.number_of_edges() >= 150  # the sample keeps peer links
    a.run(2)
    b.run(2)
    assert a.quarters_table().equals(b.quarters_table())  # drawing used no model random numbers
    chart = viz_charts.network_chart(a, layout)
    offering = {d["name"] for d in chart["series"][0]["data"] if d["category"] > 0}
    assert offering == {f"employer {n}" for n in layout.nodes if list(a.employers)[n].offers_crypto}


def test_inspector_follows_a_participant_an_employer_and_a_seat():
    model = app.PageModel(**{**app.initial_kwargs(), **SMALL})
    model.follow("participant", 3)
    person = model.follower.agent
    model.run(2)
    history = model.follower.history
    assert [h["quarter"] for h in history] == [0, 1, 2]
    assert history[-1]["balance ($)"] == round(person.balance)
    employer = Follower(model, "employer", 5)
    assert employer.history[0]["peers"] == len(list(model.employers)[5].peers)
    seat = Follower(model, "politician", 0)
    assert seat.history[0]["member id"] == model.politics.members[0].unique_id
    with pytest.raises(ValueError, match="out of range"):
        Follower(model, "employer", 10_000)


def test_inspector_view_renders_the_followed_agent(stepped):
    box, rc = solara.render(app.InspectorView(stepped), handle_error=False)
    table = next(
        w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets if "followed" in w.unsafe_innerHTML
    )
    assert "balance ($)" in table
    assert rc.find(EchartsWidget).widget.attributes["data-view"] == "followed"


# --- the viz command
def test_viz_serves_on_loopback_unless_asked(monkeypatch):
    calls = []
    monkeypatch.setattr(viz_cli.subprocess, "call", lambda cmd, env: calls.append((cmd, env)) or 0)
    result = CliRunner().invoke(cli_app, ["viz", "--port", "8123"])
    assert result.exit_code == 0, result.output
    cmd, env = calls[0]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == "8123"
    assert cmd[cmd.index("run") + 1].endswith("app.py")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    CliRunner().invoke(cli_app, ["viz", "--host", "0.0.0.0"])
    assert calls[1][0][calls[1][0].index("--host") + 1] == "0.0.0.0"


def test_viz_refuses_a_bad_port(monkeypatch):
    monkeypatch.setattr(viz_cli.subprocess, "call", lambda *a, **k: pytest.fail("server started"))
    result = CliRunner().invoke(cli_app, ["viz", "--port", "70000"])
    assert result.exit_code == 2
    assert "--port" in result.output and "65535" in result.output

"""The browser page without a browser: settings and labels, the command line, the charts, the
district cartogram, the inspector, the page model and its horizon, ensembles, the page's
controls (rendered with solara.render at a small size) and the viz command.
"""

from __future__ import annotations

import time

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara
from typer.testing import CliRunner

from cli import viz as viz_cli
from cli.main import app as cli_app
from model import parameters as P
from model.errors import InputError
from model.geography import SEATS_2020
from model.outputs import OUTPUTS
from viz import charts, ensemble, export, settings, sharing, workers
from viz import page as app
from viz.districts import COLUMNS, ROWS, cartogram
from viz.follow import KINDS, Follower, check_index, inspect, interesting_participant
from viz.session import PageModel
from viz.settings import Settings
from viz.widgets import Chart

SMALL = Settings(participants=2000, employers=100)


# --- settings: labels, units, ranges and meanings from the one declaration
def test_every_behavioural_parameter_has_a_readable_label_unit_range_and_meaning():
    groups = settings.parameter_groups()
    listed = [p for ps in groups.values() for p in ps]
    assert {p.name for p in listed} == {
        p.name for p in P.PARAMETERS.values() if p.behavioural and p.type is not bool
    }
    assert list(groups) == [g for g in P.GROUPS if g in groups]  # in declared order
    for p in listed:
        label = settings.label(p)
        assert "_" not in label and label[0].isupper(), p.name
        assert p.unit and p.doc and p.low is not None and p.high is not None
        step = settings.slider_step(p)
        k = (p.default - p.low) / step
        assert abs(k - round(k)) < 1e-6, f"{p.name}: the default is not on the slider's grid"
        assert 0 < step <= (p.high - p.low) / 100 + 1e-12
        assert p.low <= settings.on_grid(p, p.high + 1) <= p.high
    assert settings.label(P.get("industry_lobbying_usd")) == "Industry lobbying USD"


@pytest.mark.parametrize("text,seed", [("42", 42), (" 7 ", 7), (3, 3), ("1_000", 1000)])
def test_seed_typed_as_text_becomes_an_integer(text, seed):
    assert settings.parse_seed(text) == seed


@pytest.mark.parametrize("text", ["abc", "-1", "1.5", "", True])
def test_bad_seed_is_refused_with_the_allowed_values(text):
    with pytest.raises(InputError, match="seed.*integer from 0"):
        settings.parse_seed(text)


def test_a_parameter_set_on_the_page_is_kept_even_at_its_declared_default():
    s = Settings(scenario="age_cap")
    assert s.value("glide_path_years") == 15.0  # the scenario's, not the declared 0
    back = s.with_override("glide_path_years", 0.0)
    assert back.value("glide_path_years") == 0.0 and back.override_dict == {"glide_path_years": 0.0}
    assert s.differences(back) == ["glide_path_years = 0"]
    assert back.with_override("glide_path_years", None) == s
    assert back.differences(s) == ["glide_path_years back to the scenario's value"]
    assert Settings().differences(Settings(scenario="crash", seed=4)) == ["scenario crash", "seed 4"]
    with pytest.raises(InputError, match="out of range"):
        s.with_override("glide_path_years", 99.0)


def test_the_page_starts_at_the_command_lines_defaults():
    s = Settings()
    assert (s.participants, s.employers) == (P.get("n_participants").default, P.get("n_employers").default)
    assert s.horizon == 40 and s.scenario == "baseline" and s.seed == 0


def test_the_copied_command_reproduces_the_pages_run_bit_for_bit(tmp_path):
    s = Settings(scenario="crash", seed=3, participants=2000, employers=100).with_override(
        "flow_multiplier", 7.25
    )
    m = PageModel(s)
    for _ in range(m.horizon):
        m.step()
    page_csv = m.table().to_csv(index=False)
    args = sharing.command(s).split()
    assert args[:4] == ["uv", "run", "crypto401k", "run"] and "flow_multiplier=7.25" in args
    out = tmp_path / "cli"
    args[args.index("--out") + 1] = str(out)
    result = CliRunner().invoke(cli_app, [*args[3:], "--no-dashboard"])
    assert result.exit_code == 0, result.output
    assert (out / "quarters.csv").read_text() == page_csv


# --- the page model
def test_the_page_model_stops_at_the_horizon_and_records_every_quarter():
    m = PageModel(SMALL)
    assert m.horizon == 40 and m.running
    for _ in range(m.horizon + 3):
        m.step()
    assert m.quarter == m.horizon and not m.running
    assert len(m.table()) == m.horizon + 1
    rec = m.records
    assert len(rec.stance) == len(rec.district_crypto_usd) == m.horizon + 1
    aum = m.table()["crypto_aum_usd"].to_numpy()
    assert [r.sum() for r in rec.district_crypto_usd] == pytest.approx(aum, rel=1e-9)


def test_a_scenarios_own_horizon_is_used(tmp_path):
    path = tmp_path / "short.toml"
    path.write_text('[scenario]\nname = "short"\nextends = "baseline"\n[run]\nquarters = 6\n')
    m = PageModel(Settings(scenario=str(path), participants=2000, employers=100))
    for _ in range(10):
        m.step()
    assert m.quarter == 6


# --- the charts
def test_time_charts_skip_outputs_the_model_does_not_report():
    m = PageModel(SMALL)
    m.run(3)
    table = m.table()
    names = {ln.output for spec in charts.TIME_CHARTS.values() for ln in spec.lines}
    names |= {ln.output for ln in (charts.FLOW_BARS, charts.FLOW_TOTAL, charts.FLOW_COMMITTED)}
    names |= {ln.output for ln in charts.MOAT_LINES}
    assert names <= set(OUTPUTS), names - set(OUTPUTS)
    adoption = charts.time_chart(charts.TIME_CHARTS["adoption"], table, m.horizon)
    assert adoption["series"][0]["data"] == pytest.approx((table["adoption_rate"] * 100).tolist(), abs=1e-6)
    assert len(adoption["xAxis"]["data"]) == m.horizon + 1  # the axis spans the horizon
    fewer = table.drop(columns=["default_adoption_rate"])
    assert "hold through a default product" not in [
        s["name"] for s in charts.time_chart(charts.TIME_CHARTS["adoption"], fewer, m.horizon)["series"]
    ]
    none = table.drop(columns=[ln.output for ln in charts.TIME_CHARTS["aum"].lines])
    assert charts.time_chart(charts.TIME_CHARTS["aum"], none, m.horizon) is None
    no_politics = table.drop(columns=[ln.output for ln in charts.MOAT_LINES])
    assert charts.moat_chart(no_politics, m.horizon) is None


def test_a_lone_quarter_is_drawn_as_a_point():
    m = PageModel(SMALL)
    one = charts.time_chart(charts.TIME_CHARTS["aum"], m.table(), m.horizon)
    assert one["series"][0]["showSymbol"] is True
    m.run(5)
    assert (
        charts.time_chart(charts.TIME_CHARTS["aum"], m.table(), m.horizon)["series"][0]["showSymbol"] is False
    )


@pytest.mark.parametrize(
    "a,b",
    [
        ([-19.2, 11.4], [-49.2, 41.6]),
        ([0.0, 3.0], [0.0, 100.0]),
        ([-5.0, -1.0], [2.0, 8.0]),
        ([0.0, 0.0], [0.0, 0.0]),
        ([-0.001, 0.3], [-300.0, 2.0]),
    ],
)
def test_two_axes_put_zero_at_the_same_height_and_hold_their_data(a, b):
    left, right = charts.aligned_axes(a, b)
    for axis, data in ((left, a), (right, b)):
        assert axis["min"] <= min(data + [0]) and axis["max"] >= max(data + [0])
        assert axis["min"] <= 0 <= axis["max"]
    zero = [-ax["min"] / (ax["max"] - ax["min"]) for ax in (left, right)]
    assert zero[0] == pytest.approx(zero[1])
    ticks = [(ax["max"] - ax["min"]) / ax["interval"] for ax in (left, right)]
    assert ticks[0] == pytest.approx(ticks[1]) and ticks[0] == pytest.approx(round(ticks[0]))


def test_moat_chart_explains_its_marks_and_keeps_its_legend_below_the_plot():
    m = PageModel(SMALL)
    m.run(8)
    table = m.table()
    chart = charts.moat_chart(table, m.horizon)
    assert chart["legend"]["type"] == "plain" and chart["legend"]["bottom"] == 0
    assert chart["yAxis"][0]["nameLocation"] == "middle"
    area = chart["series"][0]["markArea"]
    assert area["label"]["show"] is False and {s[0]["name"] for s in area["data"]} >= {"DOL rule proposed"}
    elections = [mk["xAxis"] for mk in chart["series"][0]["markLine"]["data"]]
    assert elections[:3] == ["2026Q4", "2028Q4", "2030Q4"]  # to the horizon, not only so far
    key = dict((text, style) for style, text in charts.moat_key(table))
    assert {"House election", "presidential election"} <= set(key)
    assert any(t.startswith("shaded: ") for t in key)
    assert charts.legend_rows(["a" * 60] * 3) == 3


def test_house_seats_stay_put_and_the_tooltip_gives_the_stance():
    m = PageModel(SMALL)
    seats = m.house_seats
    before = charts.house_chart(m.politics.members[:435], seats, cartogram().names)
    m.run(12)
    after = charts.house_chart(m.politics.members[:435], m.house_seats, cartogram().names)
    assert [d["value"][:2] for d in before["series"][0]["data"]] == [
        d["value"][:2] for d in after["series"][0]["data"]
    ]
    assert before["visualMap"]["min"] == after["visualMap"]["min"] == -charts.STANCE_RANGE
    member = m.politics.members[17]
    tip = after["series"][0]["data"][17]["tip"]
    assert f"stance {member.stance:+.2f}" in tip and cartogram().names[17] in tip
    pro = sum(mm.stance > 0 for mm in m.politics.members[:435])
    assert f"{pro} of 435" in after["title"]["text"]


def test_the_cartogram_gives_every_district_its_own_cell_state_by_state():
    geo = cartogram()
    assert len(geo.cells) == 435 == len(set(geo.cells))
    assert all(0 <= x < COLUMNS and 0 <= y < ROWS for x, y in geo.cells)
    assert not {(x, y) for _, x, y in geo.labels} & set(geo.cells)  # names never cover a district
    assert geo.names[:3] == ["AL-1", "AL-2", "AL-3"] and "WY-AL" in geo.names
    assert sum(n.startswith("CA-") for n in geo.names) == SEATS_2020["CA"]


def test_district_chart_colours_by_holdings_stance_or_exposure():
    m = PageModel(SMALL)
    m.run(12)
    for measure in ("holdings", "stance", "exposure"):
        chart = charts.district_chart(m, m.records, measure)
        cells = chart["series"][0]["data"]
        assert [c["id"] for c in cells] == list(range(435))
        assert "CA-1" in cells[cartogram().names.index("CA-1")]["tip"]
    held = charts.district_chart(m, m.records, "holdings")["series"][0]["data"]
    assert sum(c["value"][2] for c in held) == pytest.approx(
        m.table()["crypto_aum_usd"].iloc[-1] / 1e6, rel=1e-3
    )


def test_participant_views_and_clicked_bars_lead_to_a_participant():
    m = PageModel(SMALL)
    m.run(16)
    scatter = charts.participants_chart(m, m.participant_rows)
    assert sum(len(s["data"]) for s in scatter["series"]) == 600
    alloc = charts.allocation_chart(m)
    counts = [d["value"] for d in alloc["series"][0]["data"]]
    assert sum(counts) * 1e3 == pytest.approx((m.population.alloc > 0).sum() * m.population.weight, rel=1e-6)
    fullest = int(np.argmax(counts))
    row = charts.participant_in_bin(m, "allocation", fullest)
    lo, hi = charts.ALLOC_EDGES[fullest], charts.ALLOC_EDGES[fullest + 1]
    assert lo <= m.population.alloc[row] < hi
    balance = charts.balance_chart(m)
    total = sum(d["value"] for s in balance["series"] for d in s["data"])
    assert total == pytest.approx(70.0, rel=1e-6)  # million people
    bins = [d["value"] for d in balance["series"][1]["data"]]
    b = int(np.argmax(bins))
    row = charts.participant_in_bin(m, "balance", b, "hold none")
    pop = m.population
    assert charts.BALANCE_EDGES[b] <= pop.balance[row] < charts.BALANCE_EDGES[b + 1]
    assert pop.crypto_active[row] + pop.crypto_default[row] == 0


def test_network_layout_is_seeded_scaled_and_leaves_the_model_alone():
    a, b = (
        PageModel(Settings(participants=2000, employers=400)),
        PageModel(Settings(participants=2000, employers=400)),
    )
    layout = charts.network_layout(a.employer_graph, 0, max_nodes=150)
    again = charts.network_layout(b.employer_graph, 0, max_nodes=150)
    assert layout.nodes == again.nodes and layout.pos == again.pos
    assert len(layout.nodes) == 150 and layout.graph.number_of_edges() >= 150
    xy = np.array(list(layout.pos.values()))
    assert xy.min() == 0 and xy.max() == pytest.approx(charts.NETWORK_SPAN)  # not within +-1
    a.run(2)
    b.run(2)
    assert a.quarters_table().equals(b.quarters_table())
    chart = charts.network_chart(a, layout)
    offering = {d["id"] for d in chart["series"][0]["data"] if d["category"] > 0}
    assert offering == {str(n) for n in layout.nodes if list(a.employers)[n].offers_crypto}
    patch = charts.network_patch(a, layout)
    assert "links" not in patch["series"][0] and patch["series"][0]["id"] == chart["series"][0]["id"]


# --- the inspector
def test_inspector_shows_each_kind_with_its_history():
    m = PageModel(Settings(participants=2000, employers=1000))  # two plans offer at quarter 0
    row = interesting_participant(m)
    assert m.offered_mask().any() and m.offered_mask()[row]  # not someone without a choice
    m.follow(row)
    m.run(3)
    for kind in KINDS:
        index = row if kind == "participant" else 5
        ins = inspect(m, kind, index, m.follower)
        assert ins.rows and ins.series
        assert all(len(vals) == len(ins.quarters) for vals in ins.series.values())
    assert inspect(m, "district", 5).quarters == [0, 1, 2, 3]  # from quarter 0, whenever chosen
    assert inspect(m, "participant", row, m.follower).quarters == [0, 1, 2, 3]
    member = inspect(m, "member", 40)
    assert member.series["stance"][-1] == pytest.approx(m.politics.members[40].stance)


@pytest.mark.parametrize("text", ["abc", "2000", "-1", "1.5"])
def test_inspector_refuses_an_index_naming_the_allowed_range(text):
    m = PageModel(SMALL)
    with pytest.raises(ValueError, match="allowed: 0 to 1999"):
        check_index(m, "participant", text)
    assert check_index(m, "district", " 434 ") == 434


def test_a_followed_participant_who_retires_is_reported_not_replaced():
    m = PageModel(SMALL)
    row = int(np.argmax(m.population.age))  # the oldest: retires soon
    f = Follower(m, row)
    for _ in range(20):
        m.step()
        f.record(m)
        if f.history[-1].get("retired"):
            break
    assert f.history[-1].get("retired")
    assert "retired" in dict(inspect(m, "participant", row, f).rows)["status"]


# --- ensembles
def test_an_ensemble_band_is_the_5_to_95_percent_of_its_seeds():
    e = ensemble.Comparison.of(SMALL, 20)
    e.tables = {("A", i): pd.DataFrame({"x": [float(i), float(2 * i)]}) for i in range(20)}
    lo, med, hi = e.band("A", "x")
    assert e.finished and med == pytest.approx([9.5, 19.0])
    assert lo == pytest.approx(np.percentile(np.arange(20), 5) * np.array([1, 2]))
    assert hi[1] == pytest.approx(2 * np.percentile(np.arange(20), 95))
    assert e.band("A", "missing") is None
    assert list(e.seeds) == list(range(0, 20))


def test_a_seed_run_for_the_ensemble_is_the_pages_run():
    s = Settings(participants=2000, employers=100, seed=5)
    out = workers.run_one(0, s.scenario, s.seed, 6, s.model_kwargs())
    m = PageModel(s)
    m.run(6)
    assert out.to_csv(index=False) == m.table().to_csv(index=False)


# --- the page's controls, rendered without a browser
@pytest.fixture
def small_page(monkeypatch):
    monkeypatch.setattr(app, "initial_address", lambda query: sharing.Address(SMALL))


def render_page():
    return solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)


def html(rc, marker: str) -> str:
    return next(
        w.unsafe_innerHTML
        for w in rc.find(solara.widgets.HTML).widgets
        if marker in (w.unsafe_innerHTML or "")
    )


def quarter_shown(rc) -> int:
    text = html(rc, "run-quarter")
    return int(text.split("class='run-quarter'")[1].split(">")[1].split("<")[0])


def click(rc, label: str, times: int = 1) -> None:
    for _ in range(times):
        rc.find(v.Btn, children=[label]).widget.click()


def wait_for(check, seconds: float = 60.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_page_steps_runs_to_the_horizon_and_resets(small_page):
    box, rc = render_page()
    views = {w.view for w in rc.find(Chart).widgets}
    assert {"adoption", "flows", "aum", "price", "inspected"} <= views
    before = {w.view: w.option for w in rc.find(Chart).widgets}
    click(rc, "Step", 2)
    assert quarter_shown(rc) == 2
    after = {w.view: w.option for w in rc.find(Chart).widgets}
    assert all(after[k] != before[k] for k in ("adoption", "flows", "aum", "price"))
    click(rc, "Run to end")  # runs in a thread: wait for its last redraw
    wait_for(
        lambda: "horizon" in html(rc, "run-status") and not rc.find(v.Btn, children=["Reset"]).widget.disabled
    )
    assert quarter_shown(rc) == 40
    assert rc.find(v.Btn, children=["Step"]).widget.disabled
    click(rc, "Reset")
    assert quarter_shown(rc) == 0 and not rc.find(v.Btn, children=["Step"]).widget.disabled


def test_page_settings_wait_for_reset_and_say_so(small_page):
    box, rc = render_page()
    rc.find(v.Select, label="scenario").widget.v_model = "crash"
    assert "scenario crash" in " ".join(str(w.children) for w in rc.find(v.Alert).widgets)
    assert "crash" not in html(rc, "run-overrides").split("<b>seed")[0]
    click(rc, "Step")
    click(rc, "Reset")
    info = html(rc, "run-overrides")
    assert info.startswith("<b>scenario</b> crash") and quarter_shown(rc) == 0
    assert not rc.find(v.Alert).widgets


def test_each_page_has_its_own_model(small_page):
    box1, rc1 = render_page()
    box2, rc2 = render_page()
    click(rc1, "Step", 2)
    assert quarter_shown(rc1) == 2 and quarter_shown(rc2) == 0
    click(rc2, "Reset")
    assert quarter_shown(rc1) == 2


# --- the viz command
def test_viz_serves_on_loopback_unless_asked(monkeypatch):
    calls = []
    monkeypatch.setattr(viz_cli, "serve", lambda cmd, env: calls.append((cmd, env)) or 0)
    result = CliRunner().invoke(cli_app, ["viz", "--port", "8123"])
    assert result.exit_code == 0, result.output
    cmd, env = calls[0]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == "8123"
    assert cmd[cmd.index("run") + 1].endswith("app.py")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    CliRunner().invoke(cli_app, ["viz", "--host", "0.0.0.0"])
    assert calls[1][0][calls[1][0].index("--host") + 1] == "0.0.0.0"


def test_viz_refuses_a_bad_port(monkeypatch):
    monkeypatch.setattr(viz_cli, "serve", lambda *a, **k: pytest.fail("server started"))
    result = CliRunner().invoke(cli_app, ["viz", "--port", "70000"])
    assert result.exit_code == 2
    assert "--port" in result.output and "65535" in result.output


def test_columns_written_by_the_page_are_the_command_lines():
    m = PageModel(SMALL)
    m.run(2)
    table = pd.read_csv(pd.io.common.StringIO(export.quarters_csv(m)))
    assert list(table.columns) == list(m.table().columns) and len(table) == 3


def test_reset_to_fewer_participants_keeps_the_inspector_working(monkeypatch):
    monkeypatch.setattr(
        app, "initial_address", lambda query: sharing.Address(Settings(participants=30_000, employers=100))
    )
    box, rc = render_page()
    index = rc.find(v.TextField, label="index").widget
    index.v_model = "25000"
    index.fire_event("keyup.enter", None)
    assert "Participant 25000 " in html(rc, "c401k-inspect-title")
    rc.find(v.Combobox, label="participant agents").widget.v_model = "10,000"
    click(rc, "Reset")  # (the inspector used to fail on the missing row)
    title = html(rc, "c401k-inspect-title")
    row = int(title.split("Participant ")[1].split(" ")[0])
    assert row < 10_000 and "10,000 participants" in html(rc, "run-size")


def test_viz_server_forgets_disconnected_pages_within_minutes_unless_told_otherwise():
    assert viz_cli.server_env({})["SOLARA_KERNEL_CULL_TIMEOUT"] == "5m"
    assert viz_cli.server_env({"SOLARA_KERNEL_CULL_TIMEOUT": "2h"})["SOLARA_KERNEL_CULL_TIMEOUT"] == "2h"


# --- 4., 6., 7. what the charts say
def fake_comparison(settings_a, n=5, b=None, **outputs):
    """A finished comparison whose runs are the given output columns (value + seed offset)."""
    c = ensemble.Comparison.of(settings_a, n, b)
    for arm in c.arms:
        for k, seed in enumerate(c.seeds):
            shift = 1.0 if arm.key == "B" else 0.0
            c.tables[(arm.key, seed)] = pd.DataFrame(
                {name: np.asarray(values, float) * (1 + 0.01 * k) + shift for name, values in outputs.items()}
            )
    return c


def test_the_flow_line_is_the_running_total_of_the_bars_and_says_so():
    m = PageModel(SMALL)
    m.run(20)
    chart = charts.flows_chart(m.table(), m.horizon)
    bars = next(s for s in chart["series"] if s["type"] == "bar")
    total = next(s for s in chart["series"] if s["name"].startswith("running total of the bars"))
    committed = next(s for s in chart["series"] if s["name"].startswith("money committed"))
    assert total["data"] == pytest.approx(np.cumsum(bars["data"]).tolist(), abs=1e-5)
    assert committed["data"] == pytest.approx((m.table()["cumulative_invested_usd"] / 1e9).tolist(), abs=1e-5)
    assert "bars, left axis" in bars["name"] and "right axis" in total["name"]
    assert [a["name"] for a in chart["yAxis"]] == ["$B in the quarter", "$B summed since 2025Q3"]
    assert "sums the bars" in charts.FLOW_CAPTION and "cost of what was sold" in charts.FLOW_CAPTION


def test_a_fan_band_and_its_legend_swatch_have_one_colour_and_arm_b_its_own():
    m = PageModel(SMALL)
    m.run(4)
    n = m.horizon + 1
    c = fake_comparison(SMALL, 5, moat_index=np.linspace(0, 0.2, n))
    chart = charts.moat_chart(m.table(), m.horizon, c)
    band = [s for s in chart["series"] if "5-95%" in s["name"]]
    assert len(band) == 2 and all(s["color"] == band[1]["areaStyle"]["color"] for s in band)
    assert band[0]["color"].startswith("rgba(148,103,189")  # the moat line's purple, translucent
    legend = {d["name"]: d for d in chart["legend"]["data"]}
    assert legend[band[0]["name"]]["icon"] == "rect"
    b = Settings(participants=2000, employers=100).with_override("flow_multiplier", 9.0)
    both = fake_comparison(SMALL, 5, b, moat_index=np.linspace(0, 0.2, n))
    names = [s["name"] for s in charts.moat_chart(m.table(), m.horizon, both)["series"]]
    assert "A: moat index: median of 5 seeds" in names and "B: moat index: 5-95% of 5 seeds" in names
    one = fake_comparison(SMALL, 1, b, moat_index=np.linspace(0, 0.2, n))
    series = charts.moat_chart(m.table(), m.horizon, one)["series"]
    assert {"A: moat index (seed 0)", "B: moat index (seed 0)"} <= {s["name"] for s in series}
    assert not any("5-95%" in s["name"] for s in series)  # one seed: lines, no bands


def test_paired_differences_read_b_minus_a_seed_by_seed():
    b = Settings(participants=2000, employers=100).with_override("flow_multiplier", 9.0)
    c = fake_comparison(SMALL, 5, b, x=[1.0, 2.0])
    lo, med, hi = c.paired("x", 1)
    assert med == pytest.approx(1.0) and lo == pytest.approx(1.0) and hi == pytest.approx(1.0)
    assert c.paired("missing", 1) is None
    assert ensemble.Comparison.of(SMALL, 5).paired("x", 1) is None  # nothing to compare with
    csv = pd.read_csv(pd.io.common.StringIO(c.csv()))
    assert (
        list(csv.columns[:2]) == ["arm", "seed"] and csv["command"].str.startswith("uv run crypto401k").all()
    )
    assert len(csv) == 2 * 5 * 2 and set(csv["arm"]) == {"A", "B"}


def test_the_adoption_chart_draws_any_holding_under_the_lines_it_contains():
    spec = charts.TIME_CHARTS["adoption"]
    any_line, own = spec.lines[0], spec.lines[1]
    assert any_line.output == "adoption_rate" and any_line.width > 2 * own.width and any_line.z < own.z
    m = PageModel(SMALL)
    m.run(6)
    chart = charts.time_chart(spec, m.table(), m.horizon)
    assert [s["name"] for s in chart["series"]][:2] == [any_line.label, own.label]
    assert "can overlap" in spec.caption


def test_the_allocation_chart_explains_holders_without_a_choice():
    m = PageModel(Settings(participants=5000, employers=200))
    m.run(24)
    pop = m.population
    note = charts.allocation_note(m)
    chose, holds = (pop.alloc > 0).mean(), pop.holds.mean()
    assert f"{chose:.2%} of participants have chosen an allocation" in note
    assert f"{holds:.2%} hold crypto" in note
    assert f"{(pop.holds & ~(pop.alloc > 0)).mean():.2%} hold it without a current choice" in note


def test_the_district_inspector_draws_dollars_and_stance_on_separate_panels():
    m = PageModel(SMALL)
    m.run(3)
    chart = charts.inspection_chart(inspect(m, "district", 5))
    assert len(chart["grid"]) == 2 and [a["name"] for a in chart["yAxis"]] == ["$M", "log-odds"]
    assert [s["yAxisIndex"] for s in chart["series"]] == [0, 1]
    assert chart["series"][0]["name"] == "crypto held ($M)"
    top, bottom = chart["grid"]
    assert top["top"] + top["height"] < bottom["top"]  # the panels do not overlap
    member = charts.inspection_chart(inspect(m, "member", 5))
    assert len(member["grid"]) == 1 and member["yAxis"][0]["name"] == "log-odds"


def test_the_district_map_bins_are_labelled_by_the_money_writer():
    labels = [p["label"] for p in charts.holdings_pieces()]
    assert labels == ["none", "< $1M", "$1M to $10M", "$10M to $100M", "$100M to $1B", "> $1B"]

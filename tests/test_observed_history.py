"""Runs that follow the observed history: a price path replayed as the exogenous market, and the
`observed` scenario's history file (model/price_path.py, model/history.py, model/scenarios/observed.toml)."""

from __future__ import annotations

import math
import tomllib
from datetime import date, timedelta

import numpy as np
import pytest

from model import scenarios
from model.errors import InputError
from model.history import parse as parse_history
from model.model import Crypto401kModel
from model.price_path import REFERENCE_DATE, parse, week_ends

SMALL = {"n_participants": 2000, "n_employers": 100}
HISTORY = scenarios.SCENARIO_DIR.parent / "history" / "observed.toml"


def weekly_prices(start: date, weeks: int, seed: int = 0) -> str:
    """A CSV of weekly prices: a random walk of weekly log returns with 10% volatility."""
    rng = np.random.default_rng(seed)
    logs = np.cumsum(np.r_[0.0, rng.normal(0.0, 0.1, weeks - 1)])
    rows = [f"{start + timedelta(weeks=i)},{50_000 * math.exp(x):.4f}" for i, x in enumerate(logs)]
    return "date,price\n" + "\n".join(rows) + "\n"


def run(spec, seed: int, quarters: int = 6, scenario_params: dict | None = None):
    m = Crypto401kModel(spec, rng=seed, **SMALL, **(scenario_params or {}))
    m.run(quarters)
    return m, m.quarters_table()


def test_a_price_file_is_the_no_401k_price_for_every_seed_over_the_weeks_it_covers(tmp_path):
    text = weekly_prices(date(2025, 9, 14), 46)  # to 2026-07-19: quarters 1-3 whole, 4 in part
    (tmp_path / "prices.csv").write_text(text)
    path = parse(text.encode(), "prices.csv")
    spec = scenarios.load("static_1pct").with_data("price_path", tmp_path / "prices.csv")
    runs = [run(spec, seed)[1] for seed in (1, 2, 3)]
    for q in (1, 2, 3):
        expected = math.exp(float(path.log_at(week_ends(q))[-1]))
        for t in runs:
            assert t["price_index_no_401k"].iloc[q] == expected  # the file, bit for bit
    # every week: the market's shadow is the file's price at each week's end
    m = Crypto401kModel(spec, rng=4, **SMALL)
    for q in (1, 2):
        m.step()
        levels, covered = path.quarter_levels(q)
        assert covered == 13 and m.market.log_shadow == levels[-1]
    # after the file the market draws: the seeds part ways; 401(k) flows still move the price
    later = np.array([t["price_index_no_401k"].iloc[5] for t in runs])
    assert len(set(later.tolist())) == 3
    assert all((t["flow_price_impact"].iloc[1:4] != 0).any() for t in runs)


def test_after_the_file_the_market_draws_what_it_would_have_drawn(tmp_path):
    # common random numbers: the weeks after the file see the same draws as a run without it
    text = weekly_prices(date(2025, 9, 14), 30)
    (tmp_path / "prices.csv").write_text(text)
    replayed = run(scenarios.load("no_401k").with_data("price_path", tmp_path / "prices.csv"), 5, 8)[1]
    drawn = run(scenarios.load("no_401k"), 5, 8)[1]
    r_replayed = np.diff(np.log(replayed["price_index"].to_numpy()))
    r_drawn = np.diff(np.log(drawn["price_index"].to_numpy()))
    np.testing.assert_allclose(r_replayed[4:], r_drawn[4:], rtol=1e-9)  # quarters 5-8: drawn alike
    assert not np.allclose(r_replayed[:2], r_drawn[:2])


def test_a_coarse_file_is_interpolated_and_says_so():
    text = "date,price\n2025-09-01,100\n2025-10-01,90\n2025-11-01,80\n2025-12-01,85\n2026-01-01,70\n"
    path = parse(text.encode(), "monthly.csv")
    assert path.coarse and "interpolated" in path.describe()
    levels, covered = path.quarter_levels(1)
    assert covered == 13
    assert levels[-1] == pytest.approx(math.log(70 / 90))  # 1 Oct 2025 is the reference (index 1)


@pytest.mark.parametrize(
    "content, says",
    [
        ("date,price\n2025-09-01,1\n2025-09-08,2\n2025-09-08,3\n", "row 4: 2025-09-08 repeats the date"),
        ("date,price\n2025-09-08,1\n2025-09-01,2\n", "row 3: 2025-09-01 comes before 2025-09-08"),
        ("date,price\n2025-09-01,1\n2025-09-08,0\n", "row 3: price 0 is not positive"),
        ("date,price\n2025-09-01,1\n2025-09-08,-4\n", "row 3: price -4 is not positive"),
        ("date,price\n2025-08-01,1\n2025-09-08,2\n", "row 2: 2025-08-01 is before the order"),
        ("date,price\n2025-09-01,1\n2025-09-08,1\n2025-09-15,1\n2025-12-15,1\n", "row 5: a gap of 91 days"),
        ("when,price\n2025-09-01,1\n", "no column named date"),
        ("date,price\n2025-09-01,abc\n", "row 2: price 'abc' is not a number"),
        ("date,price\n01/09/2025,1\n", "row 2: '01/09/2025' is not a date"),
        ("date,price\n2025-11-01,1\n2025-11-08,2\n", "after the end of quarter 0"),
        ("date,price\n2025-09-01,1\n2025-10-03,1\n", "before the first week of quarter 1 ends"),
        ("", "file is empty"),
    ],
)
def test_bad_price_files_are_refused_in_one_line_naming_the_row(content, says):
    with pytest.raises(InputError) as err:
        parse(content.encode(), "prices.csv")
    assert says in str(err.value) and "\n" not in str(err.value)


def test_a_bad_price_file_stops_the_command_before_any_work(tmp_path):
    from typer.testing import CliRunner

    from cli.main import app

    (tmp_path / "prices.csv").write_text("date,price\n2025-09-01,1\n2025-09-08,-2\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", "--price-path", str(tmp_path / "prices.csv"), "--out", str(out)])
    assert result.exit_code == 2
    assert "row 3: price -2 is not positive" in result.output and not out.exists()


# --- the observed scenario
def test_the_observed_scenario_replays_the_history_and_draws_the_final_rule():
    spec = scenarios.load("observed")
    history = spec.data("history")
    finals = set()
    for seed in range(12):
        m, t = run(spec, seed, quarters=9)
        assert (
            t["rule_status"].iloc[1] == "order_only" and t["rule_status"].iloc[2] == "proposed"
        )  # 31 Mar 2026
        q = m.regulation.final_q
        assert 5 <= q <= 8  # 2026Q4 to 2027Q3: after as_of, never a fixed quarter
        assert t["rule_status"].iloc[q - 1] == "proposed" and t["rule_status"].iloc[q] == "final"
        finals.add(q)
        assert t["price_index_no_401k"].iloc[3] == math.exp(float(history.prices.quarter_levels(3)[0][-1]))
    assert len(finals) >= 3


def test_a_history_recording_the_final_rule_fixes_its_quarter(tmp_path):
    text = (
        HISTORY.read_text().replace('as_of = "2026-08-21"', 'as_of = "2026-11-30"')
        + '\n[[event]]\ndate = "2026-11-20"\nkind = "rule_final"\nwhat = "final rule"\nsource = "test"\n'
    )
    # events in time order: the appended final rule comes after the others
    history = parse_history(text.encode(), "h.toml")
    (tmp_path / "h.toml").write_text(text)
    spec = scenarios.load("observed").with_data("history", tmp_path / "h.toml")
    for seed in range(4):
        m, _ = run(spec, seed, quarters=2)
        assert m.regulation.final_q == 5  # 2026Q4
    assert history.event("rule_final").date == date(2026, 11, 20)


def test_the_history_file_names_a_source_for_every_value():
    doc = tomllib.loads(HISTORY.read_text())
    assert doc["price"] and doc["event"]
    for row in doc["price"] + doc["event"]:
        assert row["source"].strip()
    history = parse_history(HISTORY.read_bytes(), str(HISTORY))
    assert history.prices.last <= history.as_of and history.prices.first >= date(2025, 8, 7)
    assert history.event("rule_proposed").date == date(2026, 3, 31)
    assert history.prices.first <= REFERENCE_DATE


@pytest.mark.parametrize(
    "edit, says",
    [
        (('kind = "rule_proposed"', 'kind = "rule_maybe"'), "unknown kind 'rule_maybe'"),
        (('source = "ubt.com', 'sauce = "ubt.com'), "event[6].source"),
        (('as_of = "2026-08-21"', 'as_of = "2026-05-01"'), "is after as_of"),
    ],
)
def test_bad_history_files_are_refused_in_one_line(edit, says):
    text = HISTORY.read_text().replace(*edit, 1)
    with pytest.raises(InputError) as err:
        parse_history(text.encode(), "h.toml")
    assert says in str(err.value) and "\n" not in str(err.value)

"""How the page writes money and how a page run's settings leave the page: the address, the
command line, file names and the scenario file (viz/money.py, viz/sharing.py, viz/settings.py).
No browser: tests/test_app_browser.py checks the same through the page.
"""

from __future__ import annotations

import itertools
import tomllib

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from model import parameters as P
from model import scenarios
from model.errors import InputError
from viz import settings, sharing
from viz.money import money
from viz.session import PageModel
from viz.settings import Settings

SMALL = Settings(participants=2000, employers=100)


# --- 5. money, one way everywhere
@pytest.mark.parametrize(
    "value,text,trimmed",
    [
        (72.3e9, "$72.30B", "$72.3B"),
        (-0.29e9, "-$290.0M", "-$290M"),
        (-30.69e9, "-$30.69B", "-$30.69B"),
        (8.7e12, "$8.70T", "$8.7T"),
        (45_231.0, "$45.2k", "$45.2k"),
        (1_000.0, "$1.0k", "$1k"),
        (950.0, "$950", "$950"),
        (0.42, "$0.42", "$0.42"),
        (0.0, "$0", "$0"),
        (-0.004, "$0.00", "$0"),  # rounds to zero: no sign
        (999.96e6, "$1.00B", "$1B"),  # never "$1,000.0M"
        (2.5, "$3", "$3"),  # half up, as the browser's toFixed
        (float("nan"), "–", "–"),
    ],
)
def test_money_puts_the_sign_before_the_dollar_and_picks_the_unit_by_size(value, text, trimmed):
    assert money(value) == text
    assert money(value, trim=True) == trimmed


def test_no_other_money_writer_is_left_in_the_page():
    """Dollar amounts in the page's Python go through viz/money.py (the charts' axis and tooltip
    formatters use its rule in the browser)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "viz"
    pattern = re.compile(r"\"\$\{|f\"\$|'\$\{|\$\{[a-z_]+\s*/\s*1e[369]")
    offenders = [
        f"{p.name}:{i}: {line.strip()}"
        for p in sorted(root.glob("*.py"))
        if p.name != "money.py"
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


# --- 7. the policy group has a heading
def test_every_parameter_group_on_the_page_has_a_heading_in_words():
    for group in settings.parameter_groups():
        title = settings.group_title(group)
        assert title[0].isupper() and title != group, group
    assert settings.group_title("policy") == "Policy levers (retirement security)"


# --- 9. names that differ when the runs differ
def test_the_copied_command_is_the_uv_run_form_with_every_setting_written_out():
    s = Settings(scenario="crash", seed=3).with_override("flow_multiplier", 7.25)
    command = sharing.command(s)
    assert command.startswith("uv run crypto401k run --scenario crash --seed 3 --participants 100000")
    assert "--set flow_multiplier=7.25" in command and "--set n_employers=2000" in command
    assert command.endswith("--out out/crash-seed3-flow_multiplier=7.25")


def test_run_names_differ_whenever_the_runs_differ():
    variants = [
        Settings(),
        Settings(seed=1),
        Settings(scenario="crash"),
        Settings(participants=10_000),
        Settings(employers=500),
        Settings().with_override("flow_multiplier", 7.25),
        Settings().with_override("flow_multiplier", 7.5),
        Settings().with_override("affinity_mean", -0.7473),
        Settings().with_override("affinity_mean", -0.74731),
    ]
    # many overrides at once: the readable part is cut, the hash keeps names apart
    many = [p.name for p in settings.BEHAVIOURAL][:8]
    for k, values in enumerate(itertools.product([0.0, 1.0], repeat=3)):
        s = Settings(seed=k % 2)
        for name, value in zip(many, (*values, 0.5, 0.5, 0.5, 0.5, 0.5), strict=True):
            s = s.with_override(name, min(max(value, P.get(name).low), P.get(name).high))
        variants.append(s)
    names = [sharing.run_name(s) for s in variants]
    assert len(set(names)) == len(names)
    assert all(len(n) <= sharing.MAX_READABLE for n in names)
    assert sharing.run_name(Settings()) == "baseline-seed0"
    assert "and-" in names[-1] and "-more-" in names[-1]
    commands = {sharing.command(s).split("--out ")[1] for s in variants}
    assert len(commands) == len(variants)  # the second copy never finds the first's results
    assert sharing.file_name(variants[5], "quarters", 12, ".csv") == (
        "quarters-baseline-seed0-flow_multiplier=7.25-q12.csv"
    )


# --- 10. the address
def test_the_address_holds_the_run_and_its_quarter_exactly():
    s = Settings(scenario="crash", seed=3, participants=2000, employers=100)
    s = s.with_override("affinity_mean", -0.7473).with_override("glide_path_years", 0.0)
    query = sharing.to_query(s, quarter=12, tab=2)
    assert "scenario=crash" in query and "affinity_mean=-0.7473" in query and "q=12" in query
    back = sharing.from_query(query)
    assert back.settings == s and back.quarter == 12 and back.tab == 2 and back.refused == []
    assert sharing.to_query(Settings()) == ""  # the defaults need no address
    assert sharing.from_query("").settings == Settings()


@pytest.mark.parametrize(
    "query,words",
    [
        ("seed=abc", "integer from 0"),
        ("flow_multiplier=99", "from 0.5 to 25"),
        ("flow_multplier=2", "unknown parameter"),
        ("scenario=../../etc/passwd", "unknown scenario"),
        ("scenario=model/scenarios/crash.toml", "unknown scenario"),  # never a file on the server
        ("q=41", "from 0 to 40"),
        ("participants=5000000", "300,000 on the page"),
        ("entry_age_min=40&entry_age_max=30", "entry_age_min"),
    ],
)
def test_a_refused_address_value_is_named_with_its_range_and_the_rest_is_kept(query, words):
    out = sharing.from_query(query + "&seed=7")
    assert len(out.refused) == 1 and words in out.refused[0], out.refused
    assert out.settings.seed == 7 or "seed" in query


# --- 11. typed values
def test_a_typed_value_is_kept_exactly_and_refused_outside_its_range():
    p = P.get("affinity_mean")
    assert settings.parse_value(p, "-0.7473") == -0.7473
    assert settings.parse_value(p, " 1e-3 ") == 0.001
    with pytest.raises(InputError, match=r"affinity_mean.*from -5 to 5"):
        settings.parse_value(p, "7")
    with pytest.raises(InputError, match="affinity_mean"):
        settings.parse_value(p, "abc")
    n = P.get("n_participants")
    assert settings.parse_value(n, "20,000") == 20_000
    with pytest.raises(InputError, match="300,000 on the page"):
        settings.parse_value(n, "400000")
    assert (
        settings.exact(15.0) == "15"
        and settings.exact(-0.7473) == "-0.7473"
        and settings.exact(True) == "true"
    )


# --- 12. a scenario file that run and batch accept
def test_the_page_settings_saved_as_a_scenario_file_give_the_same_run(tmp_path):
    s = Settings(scenario="crash", seed=3, participants=2000, employers=100).with_override(
        "flow_multiplier", 7.25
    )
    path = tmp_path / "saved.toml"
    path.write_text(sharing.scenario_toml(s))
    doc = tomllib.loads(path.read_text())
    assert doc["scenario"]["extends"] == "crash" and doc["parameters"]["flow_multiplier"] == 7.25
    loaded = scenarios.load(path)
    assert loaded.parameters() == scenarios.load("crash").parameters(s.model_kwargs())
    assert loaded.quarters == s.horizon
    m = PageModel(s)
    m.run(4)
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli_app,
        [
            "run",
            "--scenario",
            str(path),
            "--seed",
            "3",
            "--quarters",
            "4",
            "--out",
            str(out),
            "--no-dashboard",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "quarters.csv").read_text() == m.table().to_csv(index=False)
    experiment = tmp_path / "exp.toml"
    experiment.write_text(
        '[experiment]\nname = "from_the_page"\nscenarios = ["saved.toml", "crash"]\n'
        "replicates = 1\nquarters = 2\nparticipants = 500\n"
    )
    store = tmp_path / "store"
    result = CliRunner().invoke(
        cli_app, ["batch", str(experiment), "--out", str(store), "--workers", "1", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "2 completed, 0 failed" in result.output

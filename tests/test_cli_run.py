"""`crypto401k run` end to end, and scenario files: shipped ones load, malformed ones are refused."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli.main import app
from model import scenarios
from model.errors import InputError
from model.outputs import OUTPUTS

SMALL = ["--participants", "2000", "--set", "n_employers=100"]


def cli(*args: str) -> subprocess.CompletedProcess:
    """The real console command in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=300
    )


def test_run_writes_the_three_files_with_the_output_columns(tmp_path):
    out = tmp_path / "out"
    res = cli("run", "--scenario", "baseline", "--quarters", "6", "--seed", "3", *SMALL, "--out", str(out))
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out / "quarters.csv")
    assert list(table.columns) == list(OUTPUTS)
    assert len(table) == 7 and table["date"].iloc[-1] == "2027Q1"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["scenario"] == "baseline"
    assert summary["parameters"]["n_participants"] == 2000
    assert summary["parameters"]["n_employers"] == 100
    assert summary["versions"]["mesa"] == "3.5.1"
    assert summary["headline"]["cumulative_net_flow_usd_q4"] == pytest.approx(
        table["cumulative_net_flow_usd"].iloc[4]
    )
    png = (out / "dashboard.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert "2027Q1" in res.stdout  # the printed table


def test_same_seed_gives_identical_files_in_separate_processes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((a, "5"), (b, "5"), (c, "6")):
        res = cli("run", "--quarters", "8", "--seed", seed, *SMALL, "--no-dashboard", "--out", str(out))
        assert res.returncode == 0, res.stderr
    assert (a / "quarters.csv").read_bytes() == (b / "quarters.csv").read_bytes()
    assert (a / "quarters.csv").read_bytes() != (c / "quarters.csv").read_bytes()


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--set", "flow_multiplier=1000"],
            "'flow_multiplier': 1000.0 is out of range (allowed: a number from 0.5 to 25)",
        ),
        (["--set", "flow_multipler=5"], "did you mean 'flow_multiplier'"),
        (["--set", "channel_401k=maybe"], "expected true or false"),
        (["--set", "crash_quarter"], "expected name=value"),
        (["--scenario", "crashh"], "unknown scenario; did you mean 'crash'"),
        (["--quarters", "0"], "'--quarters': 0 is out of range"),
        (["--participants", "0"], "'n_participants': 0 is out of range"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "never"
    res = CliRunner().invoke(app, ["run", *args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert message in text
    assert "Traceback" not in res.output
    assert not out.exists()


def test_real_process_bad_input_has_no_traceback(tmp_path):
    res = cli("run", "--set", "tail_df=1", "--out", str(tmp_path / "x"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "tail_df" in res.stderr and "2.1 to 1000" in res.stderr


def test_every_shipped_scenario_loads():
    names = scenarios.available()
    for required in ("baseline", "static_1pct", "static_2_5pct", "static_5pct", "crash", "no_401k"):
        assert required in names
    for name in names:
        spec = scenarios.load(name)
        assert spec.description and spec.parameters()


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "file is empty"),
        ("[parameters]\nflow_multiplier = 'high'\n", "'flow_multiplier': expected a number, got 'high'"),
        ("[parameters]\nflow_multiplier = 200\n", "out of range (allowed: a number from 0.5 to 25)"),
        ("[parameters]\nimitaton_strength = 0.1\n", "did you mean 'imitation_strength'"),
        ("[paramters]\n", "unknown section [paramters]; did you mean 'parameters'"),
        ("[scenario]\nnmae = 'x'\n", "'scenario.nmae': unknown key in [scenario]; did you mean 'name'"),
        ("[run]\nquarters = 0\n", "'run.quarters'"),
        ("[parameters\n", "not valid TOML"),
        ("[scenario]\nextends = 'nope'\n", "unknown scenario"),
    ],
)
def test_malformed_scenario_files_are_refused_with_file_and_key(tmp_path, text, message):
    path = tmp_path / "my.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        scenarios.load(path)
    assert message in str(err.value)
    if "extends" not in text:
        assert str(path) in str(err.value)


def test_binary_and_non_utf8_files_are_refused(tmp_path):
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(InputError, match="not UTF-8"):
        scenarios.load(path)


def test_user_scenario_file_extends_a_shipped_one(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[scenario]\nname = "mine"\nextends = "crash"\n[parameters]\ncrash_depth = 0.5\n')
    spec = scenarios.load(path)
    params = spec.parameters()
    assert params["crash_quarter"] == 4 and params["crash_depth"] == 0.5

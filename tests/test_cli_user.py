"""The command line as a careful user meets it (issue 13): every location checked before any
work, no silent overwrite, guides' loose ends, messages and help, and the run's table and
dashboard. Ctrl-C is in tests/test_interrupts.py, the guides' commands in tests/test_guides.py."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from toml_fuzz import check_clean_failure, invoke

from cli import main as cli_main
from experiments.single_run import RUN_FILES

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--participants", "300", "--quarters", "4", "--set", "n_employers=20"]
TARGETS = str(ROOT / "experiments" / "calibration_targets.toml")


@pytest.fixture
def no_model(monkeypatch):
    """Any model built fails the test: the command had to stop before any work."""

    def never(*args, **kwargs):
        raise AssertionError("a model was built before the inputs were checked")

    monkeypatch.setattr("model.model.Crypto401kModel.__init__", never)


# --- 2. every input and output location is checked before any work
@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--out", "{file}/sub"],
        ["run", "--out", "/proc/crypto401k/out"],
        ["run", "--seed", "-1", "--out", "{tmp}/x"],
        ["calibrate", TARGETS, "--params", "attention_base", "--out", "{file}/cal"],
        [
            "calibrate",
            TARGETS,
            "--params",
            "attention_base",
            "--out",
            "{tmp}/c",
            "--save-scenario",
            "{file}/s.toml",
        ],
        ["sensitivity", "--outcome", "adoption_rate@4", "--out", "{file}/sa"],
        ["batch", str(ROOT / "experiments" / "volatility_dampening.toml"), "--out", "{file}/b"],
        ["results", str(ROOT), "--csv", "{file}/q.csv"],
        ["validate", "--quick", "--out", "{file}/v"],
    ],
)
def test_unusable_locations_and_seeds_are_refused_before_any_work(tmp_path, no_model, argv):
    file = tmp_path / "a_file"
    file.write_text("keep")
    args = [a.replace("{file}", str(file)).replace("{tmp}", str(tmp_path)) for a in argv]
    result = invoke(args)
    check_clean_failure(result, source=None)
    assert file.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


# --- 3. no silent overwrite
def test_run_checks_for_the_files_it_writes():
    assert cli_main._RUN_FILES == RUN_FILES  # the command line checks without importing the model


def test_run_refuses_earlier_results_and_force_replaces_them_whole(tmp_path):
    out = tmp_path / "out"
    first = invoke(["run", "--out", str(out), *SMALL])
    assert first.code == 0, first.stderr
    assert set(RUN_FILES) <= {p.name for p in out.iterdir()}
    before = (out / "quarters.csv").read_bytes()
    again = invoke(["run", "--out", str(out), "--seed", "1", *SMALL])
    check_clean_failure(again, source=str(out))
    assert "--force" in again.stderr and (out / "quarters.csv").read_bytes() == before
    forced = invoke(["run", "--out", str(out), "--seed", "1", "--no-dashboard", "--force", *SMALL])
    assert forced.code == 0, forced.stderr
    # the new run's files only: no dashboard of the old run beside the new quarters.csv
    assert sorted(p.name for p in out.iterdir()) == ["quarters.csv", "summary.json"]
    assert json.loads((out / "summary.json").read_text())["seed"] == 1


def test_validate_writes_a_new_folder_by_default_never_docs(tmp_path, monkeypatch):
    import typer

    command = typer.main.get_command(cli_main.app).get_command(None, "validate")
    default = next(p.default for p in command.params if p.name == "out")
    assert Path(default) == Path("out/validation")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "VALIDATION.md").write_text("committed")
    result = invoke(["validate", "--quick", "--out", str(docs)])
    check_clean_failure(result, source=str(docs))
    assert (docs / "VALIDATION.md").read_text() == "committed"


def test_save_scenario_refuses_an_existing_file(tmp_path, no_model):
    shipped = tmp_path / "calibrated.toml"
    shipped.write_text("# shipped\n")
    result = invoke(
        [
            "calibrate",
            TARGETS,
            "--params",
            "attention_base",
            "--out",
            str(tmp_path / "c"),
            "--save-scenario",
            str(shipped),
        ]
    )
    check_clean_failure(result, source=str(shipped))
    assert shipped.read_text() == "# shipped\n" and not (tmp_path / "c").exists()


def test_results_csv_refuses_an_existing_file(tmp_path):
    store = tmp_path / "store"
    (store / "catalogue").mkdir(parents=True)
    csv = tmp_path / "q.csv"
    csv.write_text("mine")
    check_clean_failure(invoke(["results", str(store), "--csv", str(csv)]), source=str(csv))
    assert csv.read_text() == "mine"


def test_batch_out_that_holds_other_files_is_refused(tmp_path, no_model):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "paper.tex").write_text("x")
    result = invoke(["batch", str(ROOT / "experiments" / "volatility_dampening.toml"), "--out", str(out)])
    check_clean_failure(result, source=str(out))
    assert [p.name for p in out.iterdir()] == ["paper.tex"]


# --- 4. relative extends; an unreachable Dask scheduler leaves nothing behind
def test_relative_extends_is_read_from_the_extending_files_folder(tmp_path, monkeypatch):
    from model import scenarios

    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "parent.toml").write_text('[scenario]\nextends = "crash"\n[parameters]\ncrash_depth = 0.4\n')
    (folder / "child.toml").write_text(
        '[scenario]\nextends = "parent.toml"\n[parameters]\nflow_multiplier = 6.0\n'
    )
    monkeypatch.chdir(tmp_path)  # not the files' folder
    params = scenarios.load("mine/child.toml").parameters()
    assert params["crash_depth"] == 0.4 and params["flow_multiplier"] == 6.0 and params["crash_quarter"] == 4


def test_unreachable_dask_scheduler_is_refused_before_the_store_is_created(tmp_path, monkeypatch):
    import socket

    from experiments.batch import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "1s")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    exp = tmp_path / "e.toml"
    exp.write_text(
        '[experiment]\nname = "d"\nquarters = 2\nparticipants = 50\n[parameters]\nn_employers = 5\n'
    )
    out = tmp_path / "store"
    result = invoke(["batch", str(exp), "--out", str(out), "--dask", f"tcp://127.0.0.1:{port}"])
    check_clean_failure(result, source=None)
    assert "--dask" in result.stderr and not out.exists()


# --- 5. messages and help
@pytest.mark.parametrize(
    "argv, expected",
    [
        (["batch", "{exp}", "--out", "{tmp}/o", "--replicates", "0"], "'--replicates': 0 is out of range"),
        (["batch", "{scenario}", "--out", "{tmp}/o"], "this looks like a scenario file"),
        (["run", "--scenario", "{exp}", "--out", "{tmp}/o"], "this looks like an experiment file"),
        (
            ["run", "--set", "n_participants=1000", "--participants", "2000"],
            "conflicts with --set n_participants",
        ),
        (["run", "--set", "flow_multiplier=3", "--set", "flow_multiplier=4"], "'flow_multiplier': set twice"),
        (["run", "--set", "entry_age_max=18"], "'entry_age_min': 21 is above entry_age_max = 18"),
        (["batch", "{exp}", "--out", "{tmp}/o", "--set", "flow_multiplier=3"], "cannot also be fixed"),
    ],
)
def test_messages_name_the_real_problem(tmp_path, no_model, argv, expected):
    exp = tmp_path / "exp.toml"
    exp.write_text('[experiment]\nname = "m"\nreplicates = 2\n[grid]\nflow_multiplier = [3.0, 4.0]\n')
    scenario = ROOT / "model" / "scenarios" / "crash.toml"
    subst = {"{exp}": str(exp), "{scenario}": str(scenario), "{tmp}": str(tmp_path)}
    args = []
    for a in argv:
        for k, v in subst.items():
            a = a.replace(k, v)
        args.append(a)
    if args[0] == "run" and "--out" not in args:
        args += ["--out", str(tmp_path / "o")]
    result = invoke(args)
    check_clean_failure(result, source=None)
    assert expected in " ".join(result.stderr.split())


def test_help_is_short_flag_h_with_plain_flags_and_usage():
    top = invoke(["-h"])
    assert top.code == 0 and "run" in top.stdout and "--version" in top.stdout
    batch = invoke(["batch", "-h"])
    assert batch.code == 0
    assert "Usage: crypto401k batch [OPTIONS] FILE" in batch.stdout and "{" not in batch.stdout
    assert "<bool>" not in batch.stdout and "--no-progress" in batch.stdout
    assert "[parameters]" in batch.stdout
    version = invoke(["--version"])
    assert version.code == 0 and version.stdout.startswith("crypto401k ")


def test_params_lists_groups_with_a_meaning_per_parameter(monkeypatch):
    from model import parameters as P

    monkeypatch.setenv("COLUMNS", "250")
    result = invoke(["params"])
    assert result.code == 0
    for group in P.GROUPS:
        assert f"\n{group}" in result.stdout or result.stdout.startswith(group)
    assert "meaning" in result.stdout and P.get("flow_multiplier").doc.split()[0] in result.stdout
    helped = invoke(["params", "-h"])
    assert all(g in " ".join(helped.stdout.split()) for g in P.GROUPS)
    sources = invoke(["params", "--group", "market", "--sources"])
    assert "source" in sources.stdout and "politics" not in sources.stdout


def test_voting_probability_of_extreme_stances_warns_nothing():
    from agents.politician import yes_probability

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = yes_probability(np.array([-1000.0, 0.0, 1000.0]), "crackdown_tighten")
    assert p[0] == 1.0 and p[2] == 0.0


def test_too_small_sobol_sample_is_named():
    from experiments.tuning.sensitivity import reliability_warning

    noisy = pd.DataFrame(
        {
            "parameter": ["a", "b"],
            "S1": [1.68, 0.1],
            "S1_conf": [0.9, 0.1],
            "ST": [0.9, 0.2],
            "ST_conf": [0.3, 0.1],
        }
    )
    text = reliability_warning("sobol", noisy, 8)
    assert "S1 of a is 1.68" in text and "--samples 32" in text
    fine = noisy.assign(S1=[0.6, 0.1], S1_conf=[0.05, 0.05], ST_conf=[0.05, 0.05])
    assert reliability_warning("sobol", fine, 256) is None
    assert reliability_warning("morris", noisy, 8) is None


# --- 6. the run's table and dashboard
def test_table_cells_put_the_sign_first_and_never_show_negative_zero():
    cell = cli_main._cell
    assert cell(-49.2e9, "usd") == "-$49.2B" and cell(3.1e9, "usd") == "$3.1B"
    assert cell(-0.00001, "pct") == "0.0%" and cell(-0.0004, "num") == "0.000"
    assert cell(0.153, "pct") == "15.3%" and cell(-0.02, "pct") == "-2.0%"


def test_run_output_names_seed_population_units_and_the_rescission(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = invoke(
        ["run", "--scenario", "hostile_turn", "--quarters", "16", "--seed", "7", "--participants", "400"]
        + ["--set", "n_employers=20", "--out", str(tmp_path / "o"), "--no-dashboard"]
    )
    assert result.code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "seed 7, 400 participants (1 agent = 175,000 people), 20 employers" in text
    assert "% of participants" in text and "US$" in text and "2025Q3 = 1" in text
    assert "q15 2029Q2: rule rescinded (the administration rescinds the rule)" in text
    assert "$-" not in text and "-0.0" not in text


def test_dashboard_marks_rule_changes_and_aligns_zero_on_the_flow_panel():
    from experiments.reports.dashboard import draw_dashboard, events
    from experiments.single_run import simulate

    model, table = simulate(
        "hostile_turn", quarters=16, seed=7, overrides={"n_participants": 400, "n_employers": 20}
    )
    marks = events(table)
    rule = [q for q, _, what in marks if what.startswith("rule")]
    assert rule == [2, 5, 15] and any(what == "presidential election" for _, _, what in marks)
    fig = draw_dashboard(table, "hostile_turn", "seed 7, 400 participants")
    assert "seed 7, 400 participants" in fig._suptitle.get_text()
    assert "rescinded q15" in fig._suptitle.get_text()
    for ax in fig.axes[:6]:  # every panel has a dashed line at each rule change
        xs = {
            line.get_xdata()[0]
            for line in ax.get_lines()
            if line.get_linestyle() == "--" and len(set(line.get_xdata())) == 1
        }
        assert set(rule) <= xs
    left, right = fig.axes[1], fig.axes[-1]  # the flow panel and its twin
    zero = [-lo / (hi - lo) for lo, hi in (left.get_ylim(), right.get_ylim())]
    assert zero[0] == pytest.approx(zero[1])


def test_dashboard_helper_draws_the_png_and_falls_back_to_this_process(tmp_path):
    from experiments.reports.dashboard import DashboardProcess
    from experiments.single_run import simulate

    _, table = simulate("baseline", quarters=4, seed=1, overrides={"n_participants": 300, "n_employers": 20})
    with DashboardProcess() as helper:
        assert helper.proc is not None
        helper.submit(table, tmp_path / "a.png", "t", "s")
        helper.finish()
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"
    broken = DashboardProcess()
    broken.close()  # the helper is gone before it could draw: drawn in this process instead
    broken.submit(table, tmp_path / "b.png", "t", "s")
    broken.finish()
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"


# --- 7. the command line starts without the heavy libraries
def test_help_imports_no_heavy_library():
    code = (
        "import sys, cli.main; heavy = {'pandas', 'matplotlib', 'mesa', 'optuna', 'SALib', 'duckdb', 'pydantic'};"
        " print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_calibrated_scenario_of_a_scenario_file_extends_it_from_its_own_folder(tmp_path, monkeypatch):
    from model import scenarios

    (tmp_path / "scen").mkdir()
    (tmp_path / "scen" / "mine.toml").write_text(
        '[scenario]\nextends = "baseline"\n[parameters]\ncrash_depth = 0.3\n'
    )
    targets = tmp_path / "t.toml"
    targets.write_text(
        '[[target]]\nname = "a"\nstatistic = "adoption_rate@2"\nobserved = 0.0\ntolerance = 0.1\nsource = "test"\n'
    )
    monkeypatch.chdir(tmp_path)
    result = invoke(
        ["calibrate", "t.toml", "--out", "cal", "--params", "attention_base", "--trials", "1", "--seeds", "1"]
        + [
            "--scenario",
            "scen/mine.toml",
            "--participants",
            "40",
            "--set",
            "n_employers=8",
            "--quarters",
            "2",
        ]
    )
    assert result.code == 0, result.stderr
    text = (tmp_path / "cal" / "calibrated.toml").read_text()
    assert 'extends = "../scen/mine.toml"' in text
    monkeypatch.chdir(ROOT)  # loads from anywhere: the path is read from the file's folder
    assert scenarios.load(tmp_path / "cal" / "calibrated.toml").parameters()["crash_depth"] == 0.3

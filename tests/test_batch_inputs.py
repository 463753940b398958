"""A run is what it was given: a batch identifies its input files by content, never reuses a stored run
of another version of a file (refused in one line, or re-run on request), needs no file on the
workers, and keeps the provenance of every run."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from toml_fuzz import invoke
from user_inputs import DATA_FILES, user_file_names, write_user_inputs

from experiments.batch import store
from experiments.batch.experiment_file import load_experiment
from experiments.batch.runner import run_batch
from experiments.batch.store import load_results, run_inputs
from experiments.tuning.runs import RunSettings, run_id
from model import inputs, scenarios
from model.errors import InputError
from model.inputs import Role

EXPERIMENT = """
[experiment]
name = "my_sweep"
scenarios = [{scenarios}]
replicates = 2
quarters = 4
participants = 300
outputs = ["adoption_rate", "cumulative_invested_usd", "price_index"]

[parameters]
n_employers = 20
"""


def experiment(folder: Path, *names: str) -> Path:
    path = folder / "exp.toml"
    path.write_text(textwrap.dedent(EXPERIMENT.format(scenarios=", ".join(f'"{n}"' for n in names))))
    return path


def rows(out: Path) -> pd.DataFrame:
    return load_results(out).sort_values(["run_id", "quarter"]).reset_index(drop=True)


def batch(exp: Path, out: Path, *extra: str):
    return invoke(["batch", str(exp), "--out", str(out), "--workers", "1", "--no-progress", *extra])


def files_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def one_error_line(result) -> str:
    assert result.code == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture
def sweep(tmp_path):
    """A stored batch of a user's scenario (my.toml extends parent.toml extends baseline): the
    folder, the experiment file, the store and its rows."""
    write_user_inputs(tmp_path)
    exp = experiment(tmp_path, "my.toml")
    out = tmp_path / "store"
    first = batch(exp, out)
    assert first.code == 0 and "2 completed" in first.stdout, first.stderr
    return tmp_path, exp, out, rows(out)


def test_an_edited_scenario_file_is_refused_in_one_line_and_the_store_untouched(sweep):
    folder, exp, out, _ = sweep
    before = files_of(out)
    old = inputs.digest_of((folder / "my.toml").read_bytes())
    write_user_inputs(folder, affinity_mean=2.5)
    new = inputs.digest_of((folder / "my.toml").read_bytes())
    line = one_error_line(batch(exp, out))
    assert f"{folder / 'my.toml'} changed (sha256 stored {old[:12]}, now {new[:12]})" in line
    assert "2 stored runs" in line and "a new --out" in line and "--rerun-changed" in line
    assert files_of(out) == before  # nothing run, nothing moved
    # a new --out keeps both
    other = batch(exp, folder / "other")
    assert other.code == 0 and "2 completed" in other.stdout


def test_rerun_changed_reruns_those_runs_and_never_reuses_them(sweep):
    folder, exp, out, old_rows = sweep
    write_user_inputs(folder, affinity_mean=2.5)
    again = batch(exp, out, "--rerun-changed")
    assert again.code == 0, again.stderr
    assert "0 already stored, 2 completed, 0 failed, 2 runs of changed input files re-run" in again.stdout
    fresh = batch(exp, folder / "fresh")
    assert fresh.code == 0
    pd.testing.assert_frame_equal(rows(out), rows(folder / "fresh"))
    assert not rows(out)["adoption_rate"].equals(old_rows["adoption_rate"])  # new numbers, not the old
    cat = load_results(out, "SELECT run_id, inputs_digest FROM catalogue")
    assert cat["run_id"].is_unique and len(cat) == 2
    assert set(cat["inputs_digest"]) == {scenarios.load(folder / "my.toml").digest}
    # the old results are gone, not kept beside the new ones
    assert (
        len(list((out / "runs").glob("*.parquet"))) == len(list((out / "catalogue").glob("*.parquet"))) == 1
    )
    # and then it is the store of the edited file: resumed as usual
    third = batch(exp, out)
    assert third.code == 0 and "2 already stored, 0 completed" in third.stdout


def test_an_edited_parent_the_scenario_extends_counts_too(sweep):
    folder, exp, out, _ = sweep
    parent = folder / "parent.toml"
    old = inputs.digest_of(parent.read_bytes())
    parent.write_text(parent.read_text().replace("0.8", "1.2"))
    line = one_error_line(batch(exp, out))
    assert (
        f"{parent} changed (sha256 stored {old[:12]}, now {inputs.digest_of(parent.read_bytes())[:12]})"
        in line
    )
    assert batch(exp, out, "--rerun-changed").code == 0
    assert set(load_results(out, "SELECT inputs_digest FROM catalogue")["inputs_digest"]) == {
        scenarios.load(folder / "my.toml").digest
    }


def test_rerun_changed_keeps_the_other_runs_of_a_shared_results_file(tmp_path):
    write_user_inputs(tmp_path)
    exp = experiment(tmp_path, "my.toml", "baseline")
    out = tmp_path / "store"
    assert batch(exp, out).code == 0
    assert len(list((out / "catalogue").glob("*.parquet"))) == 1  # all four runs in one group
    kept_before = load_results(out, "SELECT * FROM runs WHERE scenario = 'baseline' ORDER BY run_id, quarter")
    write_user_inputs(tmp_path, affinity_mean=2.5)
    summary = run_batch(load_experiment(exp).runs(), out, workers=1, progress=False, rerun_changed=True)
    assert (summary.skipped, summary.completed, summary.rerun) == (2, 2, 2)
    kept_after = load_results(out, "SELECT * FROM runs WHERE scenario = 'baseline' ORDER BY run_id, quarter")
    pd.testing.assert_frame_equal(kept_before, kept_after)
    assert batch(exp, tmp_path / "fresh").code == 0
    pd.testing.assert_frame_equal(rows(out), rows(tmp_path / "fresh"))
    assert store.scan(out, repair=False).orphans_removed == 0


def test_provenance_is_read_back_from_the_store(sweep):
    folder, exp, out, _ = sweep
    old_text = (folder / "my.toml").read_text()
    got = run_inputs(out, "my.p0000.r000")
    assert [(f.role, f.name) for f in got] == [
        ("scenario", str(folder / "my.toml")),
        ("extends", str(folder / "parent.toml")),
        ("extends", "baseline"),
        *((role, str(folder / name)) for role, (name, _) in sorted(DATA_FILES.items())),
    ]
    assert (
        got[0].text() == old_text
        and got[2].content == (scenarios.SCENARIO_DIR / "baseline.toml").read_bytes()
    )
    # one record per distinct input, however many runs read it
    assert len(load_results(out, "SELECT * FROM inputs")) == 3 + len(DATA_FILES)
    write_user_inputs(folder, affinity_mean=2.5)
    assert batch(exp, out, "--rerun-changed").code == 0
    both = load_results(out, "SELECT name, decode(content) AS text FROM inputs WHERE role = 'scenario'")
    assert sorted(both["text"]) == sorted([old_text, (folder / "my.toml").read_text()])
    assert run_inputs(out, "my.p0000.r001")[0].text() == (folder / "my.toml").read_text()
    # on the command line
    shown = invoke(["results", str(out), "--inputs", "my.p0000.r001"])
    assert shown.code == 0, shown.stderr
    said = shown.stdout
    assert (
        f"scenario: {folder / 'my.toml'}  sha256 {inputs.digest_of((folder / 'my.toml').read_bytes())}"
        in said
    )
    assert (
        "affinity_mean = 2.5" in said and "extends: baseline" in said and "imitation_strength = 0.8" in said
    )
    line = one_error_line(invoke(["results", str(out), "--inputs", "my.p0000.r009"]))
    assert "no such run in the store" in line and "'my.p0000.r00" in line


def test_local_workers_run_a_user_scenario_whose_files_are_gone(tmp_path):
    write_user_inputs(tmp_path)
    runs = load_experiment(experiment(tmp_path, "my.toml")).runs()
    reference = run_batch(runs, tmp_path / "reference", workers=1, progress=False)
    for name in user_file_names():
        (tmp_path / name).unlink()
    summary = run_batch(runs, tmp_path / "pool", workers=2, progress=False)
    assert summary.completed == 2 and summary.failed == 0 and reference.completed == 2
    pd.testing.assert_frame_equal(rows(tmp_path / "pool"), rows(tmp_path / "reference"))


def test_a_store_from_before_inputs_were_recorded_reads_and_is_refused_on_resume(sweep):
    folder, exp, out, old_rows = sweep
    # as crypto401k 0.2.0 wrote it: no input columns in the catalogue, no inputs/ folder
    for path in (out / "catalogue").glob("*.parquet"):
        table = pq.read_table(path)
        pq.write_table(table.drop(["inputs_digest", "inputs_json"]), path)
    shutil.rmtree(out / "inputs")
    pd.testing.assert_frame_equal(rows(out), old_rows)
    cat = load_results(out, "SELECT run_id, inputs_digest, inputs_json FROM catalogue")
    assert len(cat) == 2 and cat["inputs_digest"].isna().all()
    assert load_results(out, "SELECT * FROM inputs").empty
    assert invoke(["report", str(out)]).code == 0
    assert "before input files were recorded" in one_error_line(
        invoke(["results", str(out), "--inputs", "my.p0000.r000"])
    )
    line = one_error_line(batch(exp, out))
    assert "stored without a record of their input files" in line and "--rerun-changed" in line
    assert batch(exp, out, "--rerun-changed").code == 0
    assert len(run_inputs(out, "my.p0000.r000")) == 3 + len(DATA_FILES)


def test_an_edited_data_file_counts_too(tmp_path, monkeypatch):
    # a stand-in for the data files scenarios will name (price paths, histories): the same mechanism
    monkeypatch.setitem(inputs.ROLES, "series", Role("series", "numbers", scenario_key=True))
    write_user_inputs(tmp_path, data={"series": ("series.txt", "1\n2\n")})
    exp = experiment(tmp_path, "my.toml")
    out = tmp_path / "store"
    assert run_batch(load_experiment(exp).runs(), out, workers=1, progress=False).completed == 2
    assert run_inputs(out, "my.p0000.r000")[-1].text() == "1\n2\n"
    (tmp_path / "series.txt").write_text("1\n3\n")
    with pytest.raises(InputError, match=r"series\.txt changed \(sha256 stored"):
        run_batch(load_experiment(exp).runs(), out, workers=1, progress=False)


def test_a_single_run_records_its_inputs_in_summary_json(tmp_path):
    path = write_user_inputs(tmp_path)
    out = tmp_path / "run"
    result = invoke(
        ["run", "--scenario", str(path), "--out", str(out), "--quarters", "2", "--participants", "300"]
        + ["--set", "n_employers=20", "--no-dashboard"]
    )
    assert result.code == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs_digest"] == scenarios.load(path).digest
    assert [(i["role"], i["name"]) for i in summary["inputs"]] == [
        ("scenario", str(path)),
        ("extends", str(tmp_path / "parent.toml")),
        ("extends", "baseline"),
        *((role, str(tmp_path / name)) for role, (name, _) in sorted(DATA_FILES.items())),
    ]
    first = summary["inputs"][0]
    assert first["sha256"] == inputs.digest_of(path.read_bytes()) and first["content"] == path.read_text()
    assert first["bytes"] == len(path.read_bytes())


def test_tuning_runs_of_an_edited_scenario_are_new_runs(tmp_path):
    path = write_user_inputs(tmp_path)

    def settings() -> RunSettings:
        return RunSettings(str(path), (0,), 2, 300, ("adoption_rate",), {"n_employers": 20})

    before = run_id("s", settings(), {"affinity_mean": 0.1}, 0)
    assert run_id("s", settings(), {"affinity_mean": 0.1}, 0) == before
    write_user_inputs(tmp_path, affinity_mean=2.5)
    assert run_id("s", settings(), {"affinity_mean": 0.1}, 0) != before


def test_rerun_changed_on_a_smaller_plan_leaves_no_run_of_the_old_file(sweep):
    folder, exp, out, _ = sweep
    write_user_inputs(folder, affinity_mean=2.5)
    trial = batch(exp, out, "--replicates", "1", "--rerun-changed")
    assert trial.code == 0, trial.stderr
    assert (
        "1 runs of changed input files re-run, 1 stored runs of the old files outside this plan removed"
        in (trial.stdout)
    )
    now = scenarios.load(folder / "my.toml").digest
    cat = load_results(out, "SELECT run_id, inputs_digest FROM catalogue")
    assert list(cat["run_id"]) == ["my.p0000.r000"] and set(cat["inputs_digest"]) == {now}
    full = batch(exp, out)
    assert full.code == 0 and "1 already stored, 1 completed" in full.stdout

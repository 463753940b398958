"""The batch store: damaged files are detected and redone, a second batch process is refused,
orphans from a crash are cleaned, and nothing is written outside --out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments.batch import store
from experiments.batch.runner import run_batch
from experiments.batch.spec import RunSpec, derive_seed
from experiments.batch.store import StoreLock, load_results
from model.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


def specs(n: int = 4, name: str = "s") -> list[RunSpec]:
    return [
        RunSpec(
            f"baseline.r{i}",
            "baseline",
            {"n_employers": 100},
            derive_seed(name, i),
            3,
            2000,
            ("adoption_rate", "price_index"),
        )
        for i in range(n)
    ]


def rows(path: Path) -> pd.DataFrame:
    return load_results(path).sort_values(["run_id", "quarter"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An undamaged store of four runs (one group file), and its rows."""
    out = tmp_path_factory.mktemp("ref") / "store"
    summary = run_batch(specs(), out, workers=1, progress=False)
    assert summary.completed == 4
    return out, rows(out)


def copy_store(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".batch.lock"))
    return dst


def test_a_truncated_results_file_is_detected_and_its_runs_redone(reference, tmp_path):
    src, expected = reference
    out = copy_store(src, tmp_path / "s")
    (victim,) = list((out / "runs").glob("*.parquet"))
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # as after a full disk
    with pytest.raises(InputError, match="run the same batch command again"):
        load_results(out)
    summary = run_batch(specs(), out, workers=1, progress=False)
    assert (summary.skipped, summary.completed, summary.redone) == (0, 4, 4)
    assert sorted(p.name for p in (out / "quarantine").iterdir()) == sorted(
        [f"runs-{victim.name}", f"catalogue-{victim.name}"]
    )
    pd.testing.assert_frame_equal(rows(out), expected)


def test_a_corrupt_byte_inside_a_file_is_caught_by_page_checksums(reference, tmp_path):
    src, expected = reference
    out = copy_store(src, tmp_path / "s")
    (victim,) = list((out / "runs").glob("*.parquet"))
    data = bytearray(victim.read_bytes())
    data[len(data) // 3] ^= 0xFF  # one flipped byte in a data page; the size is unchanged
    victim.write_bytes(bytes(data))
    state = store.scan(out, repair=False)
    assert state.damaged_runs and not state.completed
    summary = run_batch(specs(), out, workers=1, progress=False)
    assert summary.redone == 4
    pd.testing.assert_frame_equal(rows(out), expected)


def test_an_empty_catalogue_file_is_quarantined(reference, tmp_path):
    src, expected = reference
    out = copy_store(src, tmp_path / "s")
    (cat,) = list((out / "catalogue").glob("*.parquet"))
    cat.write_bytes(b"")
    summary = run_batch(specs(), out, workers=1, progress=False)
    assert summary.completed == 4
    pd.testing.assert_frame_equal(rows(out), expected)


def test_crash_leftovers_are_cleaned_and_nothing_is_duplicated(reference, tmp_path):
    src, expected = reference
    out = copy_store(src, tmp_path / "s")
    (group,) = list((out / "runs").glob("*.parquet"))
    # a results file renamed into place just before a crash, its catalogue never written
    (out / "runs" / "g-orphan.parquet").write_bytes(group.read_bytes())
    (out / "runs" / ".g-x.parquet.abc.tmp").write_bytes(b"half a file")
    assert load_results(out)["run_id"].value_counts().eq(4).all()  # the orphan is not visible
    summary = run_batch(specs(), out, workers=1, progress=False)
    assert summary.skipped == 4 and summary.completed == 0
    assert sorted(p.name for p in (out / "runs").iterdir()) == [group.name]
    pd.testing.assert_frame_equal(rows(out), expected)


def test_a_second_batch_process_on_the_same_folder_is_refused(reference, tmp_path):
    src, expected = reference
    out = copy_store(src, tmp_path / "s")
    exp = tmp_path / "e.toml"
    exp.write_text(
        "[experiment]\nreplicates = 2\nquarters = 2\nparticipants = 2000\n[parameters]\nn_employers = 100\n"
    )
    files_before = sorted(
        p.relative_to(out) for p in out.rglob("*") if p.is_file() and p.name != store.LOCK_NAME
    )
    with StoreLock(out):  # as a first batch process would hold it
        res = subprocess.run(
            [sys.executable, "-m", "cli.main", "batch", str(exp), "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300"},
        )
        assert res.returncode == 2 and "Traceback" not in res.stderr
        assert "another batch process (pid" in res.stderr and "use another --out" in res.stderr
        with pytest.raises(InputError, match="another batch process"):
            run_batch(specs(), out, workers=1, progress=False)
    assert (
        sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file() and p.name != store.LOCK_NAME)
        == files_before
    )
    pd.testing.assert_frame_equal(rows(out), expected)
    # once the first process is gone the folder is free again
    assert run_batch(specs(), out, workers=1, progress=False).skipped == 4


def test_a_run_id_stored_with_other_settings_is_refused(reference, tmp_path):
    src, _ = reference
    out = copy_store(src, tmp_path / "s")
    other = [
        RunSpec(s.run_id, s.scenario, s.params, s.seed + 1, s.quarters, s.participants, s.outputs)
        for s in specs()
    ]
    with pytest.raises(InputError, match="made with other settings"):
        run_batch(other, out, workers=1, progress=False)


def test_nothing_is_written_outside_the_store(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "s"
    out.mkdir()
    (out / "runs").symlink_to(outside)
    with pytest.raises(InputError, match="link"):
        run_batch(specs(1), out, workers=1, progress=False)
    assert list(outside.iterdir()) == []
    # run ids are data, never paths
    sneaky = [RunSpec("../../../escape", "baseline", {"n_employers": 100}, 1, 2, 2000, None)]
    out2 = tmp_path / "s2"
    assert run_batch(sneaky, out2, workers=1, progress=False).completed == 1
    written = [p for p in tmp_path.rglob("*.parquet")]
    assert written and all(out2 in p.parents for p in written)
    assert load_results(out2)["run_id"].iloc[0] == "../../../escape"


def test_an_out_path_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        run_batch(specs(1), f, workers=1, progress=False)
    with pytest.raises(InputError, match="run id appears twice"):
        run_batch(specs(1) * 2, tmp_path / "dup", workers=1, progress=False)
    assert not (tmp_path / "dup").exists()


def test_queries_over_the_store(reference):
    out, expected = reference
    n = load_results(out, "SELECT count(DISTINCT run_id) AS n, max(quarter) AS q FROM runs")
    assert (n["n"][0], n["q"][0]) == (4, 3)
    cat = load_results(out, "SELECT * FROM catalogue")
    assert set(cat["status"]) == {"ok"} and set(cat["rows"]) == {4}
    assert set(store.CATALOGUE_COLUMNS) <= set(cat.columns)
    with pytest.raises(InputError, match="query failed"):
        load_results(out, "SELECT nonsense FROM runs")
    with pytest.raises(InputError, match="not a batch store"):
        load_results(out / "runs")


def test_an_empty_store_gives_empty_tables(tmp_path):
    store.prepare(tmp_path / "empty")
    assert load_results(tmp_path / "empty").empty
    assert load_results(tmp_path / "empty", "SELECT * FROM catalogue").empty


def test_a_store_made_by_other_model_code_is_not_mixed(reference, tmp_path, monkeypatch):
    from experiments.batch import runner

    src, _ = reference
    out = copy_store(src, tmp_path / "s")
    cat = load_results(out, "SELECT DISTINCT code_version FROM catalogue")["code_version"]
    assert list(cat) == [runner.code_version()]
    monkeypatch.setattr(runner, "code_version", lambda: "0123456789abcdef")
    with pytest.raises(InputError, match="another version of the model code"):
        run_batch(specs(), out, workers=1, progress=False)

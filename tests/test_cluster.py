"""`batch --dask` on a cluster whose scheduler and workers do not have this project.

The scheduler and workers are separate `dask scheduler` / `dask worker` processes started from a
temporary folder, in a virtual environment built from uv.lock without the project
(tests/dask_processes.py). The client ships its checkout as a wheel; the store must equal the
local process pool's; a worker killed mid-batch loses and duplicates nothing; a worker running
other code, or another version of a library that sets the numbers, is refused in one line; a
user's scenario (and the files it extends and names) runs on workers that cannot see the files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from dask_processes import DaskProcesses, clean_env, worker_env
from user_inputs import user_file_names, write_user_inputs

from experiments.batch import worker_code
from experiments.batch.experiment_file import load_experiment
from experiments.batch.runner import code_version, run_batch
from experiments.batch.store import load_results, run_inputs

ROOT = Path(__file__).resolve().parent.parent

SMALL = """
[experiment]
name = "cluster_small"
scenarios = ["baseline", "no_401k"]
replicates = 3
quarters = 4
participants = 2000
outputs = ["adoption_rate", "cumulative_net_flow_usd", "price_index", "realized_vol", "moat_index"]

[parameters]
n_employers = 100
"""

# Runs of about half a second, enough of them that a kill lands with runs in flight and to come.
KILL = """
[experiment]
name = "cluster_kill"
scenarios = ["baseline"]
replicates = 24
quarters = 10
participants = 6000

[parameters]
n_employers = 200
"""


def write(folder: Path, text: str, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def rows(store: Path) -> pd.DataFrame:
    return load_results(store).sort_values(["run_id", "quarter"]).reset_index(drop=True)


def cli(*args: str, cwd: Path = ROOT, pythonpath: Path = ROOT, wait: bool = True):
    cmd = [sys.executable, "-m", "cli.main", *args]
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "COLUMNS": "400"}
    if wait:
        return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def venv() -> Path:
    return worker_env()


@pytest.fixture(scope="module")
def cluster(venv, tmp_path_factory):
    """A scheduler and two workers (separate processes, no project) run from a temporary folder."""
    with DaskProcesses(venv, tmp_path_factory.mktemp("cluster")) as procs:
        procs.start_scheduler()
        procs.start_workers(2)
        yield procs


def test_the_worker_environment_lacks_the_project(venv, tmp_path):
    res = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import experiments"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert res.returncode == 1 and "No module named 'experiments'" in res.stderr
    res = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import mesa, distributed, duckdb; print(mesa.__version__)"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr


def test_batch_on_workers_without_the_project_equals_the_local_pool(cluster, tmp_path):
    from distributed import Client

    from experiments.batch.worker_code import worker_environment

    exp_file = write(tmp_path, SMALL, "small.toml")
    local = run_batch(load_experiment(exp_file).runs(), tmp_path / "pool", workers=2, progress=False)
    assert local.completed == 6
    res = cli(
        "batch", str(exp_file), "--out", str(tmp_path / "dask"), "--dask", cluster.address, "--no-progress"
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "6 completed, 0 failed" in res.stdout
    pd.testing.assert_frame_equal(rows(tmp_path / "pool"), rows(tmp_path / "dask"))
    # the runs ran in the worker processes, from the code unpacked in their own scratch folders
    cat = load_results(tmp_path / "dask", "SELECT worker, code_version FROM catalogue")
    worker_pids = {int(w.rsplit(":", 1)[1]) for w in cat["worker"]}
    assert os.getpid() not in worker_pids and set(cat["code_version"]) == {code_version()}
    with Client(cluster.address, timeout="20s") as client:
        envs = client.run(worker_environment)
    assert len(envs) == 2
    for env in envs.values():
        assert env["code_version"] == code_version()
        assert env["loaded_from"].startswith(str(cluster.cwd)) and "crypto401k-code" in env["loaded_from"]


def test_killing_a_worker_mid_batch_loses_and_duplicates_nothing(venv, tmp_path):
    exp_file = write(tmp_path, KILL, "kill.toml")
    n = 24
    store = tmp_path / "dask"
    with DaskProcesses(venv, tmp_path / "procs") as procs:
        address = procs.start_scheduler()
        procs.start_workers(2)
        batch = cli(
            "batch", str(exp_file), "--out", str(store), "--dask", address, "--no-progress", wait=False
        )
        deadline = time.time() + 300
        while time.time() < deadline and not any((store / "catalogue").glob("*.parquet")):
            assert batch.poll() is None, batch.communicate()
            time.sleep(0.05)
        procs.kill_worker(0)  # SIGKILL the worker and its nanny, mid-batch
        running_at_kill = batch.poll() is None
        stored_at_kill = len(load_results(store, "SELECT run_id FROM catalogue WHERE status = 'ok'"))
        out, err = batch.communicate(timeout=600)
    assert running_at_kill and 1 <= stored_at_kill < n, "the kill must land mid-batch"
    assert batch.returncode == 0, err[-3000:]
    assert f"{n} completed, 0 failed" in out
    got = rows(store)
    assert got["run_id"].nunique() == n and got.groupby("run_id").size().eq(11).all()
    cat = load_results(store, "SELECT run_id, worker FROM catalogue")
    assert cat["run_id"].is_unique and len(cat) == n
    reference = run_batch(load_experiment(exp_file).runs(), tmp_path / "pool", workers=2, progress=False)
    assert reference.completed == n
    pd.testing.assert_frame_equal(got, rows(tmp_path / "pool"))


def copy_checkout(dest: Path) -> Path:
    """A copy of the checkout's sources (what a wheel is built from) at `dest`."""
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "uv.lock"):
        shutil.copy2(ROOT / name, dest / name)
    for pkg in worker_code.PACKAGES:
        shutil.copytree(ROOT / pkg, dest / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_workers_running_other_code_are_refused_in_one_line(cluster, tmp_path):
    exp_file = write(tmp_path, SMALL, "small.toml")
    # the workers import this checkout's code (a first batch)
    first = run_batch(
        load_experiment(exp_file).runs()[:1], tmp_path / "first", dask_address=cluster.address, progress=False
    )
    assert first.completed + first.skipped == 1
    # an edited checkout: another model code version
    other = copy_checkout(tmp_path / "other")
    with open(other / "model" / "model.py", "a") as fh:
        fh.write("\n# an edit that changes the model code version\n")
    res = cli(
        "batch",
        str(exp_file),
        "--out",
        str(tmp_path / "refused"),
        "--dask",
        cluster.address,
        "--no-progress",
        cwd=other,
        pythonpath=other,
    )
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "2 of 2 Dask workers differ from this checkout" in res.stderr
    assert f"model code {code_version()}" in res.stderr and "restart" in res.stderr
    assert not any((tmp_path / "refused" / "runs").glob("*.parquet"))
    # the refused client changed nothing: this checkout still runs on the same workers
    again = run_batch(
        load_experiment(exp_file).runs(), tmp_path / "again", dask_address=cluster.address, progress=False
    )
    assert again.completed == 6 and again.failed == 0


def test_a_worker_with_other_libraries_or_no_code_is_named():
    from experiments.batch.cluster import client_environment, mismatches
    from experiments.batch.worker_code import NUMERIC_LIBRARIES

    # every library whose version can change the numbers is compared
    assert {"numpy", "scipy", "networkx", "mesa", "pandas", "pyarrow"} <= set(NUMERIC_LIBRARIES)
    mine = client_environment("abc123")
    assert set(mine["packages"]) == set(NUMERIC_LIBRARIES) and all(mine["packages"].values())
    same = {**mine, "loaded_from": "/w/crypto401k-code/x", "error": None, "host": "n1"}
    other_numpy = {**same, "packages": {**mine["packages"], "numpy": "1.0.0", "scipy": "1.0.0"}}
    no_scipy = {**same, "packages": {**mine["packages"], "scipy": None}}
    broken = {**same, "code_version": None, "error": "ModuleNotFoundError: No module named 'experiments'"}
    found = mismatches(
        mine, {"tcp://a:1": same, "tcp://b:2": other_numpy, "tcp://c:3": broken, "tcp://d:4": no_scipy}
    )
    assert len(found) == 3
    # the first difference only, in the order of NUMERIC_LIBRARIES
    assert found[0] == f"tcp://b:2: numpy 1.0.0 but the client has {mine['packages']['numpy']}"
    assert found[1].startswith("tcp://c:3: cannot import the shipped code (ModuleNotFoundError")
    assert found[2] == f"tcp://d:4: scipy not installed but the client has {mine['packages']['scipy']}"
    assert mismatches(mine, {"tcp://a:1": same}) == []


def test_a_worker_with_another_scipy_is_refused_in_one_line(venv, tmp_path):
    # The check reads each library's installed version from its package metadata, as Python's
    # importlib.metadata finds it first on the worker's path. This worker's environment reports
    # scipy 1.0.0 (a distribution record placed first on its path), without downloading a second
    # scipy for the test.
    from importlib.metadata import version

    overlay = tmp_path / "overlay" / "scipy-1.0.0.dist-info"
    overlay.mkdir(parents=True)
    (overlay / "METADATA").write_text("Metadata-Version: 2.1\nName: scipy\nVersion: 1.0.0\n")
    from model.errors import InputError

    runs = load_experiment(write(tmp_path, SMALL, "small.toml")).runs()
    with DaskProcesses(venv, tmp_path / "procs") as procs:
        address = procs.start_scheduler()
        procs.start_workers(1, env={"PYTHONPATH": str(overlay.parent)})
        with pytest.raises(InputError) as refused:  # the command line prints it as its one line
            run_batch(runs, tmp_path / "refused", dask_address=address, progress=False)
    line = str(refused.value)
    assert "\n" not in line and line.startswith(
        "'--dask': 1 of 1 Dask workers differ from this checkout: tcp://"
    )
    assert f": scipy 1.0.0 but the client has {version('scipy')} (allowed:" in line
    assert not (tmp_path / "refused").exists()  # refused before any folder is made


def test_a_user_scenario_runs_on_workers_that_cannot_see_its_files(cluster, tmp_path, monkeypatch):
    # The researcher's files (tests/user_inputs.py: a scenario, the user file it extends, and every
    # data file a scenario can name) sit in the client's folder, named by relative paths; the
    # workers run in another folder, and the files are deleted once the runs are planned.
    client_dir = tmp_path / "client"
    write_user_inputs(client_dir)
    (client_dir / "exp.toml").write_text(
        textwrap.dedent(SMALL).replace('["baseline", "no_401k"]', '["my.toml"]')
    )
    monkeypatch.chdir(client_dir)
    runs = load_experiment("exp.toml").runs()
    assert runs[0].scenario == "my.toml"  # a path only the client's folder resolves
    for name in user_file_names():
        (client_dir / name).unlink()
    on_dask = run_batch(runs, tmp_path / "dask", dask_address=cluster.address, progress=False)
    assert (on_dask.completed, on_dask.failed) == (3, 0), on_dask.failures
    workers = load_results(tmp_path / "dask", "SELECT worker FROM catalogue")["worker"]
    assert os.getpid() not in {int(w.rsplit(":", 1)[1]) for w in workers}
    local = run_batch(runs, tmp_path / "local", workers=1, progress=False)
    assert local.completed == 3
    pd.testing.assert_frame_equal(rows(tmp_path / "dask"), rows(tmp_path / "local"))
    recorded = run_inputs(tmp_path / "dask", runs[0].run_id)
    assert [f.digest for f in recorded] == [f.digest for f in runs[0].loaded.inputs]
    assert all(f.content is not None for f in recorded)

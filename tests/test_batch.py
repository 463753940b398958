"""Batches: experiment files, the process-pool and Dask runners, failures, resume after SIGKILL,
and the model under mesa.batch_run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli.main import app
from experiments.batch.experiment_file import load_experiment
from experiments.batch.runner import execute_run, run_batch
from experiments.batch.spec import RunSpec, derive_seed
from experiments.batch.store import load_results
from model import parameters as P
from model.errors import InputError

ROOT = Path(__file__).resolve().parent.parent

# A --quick-sized variant of the shipped volatility_dampening experiment.
QUICK = """
[experiment]
name = "quick_pairs"
scenarios = ["baseline", "no_401k"]
replicates = 2
quarters = 4
participants = 2000
outputs = ["adoption_rate", "cumulative_net_flow_usd", "cumulative_invested_usd", "price_index",
           "flow_price_impact", "realized_vol", "return_vol_4q", "max_drawdown", "channel_open"]

[parameters]
n_employers = 100
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def small_specs(n: int, quarters: int = 4, name: str = "t") -> list[RunSpec]:
    return [
        RunSpec(
            run_id=f"baseline.r{i:03d}",
            scenario="baseline",
            params={"n_employers": 100},
            seed=derive_seed(name, i),
            quarters=quarters,
            participants=2000,
            outputs=None,
        )
        for i in range(n)
    ]


def sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["run_id", "quarter"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def pool_store(tmp_path_factory):
    """The quick experiment run on a local pool of 2 processes."""
    tmp = tmp_path_factory.mktemp("pool")
    exp = load_experiment(write(tmp, QUICK))
    summary = run_batch(exp.runs(), tmp / "store", workers=2, progress=False)
    return exp, summary, tmp / "store"


def test_process_pool_batch_stores_every_run_as_a_direct_run_would(pool_store):
    exp, summary, store = pool_store
    assert (summary.planned, summary.completed, summary.failed) == (4, 4, 0)
    rows = load_results(store)
    assert sorted(rows["run_id"].unique()) == [
        "baseline.p0000.r000",
        "baseline.p0000.r001",
        "no_401k.p0000.r000",
        "no_401k.p0000.r001",
    ]
    assert rows.groupby("run_id").size().eq(5).all()  # quarters 0..4, once each
    assert {"adoption_rate", "cumulative_net_flow_usd", "param_n_employers"} <= set(rows.columns)
    assert "sales_usd" not in rows.columns  # only the kept outputs
    # the store holds exactly what a direct run of the same spec gives
    spec = exp.runs()[1]
    direct = execute_run(spec)
    stored = sorted_rows(rows[rows["run_id"] == spec.run_id])[direct.columns]
    pd.testing.assert_frame_equal(stored, direct, check_dtype=False)
    # common random numbers: replicate r has one seed in both scenarios
    seeds = rows.groupby("run_id")["seed"].first()
    assert seeds["baseline.p0000.r000"] == seeds["no_401k.p0000.r000"]
    assert seeds["baseline.p0000.r000"] != seeds["baseline.p0000.r001"]
    # without the 401(k) channel there is no flow
    assert rows.loc[rows["scenario"] == "no_401k", "cumulative_net_flow_usd"].eq(0).all()


def test_dask_local_cluster_gives_identical_results(pool_store, tmp_path):
    from distributed import LocalCluster

    exp, _, pool_dir = pool_store
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        summary = run_batch(
            exp.runs(), tmp_path / "dask", dask_address=cluster.scheduler_address, progress=False
        )
    assert summary.completed == 4 and summary.failed == 0
    pool_rows, dask_rows = sorted_rows(load_results(pool_dir)), sorted_rows(load_results(tmp_path / "dask"))
    pd.testing.assert_frame_equal(pool_rows, dask_rows)
    # the workers really were other processes
    workers = load_results(tmp_path / "dask", "SELECT DISTINCT worker FROM catalogue")["worker"]
    assert not any(w.endswith(f":{os.getpid()}") for w in workers)


def test_rerunning_a_finished_batch_runs_nothing(pool_store):
    exp, _, store = pool_store
    before = load_results(store)
    summary = run_batch(exp.runs(), store, workers=1, progress=False)
    assert (summary.skipped, summary.completed) == (4, 0)
    pd.testing.assert_frame_equal(sorted_rows(load_results(store)), sorted_rows(before))


def test_cli_batch_results_and_report(pool_store, tmp_path):
    exp, _, store = pool_store
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "results",
            str(store),
            "--sql",
            "SELECT scenario, count(DISTINCT run_id) AS n FROM runs GROUP BY 1 ORDER BY 1",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "baseline" in res.output and "no_401k" in res.output
    csv = tmp_path / "q.csv"
    res = runner.invoke(app, ["results", str(store), "--sql", "SELECT * FROM catalogue", "--csv", str(csv)])
    assert res.exit_code == 0 and len(pd.read_csv(csv)) == 4
    report_dir = tmp_path / "report"
    res = runner.invoke(app, ["report", str(store), "--report-dir", str(report_dir)])
    assert res.exit_code == 0, res.output
    for name in ("fan_adoption_rate.png", "fan_cumulative_invested_usd.png", "fan_flow_price_impact.png"):
        assert (report_dir / name).read_bytes()[:4] == b"\x89PNG"
    summary = (report_dir / "summary.md").read_text()
    assert "each arm against no_401k on the same random numbers" in summary
    assert "New money committed against the static seed claims" in summary
    head = pd.read_csv(report_dir / "headline.csv")
    final = load_results(
        store, "SELECT scenario, median(cumulative_invested_usd) AS m FROM runs WHERE quarter = 4 GROUP BY 1"
    ).set_index("scenario")["m"]
    row = head[(head.arm == "baseline") & (head.metric == "cumulative_invested_usd")]
    assert row["median"].iloc[0] == pytest.approx(final["baseline"])
    vol = pd.read_csv(report_dir / "volatility.csv")
    assert set(vol["metric"]) == {"return_vol_4q", "max_drawdown"} and (vol["pairs"] == 2).all()
    # moat_index is reported only when the store has it
    assert ("fan_moat_index.png" in os.listdir(report_dir)) == ("moat_index" in load_results(store).columns)


def test_a_failing_run_is_recorded_and_the_batch_goes_on(tmp_path):
    specs = small_specs(3)
    bad = RunSpec("baseline.bad", "baseline", {"flow_multiplier": 1e9}, 7, 4, 2000, None)
    summary = run_batch([specs[0], bad, *specs[1:]], tmp_path / "s", workers=1, progress=False)
    assert (summary.completed, summary.failed) == (3, 1)
    cat = load_results(tmp_path / "s", "SELECT * FROM catalogue ORDER BY run_id")
    failed = cat[cat.status == "failed"].iloc[0]
    assert failed["run_id"] == "baseline.bad" and "flow_multiplier" in failed["error"]
    assert '"flow_multiplier": 1000000000.0' in failed["params_json"]
    assert "Traceback" in failed["traceback"]
    assert set(load_results(tmp_path / "s")["run_id"]) == {s.run_id for s in specs}
    # a second call retries the failure without duplicating its record
    again = run_batch([specs[0], bad, *specs[1:]], tmp_path / "s", workers=1, progress=False)
    assert (again.skipped, again.failed) == (3, 1)
    assert load_results(tmp_path / "s", "SELECT count(*) AS n FROM catalogue")["n"][0] == 4


KILL_SCRIPT = """
import sys
from pathlib import Path
from experiments.batch import runner
from experiments.batch.spec import RunSpec, derive_seed
runner.FLUSH_SECONDS = 0.0  # write every run at once, so the kill lands between many writes
specs = [RunSpec(f"baseline.r{i:03d}", "baseline", {"n_employers": 100}, derive_seed("kill", i),
                 6, 2000, None) for i in range(int(sys.argv[2]))]
if __name__ == "__main__":
    runner.run_batch(specs, Path(sys.argv[1]), workers=1, progress=False)
"""


def test_resume_after_sigkill_loses_and_duplicates_nothing(tmp_path):
    n = 16
    script = write(tmp_path, KILL_SCRIPT, "kill.py")
    store = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(store), str(n)],
        cwd=ROOT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list((store / "catalogue").glob("*.parquet"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # a real SIGKILL, mid-batch
    proc.wait()
    stored_before = len(list((store / "catalogue").glob("*.parquet")))
    assert 2 <= stored_before < n, "the kill must land mid-batch"

    specs = [
        RunSpec(f"baseline.r{i:03d}", "baseline", {"n_employers": 100}, derive_seed("kill", i), 6, 2000, None)
        for i in range(n)
    ]
    resumed = run_batch(specs, store, workers=1, progress=False)
    assert resumed.skipped >= 2 and resumed.skipped + resumed.completed == n
    rows = load_results(store)
    assert rows.groupby("run_id").size().eq(7).all() and rows["run_id"].nunique() == n
    cat = load_results(store, "SELECT run_id FROM catalogue")
    assert cat["run_id"].is_unique and len(cat) == n
    reference = run_batch(specs, tmp_path / "uninterrupted", workers=1, progress=False)
    assert reference.completed == n
    pd.testing.assert_frame_equal(sorted_rows(rows), sorted_rows(load_results(tmp_path / "uninterrupted")))


# --- experiment files
def test_experiment_grid_sample_and_seeds(tmp_path):
    exp = load_experiment(
        write(
            tmp_path,
            """
        [experiment]
        name = "design"
        scenarios = ["baseline", "crash"]
        replicates = 3
        [grid]
        channel_401k = [true, false]
        [sample]
        method = "lhs"
        points = 8
        seed = 4
        parameters = ["imitation_strength", "social_degree"]
        [sample.ranges]
        flow_multiplier = [3.0, 8.0]
    """,
        )
    )
    runs = exp.runs()
    assert len(runs) == 2 * (2 * 8) * 3
    assert len({r.run_id for r in runs}) == len(runs)
    assert {r.quarters for r in runs} == {40}  # the scenarios' own run length
    fm = np.array([p["flow_multiplier"] for p in exp.points[:8]])
    # Latin hypercube: one point in each eighth of the range
    assert sorted(np.floor((fm - 3.0) / 5.0 * 8).astype(int)) == list(range(8))
    imit = P.PARAMETERS["imitation_strength"]
    assert all(imit.low <= p["imitation_strength"] <= imit.high for p in exp.points)
    assert all(isinstance(p["social_degree"], int) for p in exp.points)
    assert load_experiment(tmp_path / "exp.toml").points == exp.points  # the sampler is seeded
    # common random numbers: the seed depends on the replicate only
    by_rep = {}
    for r in runs:
        by_rep.setdefault(r.run_id.rsplit(".", 1)[1], set()).add(r.seed)
    assert all(len(s) == 1 for s in by_rep.values()) and len(by_rep) == 3


def test_seeds_do_not_depend_on_the_process():
    code = "from experiments.batch.spec import derive_seed; print(derive_seed('e', 'r1'))"
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": h, "PYTHONPATH": str(ROOT)},
        ).stdout.strip()
        for h in ("1", "2")
    }
    assert outs == {str(derive_seed("e", "r1"))}
    assert 0 <= derive_seed("e", "r1") < 2**63 and derive_seed("e", "r1") != derive_seed("e", "r2")


def test_sobol_and_uncommon_random_numbers(tmp_path):
    exp = load_experiment(
        write(
            tmp_path,
            """
        [experiment]
        scenarios = ["baseline", "no_401k"]
        replicates = 2
        quarters = 3
        common_random_numbers = false
        [sample]
        method = "sobol"
        points = 4
        parameters = ["flow_multiplier"]
    """,
        )
    )
    runs = exp.runs()
    assert exp.name == "exp" and len(runs) == 16 and {r.quarters for r in runs} == {3}
    assert len({r.seed for r in runs}) == 16


BAD_FILES = [
    ("[experimnt]\nname='x'", "experimnt", "did you mean 'experiment'"),
    ("[experiment]\nreplicate = 3", "experiment.replicate", "allowed:"),
    ("[experiment]\nreplicates = 0", "experiment.replicates", "an integer from 1 to"),
    ("[experiment]\nreplicates = 'ten'", "experiment.replicates", "an integer from 1 to"),
    ("[experiment]\nreplicates = true", "experiment.replicates", "an integer from 1 to"),
    ("[experiment]\nscenarios = ['basline']", "experiment.scenarios", "did you mean 'baseline'"),
    ("[experiment]\nscenarios = 'baseline'", "experiment.scenarios", "a non-empty list"),
    ("[experiment]\nquarters = 9999", "experiment.quarters", "an integer from 1 to 400"),
    ("[experiment]\nparticipants = 0", "n_participants", "an integer from 1"),
    ("[experiment]\noutputs = ['adoption']", "experiment.outputs", "adoption_rate"),
    ("[experiment]\ncommon_random_numbers = 'yes'", "common_random_numbers", "true or false"),
    (
        "[experiment]\n[parameters]\nflow_multipler = 2.0",
        "parameters.flow_multipler",
        "did you mean 'flow_multiplier'",
    ),
    (
        "[experiment]\n[grid]\nflow_multiplier = [1.0, 500.0]",
        "grid.flow_multiplier",
        "a number from 0.5 to 25",
    ),
    ("[experiment]\n[grid]\nflow_multiplier = 3.0", "grid.flow_multiplier", "a list"),
    (
        "[experiment]\n[sample]\nmethod = 'random'\npoints = 4\nparameters = ['flow_multiplier']",
        "sample.method",
        "lhs, sobol",
    ),
    (
        "[experiment]\n[sample]\nmethod = 'sobol'\npoints = 6\nparameters = ['flow_multiplier']",
        "sample.points",
        "a power of 2",
    ),
    ("[experiment]\n[sample]\npoints = 4\nparameters = ['channel_401k']", "sample.channel_401k", "[grid]"),
    (
        "[experiment]\n[sample]\npoints = 4\n[sample.ranges]\nflow_multiplier = [8.0, 3.0]",
        "sample.ranges.flow_multiplier",
        "low < high",
    ),
    (
        "[experiment]\n[sample]\npoints = 4\n[sample.ranges]\nflow_multiplier = [3.0, 900.0]",
        "sample.ranges.flow_multiplier",
        "a number from 0.5 to 25",
    ),
    ("[experiment]\n[sample]\npoints = 4", "sample.parameters", "declared numeric parameters"),
    (
        "[experiment]\n[parameters]\nflow_multiplier = 2.0\n[grid]\nflow_multiplier = [3.0]",
        "flow_multiplier",
        "each parameter in one place",
    ),
    ("[experiment\n", None, "not valid TOML"),
    ("", None, "file is empty"),
    ("[parameters]\nflow_multiplier = 2.0", "experiment", "[experiment] with name"),
]


@pytest.mark.parametrize("text,key,allowed", BAD_FILES)
def test_malformed_experiment_files_name_the_key_and_the_allowed_values(tmp_path, text, key, allowed):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_experiment(path)
    message = str(err.value)
    assert str(path) in message and allowed in message
    if key is not None:
        assert f"'{key}'" in message or key in message


def test_cli_refuses_a_malformed_file_in_one_line_and_writes_nothing(tmp_path):
    bad = write(tmp_path, "[experiment]\nreplicates = -1\n", "bad.toml")
    res = subprocess.run(
        [sys.executable, "-m", "cli.main", "batch", str(bad), "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300"},
    )
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "experiment.replicates" in res.stderr and "an integer from 1 to" in res.stderr
    assert not (tmp_path / "out").exists()


def test_shipped_experiments_load(tmp_path):
    names = ("flows_vs_seed_claims", "volatility_dampening", "moat_resilience", "retirement_policy")
    for name in names:
        exp = load_experiment(ROOT / "experiments" / f"{name}.toml")
        assert exp.name == name and exp.common_random_numbers
        assert exp.replicates >= 385  # every share of runs within +-5 points (95% Wilson interval)
    flows = load_experiment(ROOT / "experiments" / "flows_vs_seed_claims.toml")
    assert {"static_1pct", "static_5pct", "baseline"} <= set(flows.scenarios)
    vol = load_experiment(ROOT / "experiments" / "volatility_dampening.toml")
    assert "no_401k" in vol.scenarios and "baseline" in vol.scenarios
    moat = load_experiment(ROOT / "experiments" / "moat_resilience.toml")
    assert {"baseline", "crash", "fraud_scandal", "hostile_turn"} <= set(moat.scenarios)
    assert {run.params.get("exposure_in_politics") for run in moat.runs()} == {True, False}


def test_model_runs_under_mesa_batch_run():
    import mesa

    from model.model import Crypto401kModel

    results = mesa.batch_run(
        Crypto401kModel,
        {"n_participants": 2000, "n_employers": 100},
        rng=[1],
        max_steps=4,
        number_processes=1,
        display_progress=False,
    )
    frame = pd.DataFrame(results)
    assert frame["Step"].max() == 4 and "adoption_rate" in frame.columns
    assert (frame["n_participants"] == 2000).all()
    # the same seed through our own runner gives the same quarter-4 values
    spec = RunSpec("m", "baseline", {"n_employers": 100}, 1, 4, 2000, None)
    ours = execute_run(spec).set_index("quarter")
    last = frame[frame["Step"] == 4].iloc[-1]
    assert last["adoption_rate"] == pytest.approx(ours.loc[4, "adoption_rate"])
    assert last["price_index"] == pytest.approx(ours.loc[4, "price_index"])

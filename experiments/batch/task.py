"""One run as a worker executes it, and the fingerprint of the code that computes it.

This module is the batch engine's leaf: the runner (experiments/batch/runner.py), the Dask engine
(cluster.py) and the code shipped to Dask workers (worker_code.py, which names this module in a
string because it may not import the project) all use it, and none of them imports another
to reach it. It imports only the run's spec and the model.

* `execute_run(spec)`: one run's quarters table, from the scenario the spec carries (no file
  is read here: a worker never needs the client's file system);
* `run_task(spec)`: execute_run with any exception turned into a failure record, and the
  record of the run (settings, input digests, worker, timing, code version);
* `run_plain(plain)`: run_task on a spec sent as plain values (`RunSpec.to_plain`), what a Dask
  task calls;
* `code_version()`: the fingerprint of the code a run's numbers depend on.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import time
import traceback
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.batch.spec import RunSpec

ROOT = Path(__file__).resolve().parents[2]


def execute_run(spec: RunSpec) -> pd.DataFrame:
    """One run's quarters table (quarter 0 to spec.quarters) with identifying columns added.

    Columns: run_id, scenario (the scenario's name), seed, draw (point or posterior: how the
    parameters were chosen), param_<name> for every override in spec.params, then the kept
    outputs (`quarter` and `date` always).
    """
    from experiments.single_run import simulate

    model, table = simulate(spec.loaded, quarters=spec.quarters, seed=spec.seed, overrides=spec.overrides())
    if spec.outputs is not None:
        missing = [o for o in spec.outputs if o not in table.columns]
        if missing:
            raise KeyError(f"outputs not produced by the model: {missing}")
        keep = ["quarter", "date"] + [o for o in spec.outputs if o not in ("quarter", "date")]
        table = table[keep]
    ids = {"run_id": spec.run_id, "scenario": model.scenario_name, "seed": spec.seed, "draw": spec.draw}
    ids.update({f"param_{k}": v for k, v in sorted(spec.params.items())})
    head = pd.DataFrame({k: [v] * len(table) for k, v in ids.items()})
    return pd.concat([head, table.reset_index(drop=True)], axis=1)


def run_task(spec: RunSpec) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """execute_run with any exception turned into a failure record (runs in a worker)."""
    started = time.time()
    record: dict[str, Any] = {
        **spec.as_record(),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "started_at": stamp(started),
        "code_version": code_version(),
    }
    try:
        frame = execute_run(spec)
        record.update(status="ok", error=None, traceback=None)
    except Exception as exc:  # the batch goes on; the record says what happened
        frame = None
        record.update(
            status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(limit=20)
        )
    finished = time.time()
    record.update(finished_at=stamp(finished), duration_s=round(finished - started, 4))
    return frame, record


def run_plain(plain: dict[str, Any]) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """run_task of the spec `RunSpec.to_plain` described (a Dask worker's task)."""
    return run_task(RunSpec.from_plain(plain))


def failure_record(spec: RunSpec, error: str) -> dict[str, Any]:
    """The record of a run that failed outside run_task (e.g. its worker died), made by the client."""
    now = stamp(time.time())
    return {
        **spec.as_record(),
        "status": "failed",
        "error": error,
        "traceback": None,
        "started_at": now,
        "finished_at": now,
        "duration_s": 0.0,
        "worker": None,
        "code_version": code_version(),
    }


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A fingerprint of the code and shipped scenario files that determine a run's numbers.

    Stored with every run, so a resumed batch never mixes results of two model versions. (A
    user's own scenario and data files are identified by their content instead: model/inputs.py.)
    """
    digest = hashlib.sha256()
    files = sorted(
        [
            *ROOT.glob("model/**/*.py"),
            *ROOT.glob("agents/**/*.py"),
            *ROOT.glob("model/scenarios/*.toml"),
            ROOT / "experiments" / "single_run.py",
            ROOT / "experiments" / "batch" / "task.py",
        ]
    )
    for f in files:
        digest.update(f.relative_to(ROOT).as_posix().encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def stamp(t: float) -> str:
    """A local time stamp with milliseconds, as the catalogue stores it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t)) + f".{int(t % 1 * 1000):03d}"

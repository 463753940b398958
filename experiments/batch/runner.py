"""The batch runner: executes RunSpecs on a local process pool or a Dask cluster, resumably.

`run_batch` locks the store folder, repairs it (see store.scan), skips runs already stored,
and streams each finished run to the store. Only a bounded window of runs is in flight and
only a small group of finished runs is buffered, so the runner's memory does not grow with
the number of runs (unlike mesa.batch_run, which returns every result in one list).

A run that raises is recorded in the catalogue with its error and settings; the batch goes
on. Failed runs are tried again when the same batch is run again.

Inputs: a run is what it was given. Each spec carries its scenario with the content of every
file it was built from (model/inputs.py); the store records each distinct input file once
(store.write_inputs) and every run's input digests. Resuming with a planned run whose stored
twin came from other input files (an edited scenario file, an edited parent it extends) is
refused in one line naming the file, unless `rerun_changed` asks to re-run those runs.

What a worker runs lives in experiments/batch/task.py (the engine's leaf): this module, the
Dask engine (cluster.py) and the code shipped to Dask workers (worker_code.py) import it, and
only this module imports the Dask engine.

Stopping: local worker processes ignore Ctrl-C (the terminal sends it to the whole process
group, and `uv run` forwards it once more) and die with their parent; on an interrupt the
runner writes the runs already finished, kills the workers and re-raises at once, instead of
waiting for the runs in flight.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.batch import store
from experiments.batch.spec import RunSpec
from experiments.batch.task import code_version, execute_run, failure_record, run_task
from model import inputs
from model.errors import InputError

__all__ = ["BatchSummary", "code_version", "execute_run", "run_batch"]

GROUP_SIZE = 16  # runs per results file at most
FLUSH_SECONDS = 2.0  # a finished run waits at most this long before it is written


@dataclass
class BatchSummary:
    """What a call to run_batch did."""

    out_dir: Path
    planned: int
    skipped: int = 0  # already in the store
    completed: int = 0  # completed by this call
    failed: int = 0  # raised in this call
    redone: int = 0  # runs found damaged in the store and redone
    rerun: int = 0  # stored runs of changed input files re-run (rerun_changed=True)
    removed: int = 0  # stored runs of changed input files outside this plan, removed (rerun_changed=True)
    elapsed_s: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (run_id, error)

    @property
    def ok(self) -> bool:
        return self.failed == 0


# --- engines: submit a spec, wait for some to finish
class _InProcess:
    """One worker: runs in this process (no pool start-up; used for workers=1)."""

    name = "in-process"

    def __init__(self) -> None:
        self.queue: deque = deque()

    def submit(self, spec: RunSpec) -> Any:
        self.queue.append(spec)
        return spec.run_id

    def wait(self, handles: list, timeout: float) -> list[tuple[Any, tuple]]:
        spec = self.queue.popleft()
        return [(spec.run_id, run_task(spec.for_worker()))]

    def close(self, cancel: bool = False) -> None:
        self.queue.clear()


def worker_init() -> None:
    """In each local worker (the batch runner's and the calibration's): ignore Ctrl-C (the parent decides) and die when the parent dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # Linux: SIGKILL this worker when its parent process ends, however it ends
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


class _LocalPool:
    """A local process pool ('spawn' start: no state copied from the parent, as in mesa)."""

    def __init__(self, workers: int):
        self.name = f"process pool ({workers} workers)"
        self.pool = cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=worker_init
        )

    def submit(self, spec: RunSpec) -> Any:
        # Workers are started by submit. SIGINT is blocked meanwhile, so a new worker starts with
        # it blocked (the mask is inherited) until worker_init ignores it: a Ctrl-C during its
        # start-up cannot print a traceback. A Ctrl-C that arrives meanwhile is delivered after.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return self.pool.submit(run_task, spec.for_worker())
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def wait(self, handles: list, timeout: float) -> list[tuple[Any, tuple]]:
        done, _ = cf.wait(handles, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return [(h, h.result()) for h in done]

    def close(self, cancel: bool = False) -> None:
        if cancel:  # stop now: the runs in flight are lost anyway and would only delay the exit
            for proc in list((getattr(self.pool, "_processes", None) or {}).values()):
                proc.kill()
        self.pool.shutdown(wait=True, cancel_futures=cancel)


def _engine(workers: int | None, dask_address: str | None):
    if dask_address:
        from experiments.batch.cluster import DaskEngine  # ships the code to the workers first

        return DaskEngine(dask_address)
    n = workers or len(os.sched_getaffinity(0))
    if n < 1:
        raise InputError(f"{n} workers", key="--workers", allowed="an integer of at least 1")
    return _InProcess() if n == 1 else _LocalPool(n)


def run_batch(
    runs: list[RunSpec],
    out_dir: Path,
    *,
    workers: int | None = None,
    dask_address: str | None = None,
    progress: bool = True,
    rerun_changed: bool = False,
) -> BatchSummary:
    """Run every spec not already in the store at `out_dir`, streaming results to it.

    workers: local processes (None: all cores); ignored with dask_address (runs go to the
    Dask scheduler there). Raises InputError before any run if run ids repeat, if the folder
    is locked by another batch, or if the folder holds a run id made with other settings or
    code. A stored run whose input files differ from the planned run's (model/inputs.py) is
    refused too (one line naming the first such file), unless `rerun_changed`: then those
    stored runs are removed and run again, and stored runs of the same scenarios made from
    other versions of their files that this call does not plan (e.g. replicates beyond a
    smaller --replicates) are removed too, so the store never mixes versions. Interrupting (Ctrl-C) writes what has finished and
    re-raises KeyboardInterrupt; running the same call again resumes.
    """
    t0 = time.time()
    seen: set[str] = set()
    for spec in runs:
        if spec.run_id in seen:
            raise InputError("run id appears twice in the batch", key=spec.run_id)
        seen.add(spec.run_id)
    # The engine first: an unreachable Dask scheduler is reported before any folder is created.
    engine = _engine(workers, dask_address)
    try:
        root = store.prepare(out_dir)
        with store.StoreLock(root):
            summary = _run(runs, root, engine, workers, dask_address, progress, rerun_changed, t0)
    except BaseException:
        engine.close(cancel=True)
        raise
    engine.close()
    return summary


def _run(runs, root, engine, workers, dask_address, progress, rerun_changed, t0) -> BatchSummary:
    """run_batch's work in a prepared, locked store folder."""
    summary = BatchSummary(out_dir=root, planned=len(runs))
    state = store.scan(root, repair=True)
    changed = _check_same_settings(runs, state.completed, root)
    if changed and not rerun_changed:
        raise _changed_inputs(changed, root)
    if changed:
        stale = _stale_unplanned(runs, state.completed)
        store.supersede(root, state, {spec.run_id for spec, _ in changed} | stale)
        summary.rerun, summary.removed = len(changed), len(stale)
    todo = deque(s for s in runs if s.run_id not in state.completed)
    summary.skipped = len(runs) - len(todo)
    summary.redone = len(set(state.damaged_runs) & {s.run_id for s in todo})
    if not todo:
        summary.elapsed_s = time.time() - t0
        return summary
    writer = store.StoreWriter(root)
    writer.write_inputs(f for spec in todo for f in spec.all_inputs)  # provenance before any result
    window = max(2, 2 * (workers or len(os.sched_getaffinity(0))))
    if dask_address:
        window = max(window, 2 * len(engine.client.scheduler_info().get("workers", {})) or 4)
    bar = _Bar(len(runs), summary.skipped, engine.name, progress)
    inflight: dict[Any, RunSpec] = {}
    buffer: list[tuple[pd.DataFrame, dict]] = []
    first_buffered = 0.0

    def flush() -> None:
        nonlocal buffer
        if buffer:
            writer.write_group([f for f, _ in buffer], [r for _, r in buffer])
            summary.completed += len(buffer)
            bar.update(done=len(buffer))
            buffer = []

    try:
        while todo or inflight:
            while todo and len(inflight) < window:
                spec = todo.popleft()
                inflight[engine.submit(spec)] = spec
            for handle, outcome in engine.wait(list(inflight), FLUSH_SECONDS):
                spec = inflight.pop(handle)
                frame, record = outcome
                if record["status"] == "ok":
                    if not buffer:
                        first_buffered = time.time()
                    buffer.append((frame, record))
                else:
                    writer.write_failure(record)
                    summary.failed += 1
                    summary.failures.append((spec.run_id, record["error"]))
                    bar.update(failed=1)
            if buffer and (
                len(buffer) >= GROUP_SIZE or not inflight or time.time() - first_buffered >= FLUSH_SECONDS
            ):
                flush()
    except Exception as exc:
        # An engine-level failure (e.g. a dead worker process): record the runs in flight.
        for spec in inflight.values():
            writer.write_failure(failure_record(spec, f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        flush()  # what finished is kept, also on an interrupt (run_batch then stops the workers)
        bar.close()
        summary.elapsed_s = time.time() - t0
    return summary


def _check_same_settings(
    runs: list[RunSpec], completed: dict[str, dict], root: Path
) -> list[tuple[RunSpec, dict]]:
    """Refuse a planned run whose id is stored with other settings or code (the folder is another
    batch's); the planned runs whose stored twin came from other input files, with its record."""
    keys = ("scenario", "params_json", "seed", "quarters", "participants", "outputs_json", "code_version")
    changed = []
    for spec in runs:
        rec = completed.get(spec.run_id)
        if rec is None:
            continue
        planned = {**spec.as_record(), "code_version": code_version()}
        for k in keys:
            stored = _value(rec.get(k))
            if stored is not None and k in ("seed", "quarters", "participants"):
                stored = int(stored)
            if stored != planned[k]:
                what = "another version of the model code" if k == "code_version" else "other settings"
                raise InputError(
                    f"the folder already holds run '{spec.run_id}' made with {what}"
                    f" ({k}: stored {stored!r}, now {planned[k]!r}); use a new"
                    " --out (or the same experiment file and code)",
                    source=str(root),
                    key="--out",
                )
        if _value(rec.get("inputs_digest")) != planned["inputs_digest"]:
            changed.append((spec, rec))
    return changed


def _stale_unplanned(runs: list[RunSpec], completed: dict[str, dict]) -> set[str]:
    """Stored runs not in `runs` whose scenario is one of theirs but whose scenario files (the
    first entries of their input list) differ from what the scenario reads now."""
    now = {spec.scenario: [f.ref() for f in spec.loaded.inputs] for spec in runs}  # type: ignore[union-attr]
    planned = {spec.run_id for spec in runs}
    stale = set()
    for run_id, rec in completed.items():
        refs = now.get(rec.get("scenario"))
        if run_id in planned or refs is None:
            continue
        stored = _value(rec.get("inputs_json"))
        if stored is None or json.loads(stored)[: len(refs)] != refs:
            stale.add(run_id)
    return stale


def _value(stored: Any) -> Any:
    """A catalogue value with pandas' missing markers read as None."""
    return None if stored is not None and not isinstance(stored, str) and pd.isna(stored) else stored


def _changed_inputs(changed: list[tuple[RunSpec, dict]], root: Path) -> InputError:
    """The one-line refusal of a resume whose stored runs came from other input files."""
    spec, rec = changed[0]
    stored = _value(rec.get("inputs_json"))
    if stored is None:
        what = "they were stored without a record of their input files (crypto401k 0.2.0 or earlier)"
    else:
        what = inputs.first_change(json.loads(stored), [f.ref() for f in spec.all_inputs])
    n = len(changed)
    return InputError(
        f"{n} stored run{'s' if n != 1 else ''} came from other input files than now: {what};"
        " nothing was run",
        source=str(root),
        key="--out",
        allowed="a new --out to keep both, or --rerun-changed to re-run those runs in this folder",
    )


class _Bar:
    """A rich progress bar on stderr: done, failed, remaining and the time left."""

    def __init__(self, total: int, skipped: int, engine: str, show: bool):
        from rich.console import Console

        console = Console(stderr=True)
        self.show = show and console.is_terminal  # a bar only where someone watches it
        self.total, self.done, self.failed = total, skipped, 0
        if not self.show:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]runs[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("failed [red]{task.fields[failed]}[/]  remaining {task.fields[remaining]}"),
            TextColumn("{task.fields[engine]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            refresh_per_second=4,
            transient=True,  # the summary line replaces it (and an interrupt leaves one line)
        )
        self.progress.start()
        self.task = self.progress.add_task(
            "runs", total=total, completed=skipped, failed=0, remaining=total - skipped, engine=engine
        )
        # the ETA should come from this call's pace, not count the skipped runs as instant
        self.progress.reset(
            self.task, total=total, completed=skipped, failed=0, remaining=total - skipped, engine=engine
        )

    def update(self, done: int = 0, failed: int = 0) -> None:
        self.done += done + failed
        self.failed += failed
        if self.show:
            self.progress.update(
                self.task, advance=done + failed, failed=self.failed, remaining=self.total - self.done
            )

    def close(self) -> None:
        if self.show:
            self.progress.stop()

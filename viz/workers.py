"""Seed runs for the page in worker processes: shared by every page in turn, cancellable, and
gone with the server.

One run of the page's default size takes a second or two of CPU; run in the server's process
it would hold the interpreter lock and slow every other user's page. So runs go to one process
pool ('spawn' start, as the batch runner's: nothing copied from the server) with all cores but
one. Pages submit jobs (a list of runs); a dispatcher thread keeps one run per worker in
flight and takes the next run from the waiting jobs in turn, so a page's 5 runs start beside
another page's 50 rather than after them, and a waiting job knows what is ahead of it.

Cancelling a job (its page's Cancel button, Reset, reload or close) drops its waiting runs and
raises a flag for each of its running ones; a run reads its flag after every quarter and stops.
Workers watch the server: when it is gone, however it ended (SIGKILL too), they exit within a
second, so no worker outlives the server. At the server's exit every run is told to stop.
Nothing here imports Solara, so workers start quickly.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import itertools
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

PARENT_POLL_S = 0.5  # how often a worker checks that the server still runs


def workers() -> int:
    """Worker processes: all cores but one (the server's), at least one."""
    return max(1, (os.cpu_count() or 2) - 1)


class Cancelled(Exception):
    """A run stopped because its job was cancelled."""


# --- in the worker processes
_flags = None  # the shared cancel flags, one per slot (set by the pool's initializer)


def _start_worker(flags, server_pid: int) -> None:
    global _flags
    _flags = flags
    threading.Thread(target=_watch_server, args=(server_pid,), daemon=True, name="watch-server").start()


def _watch_server(server_pid: int) -> None:
    """Exit this worker when the server that started it is gone (it is then re-parented)."""
    while os.getppid() == server_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(0)


def run_one(slot: int, scenario: str, seed: int, quarters: int, overrides: dict[str, Any]):
    """One run's quarters table, quarter 0 to `quarters` (in a worker; stops when its slot's
    flag is raised, between quarters)."""
    from experiments.single_run import simulate

    def check(_quarter: int) -> None:
        if _flags is not None and _flags[slot]:
            raise Cancelled

    _model, table = simulate(scenario, quarters=quarters, seed=seed, overrides=overrides, on_quarter=check)
    return table


# --- in the server
@dataclass(eq=False)
class Run:
    """One run of a job: what to call in a worker, and where its result goes."""

    job: Job
    key: Any  # the job's name for the run (e.g. (arm, seed))
    args: tuple  # run_one's arguments after the slot


@dataclass(eq=False)
class Job:
    """A page's batch of runs. `status`: 'waiting' (no run started yet), 'running', 'done',
    'cancelled' or 'failed'; `results` by run key; `changed` is set at every change."""

    owner: str  # the session that submitted it (for the queue message)
    runs: list[Run] = field(default_factory=list)
    results: dict[Any, Any] = field(default_factory=dict)
    status: str = "waiting"
    error: str | None = None
    changed: threading.Event = field(default_factory=threading.Event)
    serial: int = field(default_factory=lambda: next(_serial))
    dispatcher: Dispatcher | None = None  # set when submitted

    @property
    def total(self) -> int:
        return len(self.runs)

    @property
    def done(self) -> int:
        return len(self.results)

    @property
    def over(self) -> bool:
        return self.status in ("done", "cancelled", "failed")

    def cancel(self) -> None:
        """Stop this job: drop its waiting runs, stop its running ones at their next quarter."""
        if self.dispatcher is not None:
            self.dispatcher.cancel(self)

    def ahead(self) -> tuple[int, int]:
        """(runs of other pages' jobs in the workers or waiting, those pages) while this job waits."""
        return self.dispatcher.ahead(self) if self.dispatcher is not None else (0, 0)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until something changes (or `timeout`); True when the job is over."""
        self.changed.wait(timeout)
        self.changed.clear()
        return self.over


_serial = itertools.count(1)


class Dispatcher:
    """The process pool and the jobs waiting for it, served in turn."""

    def __init__(self, n_workers: int):
        self.n = n_workers
        context = multiprocessing.get_context("spawn")
        self.flags = context.RawArray("b", n_workers)
        self.pool = cf.ProcessPoolExecutor(
            max_workers=n_workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(self.flags, os.getpid()),
        )
        self.lock = threading.Condition()
        self.jobs: list[Job] = []  # jobs with runs still waiting, in order of submission
        self.waiting: dict[Job, list[Run]] = {}
        self.slots: dict[int, tuple[Run, cf.Future]] = {}  # running runs by slot
        self.turn = 0
        self.closed = False
        self.thread = threading.Thread(target=self._serve, daemon=True, name="crypto401k-dispatcher")
        # Solara binds a thread to the page it is created in; this one serves every page for the
        # server's life and must not keep its first page alive (viz/registry.py: detached)
        self.thread.current_context = None  # type: ignore[attr-defined]
        self.thread.start()

    # --- the pages' side
    def submit(self, job: Job) -> Job:
        with self.lock:
            job.dispatcher = self
            if self.closed:
                job.status, job.error = "failed", "the server is stopping"
            elif not job.runs:
                job.status = "done"
            else:
                self.jobs.append(job)
                self.waiting[job] = list(job.runs)
            job.changed.set()
            self.lock.notify_all()
        return job

    def cancel(self, job: Job) -> None:
        with self.lock:
            if job.over:
                return
            self._drop(job)
            for slot, (run, _future) in self.slots.items():
                if run.job is job:
                    self.flags[slot] = 1
            job.status = "cancelled"
            job.changed.set()
            self.lock.notify_all()

    def ahead(self, job: Job) -> tuple[int, int]:
        with self.lock:
            others = [r for r, _f in self.slots.values() if r.job is not job]
            others += [r for j, rs in self.waiting.items() if j is not job for r in rs]
            return len(others), len({r.job.owner for r in others})

    def busy(self) -> int:
        """Runs in the workers now and waiting (all pages)."""
        with self.lock:
            return len(self.slots) + sum(len(rs) for rs in self.waiting.values())

    # --- the dispatcher thread
    def _drop(self, job: Job) -> None:
        if job in self.waiting:
            del self.waiting[job]
            self.jobs.remove(job)

    def _next_run(self) -> Run | None:
        """The next run to start: from the next job in turn that has one waiting."""
        for i in range(len(self.jobs)):
            job = self.jobs[(self.turn + i) % len(self.jobs)]
            runs = self.waiting[job]
            if runs:
                self.turn = (self.turn + i + 1) % max(len(self.jobs), 1)
                run = runs.pop(0)
                if not runs:
                    self._drop(job)
                return run
        return None

    def _serve(self) -> None:
        while True:
            with self.lock:
                while not self.closed and (len(self.slots) >= self.n or not self.jobs):
                    self.lock.wait()
                if self.closed:
                    return
                run = self._next_run()
                if run is None:
                    continue
                slot = next(k for k in range(self.n) if k not in self.slots)
                self.flags[slot] = 0
                try:
                    future = self.pool.submit(run_one, slot, *run.args)
                except RuntimeError as exc:  # the pool is shutting down
                    self._finish(run.job, error=str(exc))
                    continue
                self.slots[slot] = (run, future)
                if run.job.status == "waiting":
                    run.job.status = "running"
                run.job.changed.set()
            future.add_done_callback(lambda f, slot=slot, run=run: self._finished(slot, run, f))

    def _finished(self, slot: int, run: Run, future: cf.Future) -> None:
        with self.lock:
            self.slots.pop(slot, None)
            job = run.job
            if not job.over:
                try:
                    job.results[run.key] = future.result()
                except Cancelled:
                    pass
                except Exception as exc:  # a failed run ends its job with its message
                    self._drop(job)
                    self._finish(job, error=f"{type(exc).__name__}: {exc}")
                if not job.over and job.done == job.total:
                    job.status = "done"
            job.changed.set()
            self.lock.notify_all()

    def _finish(self, job: Job, error: str) -> None:
        job.status, job.error = "failed", error
        for s, (r, _f) in self.slots.items():
            if r.job is job:
                self.flags[s] = 1
        job.changed.set()

    def close(self) -> None:
        """Stop everything: waiting runs dropped, running runs told to stop, the pool shut."""
        with self.lock:
            self.closed = True
            for job in list(self.waiting):
                self._drop(job)
            for slot in range(self.n):
                self.flags[slot] = 1
            for run, _future in self.slots.values():
                if not run.job.over:
                    run.job.status = "cancelled"
                    run.job.changed.set()
            self.lock.notify_all()
        self.pool.shutdown(wait=False, cancel_futures=True)


_dispatcher: Dispatcher | None = None
_dispatcher_lock = threading.Lock()


def dispatcher() -> Dispatcher:
    """The dispatcher all sessions share, started on first use (and stopped at exit)."""
    global _dispatcher
    with _dispatcher_lock:
        if _dispatcher is None:
            _dispatcher = Dispatcher(workers())
            atexit.register(_dispatcher.close)
        return _dispatcher


def started() -> bool:
    """Whether any page has used the workers yet."""
    return _dispatcher is not None


def submit(owner: str, runs: list[tuple[Any, tuple]]) -> Job:
    """A new job of `runs` ((key, run_one arguments after the slot) each), sent to the workers."""
    job = Job(owner)
    job.runs = [Run(job, key, args) for key, args in runs]
    return dispatcher().submit(job)

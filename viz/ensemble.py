"""Ensembles for the page: N seeds of the current settings, run in worker processes.

One run of the page's default size takes a second or two of CPU; run in the server's process
it would hold the interpreter lock and slow every other user's page. So the runs go to a
process pool shared by all sessions ('spawn' start, as the batch runner's: nothing copied from
the server), with one core left to the server on a small machine. The page waits on the
futures in a thread of its own and draws the median and the 5-95% band of every output the
runs report. Nothing here imports Solara, so the workers start quickly.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from experiments.single_run import simulate

BAND = (5.0, 95.0)  # percentiles of the fan band
SEED_CHOICES = (5, 10, 20, 50)

_pool: cf.ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def workers() -> int:
    """Worker processes: all cores but one (the server's), at least one."""
    return max(1, (os.cpu_count() or 2) - 1)


def pool() -> cf.ProcessPoolExecutor:
    """The process pool all sessions share, started on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = cf.ProcessPoolExecutor(
                max_workers=workers(), mp_context=multiprocessing.get_context("spawn")
            )
            atexit.register(_pool.shutdown, wait=False, cancel_futures=True)
        return _pool


def run_seed(scenario: str, seed: int, quarters: int, overrides: dict[str, Any]) -> dict[str, list[float]]:
    """One run's numeric outputs by name, quarter 0 to `quarters` (runs in a worker process)."""
    _model, table = simulate(scenario, quarters=quarters, seed=seed, overrides=overrides)
    numeric = table.select_dtypes("number")
    return {c: numeric[c].astype(float).tolist() for c in numeric.columns}


@dataclass(eq=False)  # compared by identity: a finished copy must count as a change for the page
class Ensemble:
    """N seeds of one set of settings: their futures, then their outputs and bands."""

    settings: Any  # viz.settings.Settings (seeds are settings.seed .. settings.seed + n - 1)
    n: int
    futures: list[cf.Future] = field(default_factory=list)
    runs: list[dict[str, list[float]]] = field(default_factory=list)
    error: str | None = None

    @property
    def seeds(self) -> range:
        return range(self.settings.seed, self.settings.seed + self.n)

    def submit(self) -> Ensemble:
        """Send the runs to the shared pool (returns at once)."""
        s = self.settings
        self.futures = [
            pool().submit(run_seed, s.scenario, seed, s.horizon, s.model_kwargs()) for seed in self.seeds
        ]
        return self

    def wait(self, on_progress=None) -> None:
        """Collect the runs as they finish (in seed order at the end), calling on_progress(done)."""
        done: dict[int, dict] = {}
        index = {f: i for i, f in enumerate(self.futures)}
        try:
            for f in cf.as_completed(self.futures):
                done[index[f]] = f.result()
                if on_progress:
                    on_progress(len(done))
        except Exception as exc:  # a failed run ends the ensemble with its message
            self.error = f"{type(exc).__name__}: {exc}"
        self.runs = [done[i] for i in sorted(done)]

    def cancel(self) -> None:
        for f in self.futures:
            f.cancel()

    @property
    def finished(self) -> bool:
        return bool(self.runs) and len(self.runs) == self.n

    def band(self, name: str, scale: float = 1.0) -> tuple[list, list, list] | None:
        """(5th percentile, median, 95th percentile) of output `name` per quarter, or None."""
        series = [r[name] for r in self.runs if name in r]
        if not series:
            return None
        a = np.array(series, float) / scale
        lo, med, hi = np.nanpercentile(a, [BAND[0], 50.0, BAND[1]], axis=0)
        return lo.tolist(), med.tolist(), hi.tolist()

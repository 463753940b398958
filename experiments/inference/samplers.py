"""Where a calibration's simulations run: `--workers` and `--dask` mapped onto pyabc samplers.

- 1 worker: pyabc's SingleCoreSampler, in this process.
- N local workers: pyabc's ConcurrentFutureSampler on a process pool started with 'spawn' (no
  state copied from the parent, as the batch runner's pool) whose workers ignore Ctrl-C and die
  with their parent. The terminal sends Ctrl-C to the whole process group; only this process
  acts on it: it stops the workers at once and re-raises, and pyabc's history keeps every
  finished generation. (pyabc's multicore samplers fork, and their workers would each print
  a traceback.)
- `--dask ADDRESS`: pyabc's DaskDistributedSampler on the client of the batch runner's Dask
  engine (experiments.batch.cluster.DaskEngine), which has shipped this checkout's code to the
  workers and checked their code and library versions; pyabc's own version is checked here.

`Engine.map` runs a function over items on the same processes (the predictive check).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from experiments.batch.runner import worker_init
from model.errors import InputError


class Counter:
    """Simulations finished so far in this call (a progress display reads `done`)."""

    def __init__(self) -> None:
        self.done = 0

    def add(self, *_: Any) -> None:
        self.done += 1


class _Pool(cf.ProcessPoolExecutor):
    """A spawn pool whose workers start with Ctrl-C blocked until `worker_init` ignores it."""

    def __init__(self, workers: int, counter: Counter):
        super().__init__(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=worker_init
        )
        self.counter = counter

    def submit(self, fn, /, *args, **kwargs):
        # Workers are started by submit; with SIGINT blocked meanwhile, a Ctrl-C during a
        # worker's start-up cannot print a traceback there (it is delivered here afterwards).
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            future = super().submit(fn, *args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        future.add_done_callback(self.counter.add)
        return future


class _InProcess:
    """pyabc's single-core sampler, counting the simulations it runs."""

    def __new__(cls, counter: Counter):
        import pyabc

        class Counting(pyabc.sampler.SingleCoreSampler):
            def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):
                def counted():
                    result = simulate_one()
                    counter.add()
                    return result

                return super().sample_until_n_accepted(n, counted, t, **kwargs)

        return Counting()

    def kill(self) -> None:
        """Stop now: the simulations in flight are lost anyway and would only delay the exit."""
        for proc in list((getattr(self, "_processes", None) or {}).values()):
            proc.kill()
        self.shutdown(wait=True, cancel_futures=True)


class Engine:
    """A pyabc sampler and a `map` over the same processes; `name` says which; `counter.done`
    counts the simulations finished (local engines; a Dask engine leaves it at 0)."""

    def __init__(
        self, sampler, mapper: Callable[[Callable, list], list], name: str, cores: int, counter: Counter
    ):
        self.sampler = sampler
        self._map = mapper
        self.name = name
        self.cores = cores
        self.counter = counter

    def map(self, fn: Callable, items: Iterable[Any]) -> list:
        return self._map(fn, list(items))


def check_pyabc_on_workers(client) -> None:
    """Refuse (InputError) a Dask cluster whose workers lack pyabc or run another version."""
    from importlib.metadata import version

    def theirs() -> str | None:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as v

        try:
            return v("pyabc")
        except PackageNotFoundError:
            return None

    mine = version("pyabc")
    bad = {a: found for a, found in client.run(theirs).items() if found != mine}
    if bad:
        address, found = sorted(bad.items())[0]
        raise InputError(
            f"{len(bad)} Dask workers have pyabc {found} (e.g. {address}) but the client has {mine}",
            key="--dask",
            allowed=f"workers with the locked dependencies (pyabc {mine})",
        )


@contextmanager
def engine(workers: int | None, dask_address: str | None) -> Iterator[Engine]:
    """The engine for `--workers N` (None: all cores) or `--dask ADDRESS`, stopped on exit
    (at once, workers killed, when the block raises, e.g. on Ctrl-C)."""
    import pyabc

    if dask_address:
        from experiments.batch.cluster import DaskEngine
        from experiments.batch.runner import code_version, execute_run

        # the batch engine connects, ships this checkout's code and checks every worker
        dask = DaskEngine(dask_address, task=execute_run, failure=_no_failure, code_version=code_version())
        try:
            check_pyabc_on_workers(dask.client)
            sampler = pyabc.sampler.DaskDistributedSampler(dask_client=dask.client)
            cores = sum(dask.client.ncores().values())

            def mapper(fn, items):
                return dask.client.gather(dask.client.map(fn, items, pure=False))

            yield Engine(sampler, mapper, dask.name, cores, Counter())
        except BaseException:
            dask.close(cancel=True)
            raise
        dask.close()
        return
    n = workers or len(os.sched_getaffinity(0))
    if n < 1:
        raise InputError(f"{n} workers", key="--workers", allowed="an integer of at least 1")
    counter = Counter()
    if n == 1:
        yield Engine(_InProcess(counter), lambda fn, items: [fn(x) for x in items], "in-process", 1, counter)
        return
    pool = _Pool(n, counter)
    try:
        sampler = pyabc.sampler.ConcurrentFutureSampler(cfuture_executor=pool, client_max_jobs=n)
        yield Engine(
            sampler, lambda fn, items: list(pool.map(fn, items)), f"process pool ({n} workers)", n, counter
        )
    except BaseException:
        pool.kill()
        raise
    pool.shutdown(wait=True)


def _no_failure(spec, error: str) -> dict:  # the batch engine's failure records are not used here
    return {"run_id": getattr(spec, "run_id", None), "status": "failed", "error": error}

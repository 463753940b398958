"""Dask cluster benchmark: scaling on 1 and 2 workers, and the per-run overhead that limits 100.

    uv run python -m benchmarks.bench_cluster                     # defaults below
    uv run python -m benchmarks.bench_cluster --runs 60 --tiny-runs 1000

The scheduler and workers are separate processes (`dask scheduler`, `dask worker`, one thread
each) in a virtual environment WITHOUT this project (tests/dask_processes.py), so the client
ships its code to them, as on a shared cluster. For 1 and 2 workers it measures:

* fixed cost per batch: connect, build and ship the wheel, check every worker's versions;
* speed: `--runs` default-sized baseline runs (100,000 participants, 40 quarters), wall time,
  against the local process pool on the same machine;
* per-run overhead: `--tiny-runs` runs of 100 participants over `--tiny-quarters` quarters
  (default 1: a few ms of model time; 40 gives results with the rows of a full run), so what
  remains is the pipeline: CPU seconds per run spent by the client (submit,
  receive, write the Parquet store), by the scheduler, and by the workers beyond the model
  (unpacking the task, packing the result), from each process's CPU time. The workers' figure
  is their CPU time minus the runs' wall time in the model, so it is only meaningful for runs
  of a few ms on an otherwise idle machine.

The projection to N workers is arithmetic on these measurements (printed at the end): runs of
T seconds ask the single client for N / T runs a second, and the client and the scheduler each
serve at most 1 / (their CPU seconds per run). Figures depend on the machine and its load:
report them with both (a 2-core machine also shares its cores between the client, the scheduler
and the workers).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from dask_processes import DaskProcesses, worker_env  # noqa: E402


def specs(n: int, name: str, participants: int | None, quarters: int, employers: int | None):
    from experiments.batch.spec import RunSpec, derive_seed

    params = {} if employers is None else {"n_employers": employers}
    return [
        RunSpec(f"{name}.r{i:05d}", "baseline", params, derive_seed(name, i), quarters, participants, None)
        for i in range(n)
    ]


def cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes and their children."""
    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def timed_batch(runs, out: Path, **kw) -> dict:
    from experiments.batch.runner import run_batch
    from experiments.batch.store import load_results

    t0, c0 = time.perf_counter(), time.process_time()
    summary = run_batch(runs, out, progress=False, **kw)
    wall, client_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert summary.completed == len(runs) and summary.failed == 0, summary
    model_s = float(load_results(out, "SELECT sum(duration_s) AS s FROM catalogue")["s"][0])
    return {"wall": wall, "client_cpu": client_cpu, "model_s": model_s}


def on_cluster(venv: Path, workers: int, a: argparse.Namespace, tmp: Path) -> dict:
    from experiments.batch.cluster import DaskEngine

    res: dict = {"workers": workers}
    with DaskProcesses(venv, tmp / f"procs-{workers}") as procs:
        address = procs.start_scheduler()
        procs.start_workers(workers)
        t0 = time.perf_counter()
        engine = DaskEngine(address)
        res["connect_ship_check_s"] = time.perf_counter() - t0
        res["ship_s"] = engine.ship_seconds
        engine.close()
        timed_batch(specs(2 * workers, "warm", 100, 1, 10), tmp / f"warm-{workers}", dask_address=address)
        sched = [procs.scheduler.pid]
        wpids = [w.pid for w in procs.workers]
        s0, w0 = cpu(sched), cpu(wpids)
        tiny = timed_batch(
            specs(a.tiny_runs, "tiny", 100, a.tiny_quarters, 10),
            tmp / f"tiny-{workers}",
            dask_address=address,
        )
        s1, w1 = cpu(sched), cpu(wpids)
        n = a.tiny_runs
        res.update(
            tiny_wall_s=tiny["wall"],
            tiny_runs_per_s=n / tiny["wall"],
            client_ms_per_run=1000 * tiny["client_cpu"] / n,
            scheduler_ms_per_run=1000 * (s1 - s0) / n,
            worker_overhead_ms_per_run=1000 * ((w1 - w0) - tiny["model_s"]) / n,
            tiny_model_ms_per_run=1000 * tiny["model_s"] / n,
        )
        if a.runs:
            speed = timed_batch(
                specs(a.runs, "speed", None, 40, None), tmp / f"speed-{workers}", dask_address=address
            )
            res.update(
                speed_wall_s=speed["wall"],
                speed_model_s_per_run=speed["model_s"] / a.runs,
                # share of the workers' time spent in the model: 1 = no idle worker, no overhead
                efficiency=speed["model_s"] / (workers * speed["wall"]),
                load_after=os.getloadavg()[0],
            )
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40, help="default-sized runs for the speed measurement")
    ap.add_argument("--tiny-runs", type=int, default=400, help="tiny runs for the overhead measurement")
    ap.add_argument("--tiny-quarters", type=int, default=1, help="quarters of each tiny run")
    ap.add_argument("--project-to", type=int, nargs="*", default=[10, 100, 1000])
    a = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    try:
        t0 = time.perf_counter()
        venv = worker_env()
        print(f"worker environment (no project): {venv} ready in {time.perf_counter() - t0:.1f} s")
        results = [on_cluster(venv, w, a, tmp) for w in (1, 2)]
        local = (
            timed_batch(specs(a.runs, "speed", None, 40, None), tmp / "local", workers=2) if a.runs else None
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for r in results:
        print(
            f"dask, {r['workers']} worker(s): connect + ship + check {r['connect_ship_check_s']:.2f} s"
            f" (wheel build + plugin {r['ship_s']:.2f} s);"
            f" tiny runs {r['tiny_runs_per_s']:.0f}/s; per run: client {r['client_ms_per_run']:.1f} ms CPU,"
            f" scheduler {r['scheduler_ms_per_run']:.1f} ms CPU, worker beyond the model"
            f" {r['worker_overhead_ms_per_run']:.1f} ms CPU (model {r['tiny_model_ms_per_run']:.1f} ms)"
        )
        if a.runs:
            print(
                f"dask, {r['workers']} worker(s): {a.runs} default runs in {r['speed_wall_s']:.1f} s"
                f" ({r['speed_model_s_per_run']:.2f} s of model time per run; workers busy in the model"
                f" {r['efficiency']:.0%} of the time; load average after {r['load_after']:.1f})"
            )
    if a.runs:
        one, two = results[0]["speed_wall_s"], results[1]["speed_wall_s"]
        print(
            f"speed-up 1 -> 2 dask workers: {one / two:.2f}x; local pool of 2 processes: {local['wall']:.1f} s"
            f" (dask 2 workers / local pool: {two / local['wall']:.2f});"
            f" load average now {os.getloadavg()[0]:.1f}"
        )
    two = results[1]
    client_s = two["client_ms_per_run"] / 1000
    sched_s = two["scheduler_ms_per_run"] / 1000
    run_s = two.get("speed_model_s_per_run", 2.0)
    cap = 1 / max(client_s, sched_s)
    print(
        f"projection (from the 2-worker overheads): the client serves at most {1 / client_s:.0f} runs/s,"
        f" the scheduler {1 / sched_s:.0f} runs/s"
    )
    for n in a.project_to:
        for t in (run_s, 0.25):
            demand = n / t
            print(
                f"  {n} workers, runs of {t:.2f} s: {demand:.0f} runs/s asked,"
                f" client busy {demand * client_s:.0%}, scheduler busy {demand * sched_s:.0%};"
                f" expected speed-up ~{min(n, cap * t):.0f}x"
            )


if __name__ == "__main__":
    main()

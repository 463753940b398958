"""Batch runner benchmark: throughput per worker, speed-up from 1 to 2 workers, peak memory vs run count.

    uv run python -m benchmarks.bench_batch                      # defaults below
    uv run python -m benchmarks.bench_batch --speed-runs 200 --speed-participants 100000

Throughput: runs per second per worker at the experiments' size (20,000 participants, 400
employers) and at the size the convergence study supports for quarter-12 answers (50,000, 1,000
employers), 40 quarters, on 1 worker (in-process) and on a pool of 2 processes; the speed-up of
2 workers over 1 (target >= 1.8x). `--speed-runs` runs per setting (default 40; half at 50,000).
`--speed-participants N` measures that size instead. Each setting is measured in a fresh store.

Memory: the runner's own peak resident memory (ru_maxrss of the process calling run_batch,
not its workers) for `--memory-runs` (default 50 and 500) small runs, each measured in a fresh
Python process; for comparison the same runs through mesa.batch_run, which keeps every result
in one list. Figures depend on the machine and its load: report them with both.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _specs(n: int, participants: int | None, quarters: int, employers: int | None):
    from experiments.batch.spec import RunSpec, derive_seed

    params = {} if employers is None else {"n_employers": employers}
    return [
        RunSpec(
            f"baseline.r{i:05d}", "baseline", params, derive_seed("bench", i), quarters, participants, None
        )
        for i in range(n)
    ]


def child(
    mode: str, n: int, workers: int, participants: int | None, quarters: int, employers: int | None
) -> dict:
    """One measurement in this (fresh) process: wall time and this process's peak RSS."""
    specs = _specs(n, participants, quarters, employers)
    out = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    t0 = time.perf_counter()
    try:
        if mode == "runner":
            from experiments.batch.runner import run_batch

            summary = run_batch(specs, out / "store", workers=workers, progress=False)
            assert summary.completed == n, summary
        else:  # mesa.batch_run over the same runs (its own seeds: only memory is compared)
            import mesa

            from model.model import Crypto401kModel

            params = {"n_participants": participants or 100_000}
            if employers is not None:
                params["n_employers"] = employers
            results = mesa.batch_run(
                Crypto401kModel,
                params,
                rng=list(range(n)),
                max_steps=quarters,
                number_processes=workers,
                data_collection_period=1,
                display_progress=False,
            )
            assert len(results) == n * (quarters + 1)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(
    mode: str, n: int, workers: int, participants: int | None, quarters: int, employers: int | None
) -> dict:
    args = [
        sys.executable,
        "-m",
        "benchmarks.bench_batch",
        "--child",
        mode,
        str(n),
        str(workers),
        str(participants or 0),
        str(quarters),
        str(employers or 0),
    ]
    res = subprocess.run(
        args, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speed-runs", type=int, default=40)
    ap.add_argument(
        "--speed-participants", type=int, default=0, help="0: 20,000 and 50,000 (the experiments' sizes)"
    )
    ap.add_argument("--speed-quarters", type=int, default=40)
    ap.add_argument(
        "--memory-runs",
        type=int,
        nargs="*",
        default=[50, 500],
        help="run counts for the memory measurement (none: skip it)",
    )
    ap.add_argument("--memory-participants", type=int, default=2000)
    ap.add_argument("--memory-quarters", type=int, default=8)
    ap.add_argument("--no-mesa", action="store_true", help="skip the mesa.batch_run comparison")
    ap.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        mode, n, w, p, q, e = a.child
        print(json.dumps(child(mode, int(n), int(w), int(p) or None, int(q), int(e) or None)))
        return
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    sizes = (
        [(a.speed_participants, a.speed_runs)]
        if a.speed_participants
        else [
            (20_000, a.speed_runs),
            (50_000, max(a.speed_runs // 2, 2)),
        ]
    )
    for p, runs in sizes if a.speed_runs else []:
        employers = max(p // 50, 1)  # the default ratio of participants to employers
        size = f"{p:,} participants, {employers:,} employers, {a.speed_quarters} quarters"
        one = measure("runner", runs, 1, p, a.speed_quarters, employers)
        two = measure("runner", runs, 2, p, a.speed_quarters, employers)
        print(
            f"throughput: {runs} baseline runs ({size}): 1 worker {one['seconds']:.1f} s"
            f" ({runs / one['seconds']:.2f} runs/s), 2 workers {two['seconds']:.1f} s"
            f" ({runs / two['seconds'] / 2:.2f} runs/s per worker), speed-up"
            f" {one['seconds'] / two['seconds']:.2f}x (load average now {os.getloadavg()[0]:.1f})"
        )
    for mode in ("runner",) + (() if a.no_mesa else ("mesa",)):
        for n in a.memory_runs:
            m = measure(mode, n, 1, a.memory_participants, a.memory_quarters, 100)
            label = "run_batch" if mode == "runner" else "mesa.batch_run"
            print(
                f"memory: {label} {n} runs ({a.memory_participants} participants,"
                f" {a.memory_quarters} quarters, 1 worker): peak RSS {m['peak_rss_mb']:.0f} MB,"
                f" {m['seconds']:.1f} s"
            )


if __name__ == "__main__":
    main()

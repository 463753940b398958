"""Speed of the command line against the bare model (figures go in the README; no test asserts them).

    uv run python benchmarks/bench_cli.py              # 5 interleaved repetitions
    uv run python benchmarks/bench_cli.py --reps 9

Measured side by side, each in a fresh process, the repetitions interleaved so that load from
other processes hits every variant alike; medians reported:

1. bare model: a Python process that imports the model, builds the default baseline
   (100,000 participants) and runs 40 quarters, nothing else;
2. `crypto401k run --out DIR`: the whole command (checks, model, quarters.csv, summary.json,
   dashboard.png, the printed table); also with --no-dashboard.
   Target: the whole `run` at most 1.2x the bare model.
3. `crypto401k --help`, directly and through `uv run`. Target: under 1 s.

Python normally caches compiled bytecode; with PYTHONDONTWRITEBYTECODE=1 and no cache (as in some
containers) every process compiles every module it imports, which roughly doubles import times.
`--bytecode cached` (default) gives the processes a warmed cache, `--bytecode none` an empty one
they may not write; both in a temporary PYTHONPYCACHEPREFIX, so nothing is written to the
checkout. Also reported: the CPU seconds (user + system) of each process and its children.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = str(Path(sys.executable).parent / "crypto401k")
BARE = "from model.model import Crypto401kModel\nm = Crypto401kModel('baseline', rng=0)\nm.run(40)\n"


def _time(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the process and everything it started) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--bytecode", choices=("cached", "none"), default="cached")
    args = ap.parse_args()
    cache = tempfile.TemporaryDirectory()
    env = {**os.environ, "PYTHONPYCACHEPREFIX": cache.name}
    if args.bytecode == "cached":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    uv = shutil.which("uv")
    variants = {
        "bare model (import, build, 40 quarters)": lambda d, i: [sys.executable, "-c", BARE],
        "crypto401k run": lambda d, i: [SCRIPT, "run", "--out", str(d / f"run{i}")],
        "crypto401k run --no-dashboard": lambda d, i: [
            SCRIPT,
            "run",
            "--no-dashboard",
            "--out",
            str(d / f"nd{i}"),
        ],
        "crypto401k --help": lambda d, i: [SCRIPT, "--help"],
    }
    if uv:
        variants["uv run crypto401k --help"] = lambda d, i: [uv, "run", "--no-sync", "crypto401k", "--help"]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.bytecode == "cached":  # one pass to write the bytecode caches
            for name, cmd in variants.items():
                _time(cmd(work, "warm"), ROOT if name.startswith("uv") else work, env)
        for i in range(args.reps):
            for name, cmd in variants.items():
                cwd = ROOT if name.startswith("uv") else work
                times[name].append(_time(cmd(work, i), cwd, env))
    cache.cleanup()
    med = {name: statistics.median(w for w, _ in ts) for name, ts in times.items()}
    cpu = {name: statistics.median(c for _, c in ts) for name, ts in times.items()}
    bare, bare_cpu = (
        med["bare model (import, build, 40 quarters)"],
        cpu["bare model (import, build, 40 quarters)"],
    )
    for name, ts in times.items():
        walls = [w for w, _ in ts]
        ratio = (
            f"  {med[name] / bare:.2f}x bare (CPU {cpu[name] / bare_cpu:.2f}x)"
            if name.startswith("crypto401k run")
            else ""
        )
        print(
            f"{name:34s} median {med[name]:5.2f} s (min {min(walls):.2f}, max {max(walls):.2f}),"
            f" CPU {cpu[name]:5.2f} s{ratio}"
        )
    load = os.getloadavg()[0]
    print(
        json.dumps(
            {"reps": args.reps, "bytecode": args.bytecode, "load": load, "median_s": med, "cpu_s": cpu}
        )
    )


if __name__ == "__main__":
    main()

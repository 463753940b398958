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

Python normally caches compiled bytecode (__pycache__); with PYTHONDONTWRITEBYTECODE=1 set (as in
some containers) every process compiles every module it imports, which roughly doubles import
times. `--bytecode cached` (default) removes that variable and warms the cache first;
`--bytecode none` keeps every process compiling from source.
"""

from __future__ import annotations

import argparse
import json
import os
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


def _time(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--bytecode", choices=("cached", "none"), default="cached")
    args = ap.parse_args()
    env = dict(os.environ)
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
    times: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.bytecode == "cached":  # one pass to write the bytecode caches
            for name, cmd in variants.items():
                _time(cmd(work, "warm"), ROOT if name.startswith("uv") else work, env)
        for i in range(args.reps):
            for name, cmd in variants.items():
                cwd = ROOT if name.startswith("uv") else work
                times[name].append(_time(cmd(work, i), cwd, env))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    bare = med["bare model (import, build, 40 quarters)"]
    for name, ts in times.items():
        ratio = f"  {med[name] / bare:.2f}x bare" if name.startswith("crypto401k run") else ""
        print(f"{name:42s} median {med[name]:6.2f} s  (min {min(ts):.2f}, max {max(ts):.2f}){ratio}")
    print(json.dumps({"reps": args.reps, "bytecode": args.bytecode, "median_s": med}))


if __name__ == "__main__":
    main()

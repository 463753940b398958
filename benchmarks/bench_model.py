"""Speed and memory of the core model, this version beside an earlier one (no test asserts them).

    uv run python benchmarks/bench_model.py                   # everything, against 0.2.0
    uv run python benchmarks/bench_model.py --no-10m          # skip the 10,000,000-participant run
    uv run python benchmarks/bench_model.py --reference none  # this version only
    uv run python benchmarks/bench_model.py --load 2          # the same with 2 busy processes running

The reference version (default: the 0.2.0 release, commit b752c86) is checked out from this
repository's history into a temporary git worktree and run with this environment's Python, the
two versions' measurements interleaved, so both see the same machine and load. Each figure:

1. warm process (imports done, one warm-up run), median of 5 runs, baseline scenario:
   20,000 participants x 400 employers x 40 quarters (the experiments' size; target <= 0.15 s);
   10,000 x 200 x 12 quarters (a calibration's run; target <= 0.04 s);
   100,000 x 2,000 x 40 quarters, build + run (the default run; target <= 0.6 s);
2. a fresh process importing the model, building and running the default run (target <= 2.5 s),
   with compiled imports cached (what a user sees) and, as this machine sets
   PYTHONDONTWRITEBYTECODE, also compiling them;
3. fresh processes at 1,000,000 participants (target <= 5 s, <= 1 GB peak resident memory) and
   10,000,000 (target <= 8 GB; time reported; this version only: 0.2.0 allows at most 5,000,000);
4. the whole `crypto401k run` process (quarters.csv, summary.json, dashboard.png) over the bare
   model process of (2) (target <= 1.2x);
5. the decision step three ways on the same state: the bulk pass, the same rule agent by agent
   through Mesa, and the bare numpy kernel.

Targets are the issue's, for the developers' machine; compare ratios across machines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "b752c86"  # version 0.2.0

CHILD = r"""
import json, resource, statistics, sys, time
t0 = time.perf_counter()
from model.model import Crypto401kModel
t_import = time.perf_counter() - t0
mode, n, e, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
kw = {"n_participants": n} if e <= 0 else {"n_participants": n, "n_employers": e}
if mode == "warm":
    Crypto401kModel("baseline", rng=0, **kw).run(q)
    build, run = [], []
    for s in range(int(sys.argv[5])):
        t = time.perf_counter()
        m = Crypto401kModel("baseline", rng=s + 1, **kw)
        t1 = time.perf_counter()
        m.run(q)
        build.append(t1 - t)
        run.append(time.perf_counter() - t1)
        del m
    out = {"build_s": statistics.median(build), "run_s": statistics.median(run)}
else:
    t1 = time.perf_counter()
    m = Crypto401kModel("baseline", rng=1, **kw)
    t2 = time.perf_counter()
    m.run(q)
    t3 = time.perf_counter()
    out = {"import_s": t_import, "build_s": t2 - t1, "run_s": t3 - t2}
out["total_s"] = out["build_s"] + out["run_s"]
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


class Version:
    """A version of the code to time: its source folder (imports resolve there first)."""

    def __init__(self, name: str, root: Path):
        self.name, self.root = name, root

    def env(self, bytecode: bool = True) -> dict:
        env = {**os.environ, "PYTHONPATH": str(self.root)}
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def child(self, *args, bytecode: bool = True) -> dict:
        """Run the measuring child in a fresh process of this version; its JSON line."""
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, *map(str, args)],
            cwd=self.root,
            env=self.env(bytecode),
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t
        if out.returncode != 0:
            raise RuntimeError(f"{self.name}: {out.stderr.strip().splitlines()[-1]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["wall_s"] = wall
        return result

    def cli_run(self, out_dir: Path) -> float:
        """Wall seconds of a whole `crypto401k run` (default scenario) in a fresh process."""
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from cli.main import main; main()",
                "run",
                "--seed",
                "1",
                "--out",
                str(out_dir),
            ],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            check=True,
        )
        return time.perf_counter() - t


@contextlib.contextmanager
def reference_checkout(commit: str):
    """The reference commit in a temporary git worktree (removed afterwards)."""
    where = Path(tempfile.mkdtemp(prefix="bench-ref-"))
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), commit],
        check=True,
        capture_output=True,
    )
    try:
        yield Version(commit, where)
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)], capture_output=True
        )
        shutil.rmtree(where, ignore_errors=True)


@contextlib.contextmanager
def busy(processes: int):
    """`processes` busy loops running meanwhile (a loaded machine)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def median_of(fn, k: int) -> float:
    return statistics.median(fn() for _ in range(k))


def decision_step(n: int = 100_000, warm_quarters: int = 12, repeats: int = 5) -> dict:
    """Seconds per decision step: bulk pass, per-agent Mesa steps and bare kernel; and ratios."""
    from agents.participant import rule as rules
    from model.model import Crypto401kModel

    m = Crypto401kModel("baseline", rng=1, n_participants=n)
    m.run(warm_quarters)  # so that plans offer crypto and some participants hold it
    pop, view = m.population, m.employer_view
    offered = m.option_mask()
    env = m.market_view
    saved = pop.alloc.copy()
    e = pop.employer
    cap = view.cap[e] * pop.glide(m.params["glide_path_years"])

    def bulk():
        pop.alloc = saved.copy()
        pop.decide_all(view, offered, cap, env)

    args = (
        pop.affinity,
        pop.trend_trait,
        pop.attentiveness,
        pop.loss_aversion,
        pop.risk_target,
        saved,
        pop.units_active > 0,
        offered,
        cap,
        view.fee[e],
        view.cue[e],
        pop.peer_share,
        *np.random.default_rng(0).random((3, n)),
    )

    def bare():
        rules.decide(*args, env, pop.k)

    agents = list(m.participants)  # handles made once, before timing

    def per_agent():
        pop.alloc = saved.copy()
        for agent in agents:
            agent.decide()

    def best(fn, k):
        times = []
        for _ in range(k):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    t_bulk, t_bare = best(bulk, repeats), best(bare, repeats)
    t_agent = best(per_agent, 1)
    return {
        "participants": n,
        "bulk_s": t_bulk,
        "per_agent_s": t_agent,
        "bare_kernel_s": t_bare,
        "per_agent_over_bulk": t_agent / t_bulk,
        "bulk_over_bare": t_bulk / t_bare,
    }


def measure(versions: list[Version], big: bool, huge: bool) -> list[tuple[str, str, list[str]]]:
    """Every figure for every version: (figure, target, [value per version])."""
    rows: list[tuple[str, str, list[str]]] = []

    def row(label: str, target: str, fn, fmt=lambda r: f"{r:.3f} s", only_first: bool = False):
        values = []
        for i, v in enumerate(versions):
            if only_first and i > 0:
                values.append("not run")
                continue
            try:
                values.append(fmt(fn(v)))
            except RuntimeError as exc:
                values.append(f"failed: {exc}"[:60])
        rows.append((label, target, values))
        print(f"{label:58s} {target:>12s}  " + "  ".join(f"{x:>18s}" for x in values), flush=True)

    warm = {}
    for label, args, target in (
        ("20,000 x 400 employers x 40 quarters (warm)", (20_000, 400, 40, 5), "<= 0.15 s"),
        ("10,000 x 200 employers x 12 quarters (warm)", (10_000, 200, 12, 5), "<= 0.04 s"),
        ("100,000 x 40 quarters, build + run (warm)", (100_000, 0, 40, 5), "<= 0.6 s"),
    ):

        def f(v, args=args, label=label):
            r = v.child("warm", *args)
            warm[(v.name, label)] = r
            return r["total_s"]

        row(label, target, f)
    row(
        "  of which build (the default run)",
        "",
        lambda v: warm[(v.name, "100,000 x 40 quarters, build + run (warm)")]["build_s"],
    )
    fresh = {}

    def fresh_run(v, bytecode=True):
        r = v.child("fresh", 100_000, 0, 40, bytecode=bytecode)
        fresh[(v.name, bytecode)] = r
        return r["wall_s"]

    v0 = versions[0]
    v0.child("fresh", 1000, 0, 1)  # compile and cache the imports once
    row(
        "fresh process: import + build + run, 100,000 x 40",
        "<= 2.5 s",
        lambda v: median_of(lambda: fresh_run(v), 3),
    )
    row("  of which imports", "", lambda v: fresh[(v.name, True)]["import_s"])
    row(
        "fresh process, compiling imports (PYTHONDONTWRITEBYTECODE)",
        "",
        lambda v: fresh_run(v, bytecode=False),
    )
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1000))

        def cli_ratio(v):
            cli = median_of(lambda: v.cli_run(Path(tmp) / f"out{next(counter)}"), 3)
            bare = median_of(lambda: fresh_run(v), 3)
            return cli / bare

        row("`crypto401k run` process / bare model process", "<= 1.2x", cli_ratio, fmt=lambda r: f"{r:.2f}x")
    if big:
        mil = {}

        def million(v):
            mil[v.name] = v.child("fresh", 1_000_000, 0, 40)
            return mil[v.name]["total_s"]

        row("1,000,000 x 40 quarters (fresh process), build + run", "<= 5 s", million)
        row(
            "  peak resident memory",
            "<= 1 GB",
            lambda v: mil[v.name]["peak_rss_mb"],
            fmt=lambda r: f"{r:,.0f} MB",
        )
    if huge:
        ten = {}

        def ten_million(v):
            ten[v.name] = v.child("fresh", 10_000_000, 0, 40)
            return ten[v.name]["total_s"]

        row("10,000,000 x 40 quarters (fresh process), build + run", "report", ten_million, only_first=True)
        row(
            "  peak resident memory",
            "<= 8 GB",
            lambda v: ten[v.name]["peak_rss_mb"],
            fmt=lambda r: f"{r:,.0f} MB",
            only_first=True,
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--reference", default=REFERENCE, help="commit to compare with, or 'none' (default: 0.2.0)"
    )
    ap.add_argument("--no-1m", action="store_true", help="skip the 1,000,000-participant runs")
    ap.add_argument("--no-10m", action="store_true", help="skip the 10,000,000-participant run")
    ap.add_argument("--load", type=int, default=0, help="busy processes running meanwhile (default 0: idle)")
    args = ap.parse_args()
    current = Version("this version", ROOT)
    with contextlib.ExitStack() as stack:
        versions = [current]
        if args.reference != "none":
            versions.append(stack.enter_context(reference_checkout(args.reference)))
        stack.enter_context(busy(args.load))
        load = os.getloadavg()[0]
        print(f"machine: {os.cpu_count()} cores, load average {load:.2f}, {args.load} busy processes added")
        print(f"{'figure':58s} {'target':>12s}  " + "  ".join(f"{v.name:>18s}" for v in versions))
        measure(versions, not args.no_1m, not args.no_10m)
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
        if args.load == 0:
            print("decision step:", json.dumps(decision_step()))


if __name__ == "__main__":
    main()

"""Simulations per second of the Bayesian calibration (`calibrate --method abc`); no test asserts them.

    uv run python benchmarks/bench_inference.py                          # 10,000 and 50,000 participants
    uv run python benchmarks/bench_inference.py --participants 50000 --workers 2 --sims 40

Two figures per size, on the engine the command uses (`--workers`: a spawn pool; 1: in-process):

1. simulator throughput: `--sims` prior draws of the calibrated parameters (the eight whose
   declared source is the calibration) run through the simulator (the batch task, one seed per
   particle, the shipped targets' statistics) by the engine's map, after a warm-up that starts
   the workers: simulations per second of wall time;
2. ABC throughput: one ABC-SMC generation (its prior sample and generation 0, population
   `--population`) in a fresh folder: particles tried per second, pyabc's own work included.

The machine is shared: the load average is printed with the figures. The planned budget of the
shipped calibration follows from (1) (docs/guide/calibration.md, "How long it takes").
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def plan_for(participants: int, quarters: int, population: int, employers: int | None):
    from experiments.inference import priors as PR
    from experiments.inference import smc
    from experiments.tuning import targets as T
    from experiments.tuning.runs import RunSettings
    from experiments.tuning.space import parse_space

    doc = T.load_target_file(ROOT / "experiments" / "calibration_targets.toml")
    dims = parse_space(PR.calibrated_names())
    priors = PR.build(dims, doc.priors, set(), "calibration_targets.toml")
    fixed = {} if employers is None else {"n_employers": employers}
    settings = RunSettings("baseline", (0,), quarters, participants, T.needed_outputs(doc.targets), fixed)
    return smc.Plan(tuple(doc.targets), tuple(priors), settings, 1, population, 2, 10**9)


def measure(participants: int, quarters: int, workers: int, sims: int, population: int, employers) -> dict:
    import numpy as np

    from experiments.inference import samplers, smc
    from experiments.inference.simulator import FreshWorld

    plan = plan_for(participants, quarters, population, employers)
    rng = np.random.default_rng(0)
    points = [({p.name: float(rng.uniform(p.low, p.high)) for p in plan.priors}, i) for i in range(sims)]
    world = FreshWorld(plan.simulator(), stream="bench")
    with samplers.engine(workers, None) as engine:
        engine.map(world, points[: engine.cores])  # warm-up: workers started, model imported
        t0 = time.perf_counter()
        engine.map(world, points)
        map_rate = sims / (time.perf_counter() - t0)
        with tempfile.TemporaryDirectory(prefix="bench-abc-") as out:
            one = smc.Plan(*list(plan.__dict__.values())[:-2], generations=2, budget=1)
            t0 = time.perf_counter()
            outcome = smc.run(one, Path(out), engine, code_version="bench")
            abc_rate = outcome.simulations / (time.perf_counter() - t0)
    return {"map": map_rate, "abc": abc_rate, "abc_sims": outcome.simulations, "engine": engine.name}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--participants", type=int, nargs="*", default=[10_000, 50_000])
    ap.add_argument("--quarters", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sims", type=int, default=24)
    ap.add_argument("--population", type=int, default=16)
    ap.add_argument("--employers", type=int, default=None, help="n_employers (default: declared)")
    args = ap.parse_args()
    for n in args.participants:
        r = measure(n, args.quarters, args.workers, args.sims, args.population, args.employers)
        load = os.getloadavg()[0]
        print(
            f"{n:,} participants x {args.quarters} quarters on {r['engine']}: simulator"
            f" {r['map']:.2f} simulations/s ({1 / r['map']:.2f} s each); ABC generation 0"
            f" {r['abc']:.2f} particles/s ({r['abc_sims']} tried); load average {load:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()

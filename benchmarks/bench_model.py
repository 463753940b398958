"""Speed and memory of the core model (figures go in the README; no test asserts them).

    uv run python benchmarks/bench_model.py            # everything
    uv run python benchmarks/bench_model.py --no-1m    # skip the 1,000,000-participant run

1. The default run (100,000 participants, 40 quarters) and a 1,000,000-participant run: wall
   time (build and 40 quarters) and peak resident memory, each in a fresh process.
   Targets: default <= 5 s; 1M <= 60 s and <= 4 GB on a 2-core machine.
2. The participant decision step three ways on the same model state: the bulk vectorised pass
   the model uses (Population.decide_all), the same rule run agent by agent through Mesa
   (Participant.decide for every agent), and the bare numpy kernel on prepared arrays.
   Targets: bulk >= 50x faster than per-agent, and within 3x of the bare kernel.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

CHILD = r"""
import json, resource, sys, time
from model.model import Crypto401kModel
n, quarters = int(sys.argv[1]), int(sys.argv[2])
t0 = time.perf_counter()
m = Crypto401kModel("baseline", rng=1, n_participants=n)
t1 = time.perf_counter()
m.run(quarters)
t2 = time.perf_counter()
print(json.dumps({"participants": n, "quarters": quarters, "build_s": t1 - t0, "run_s": t2 - t1,
                  "total_s": t2 - t0, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def full_run(n: int, quarters: int = 40) -> dict:
    """Build and run one model in a fresh process; its timings and peak memory."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(quarters)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def decision_step(n: int = 100_000, warm_quarters: int = 12, repeats: int = 5) -> dict:
    """Seconds per decision step: bulk pass, per-agent Mesa steps and bare kernel; and ratios."""
    from agents.participant import rule as rules
    from model.model import Crypto401kModel

    m = Crypto401kModel("baseline", rng=1, n_participants=n)
    m.run(warm_quarters)  # so that plans offer crypto and some participants hold it
    pop, view = m.population, m.employer_view
    offered = m.offered_mask()
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

    def per_agent():
        pop.alloc = saved.copy()
        for agent in m.participants:
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
        "offered_share": float(offered.mean()),
        "bulk_s": t_bulk,
        "per_agent_s": t_agent,
        "bare_kernel_s": t_bare,
        "per_agent_over_bulk": t_agent / t_bulk,
        "bulk_over_bare": t_bulk / t_bare,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-1m", action="store_true", help="skip the 1,000,000-participant run")
    args = ap.parse_args()
    results = {"default_run": full_run(100_000)}
    print("default run:", json.dumps(results["default_run"]))
    if not args.no_1m:
        results["million_run"] = full_run(1_000_000)
        print("1M run:     ", json.dumps(results["million_run"]))
    results["decision_step"] = decision_step()
    print("decision:   ", json.dumps(results["decision_step"]))


if __name__ == "__main__":
    main()

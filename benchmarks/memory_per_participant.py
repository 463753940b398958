"""Measure peak memory per participant agent, to calibrate model/resources.py.

Each size runs in a fresh process: peak resident memory (ru_maxrss) after building the model
and stepping it `--quarters` quarters, minus the resident memory after imports. Usage:

    uv run python benchmarks/memory_per_participant.py 100000 1000000
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
from model.model import Crypto401kModel
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
n, quarters = int(sys.argv[1]), int(sys.argv[2])
t = time.perf_counter()
m = Crypto401kModel("baseline", rng=0, n_participants=n)
m.run(quarters)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"n": n, "quarters": quarters, "base_bytes": base, "peak_bytes": peak,
                  "bytes_per_participant": (peak - base) / n,
                  "seconds": time.perf_counter() - t}))
"""


def main(sizes: list[int], quarters: int = 2) -> None:
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(quarters)], capture_output=True, text=True, check=True
        )
        print(json.loads(out.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])

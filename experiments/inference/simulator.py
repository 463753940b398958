"""The model as pyabc sees it: parameters in, the targets' statistics out.

A `Simulator` is a plain frozen dataclass of plain values, so pyabc's samplers can pickle it to
local worker processes or Dask workers. Each call runs the batch task
(experiments.batch.runner.execute_run) once per seed with the particle's parameters on top of
the run settings, and returns each target's statistic averaged over the seeds
(experiments/tuning/moments.py), as the optuna fit does.

Seeds. A particle's seeds are derived from its parameter values (experiments.batch.spec.derive_seed),
so different particles see different random worlds (the seed is integrated out, as the world
we observe is one draw), and the same particle always gives the same statistics. With one seed
per particle (the default) the error model adds to one simulated world; with more, to their mean.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from experiments.batch.runner import execute_run
from experiments.batch.spec import derive_seed
from experiments.tuning.runs import RunSettings, plan
from experiments.tuning.targets import Target, statistics

FAILED = "failed_runs"  # the statistic counting a particle's runs that raised


def particle_seeds(params: dict[str, float], n: int, stream: str = "abc") -> tuple[int, ...]:
    """`n` model seeds that are a pure function of the parameter values and a stream name."""
    key = json.dumps({k: float(v) for k, v in sorted(params.items())})
    return tuple(derive_seed(stream, key, i) for i in range(n))


@dataclass(frozen=True)
class Simulator:
    """Runs a parameter point through the batch task and returns the targets' statistics.

    targets: what to compute; settings: scenario, quarters, participants, kept outputs and fixed
    overrides (its `seeds` are ignored: seeds_per_particle seeds are derived per particle);
    stream: names the seed stream (the predictive check draws fresh worlds from another).
    """

    targets: tuple[Target, ...]
    settings: RunSettings
    seeds_per_particle: int = 1
    stream: str = "abc"
    names: tuple[str, ...] = field(default=())

    def __call__(self, par: Any) -> dict[str, float]:
        params = {k: float(par[k]) for k in (self.names or tuple(par))}
        seeds = particle_seeds(params, self.seeds_per_particle, self.stream)
        settings = dataclasses.replace(self.settings, seeds=seeds)
        tables, failed = [], 0
        for spec in plan([params], settings, prefix="abc")[0]:
            try:
                tables.append(execute_run(spec))
            except Exception:  # a point where the model raises is rejected, as a NaN statistic
                failed += 1
        stats = statistics(list(self.targets), tables) if tables else {t.name: math.nan for t in self.targets}
        return {**stats, FAILED: float(failed)}


@dataclass(frozen=True)
class FreshWorld:
    """Runs (parameters, k) in world k of `stream` (the predictive check: a particle drawn twice
    is run in two different worlds)."""

    simulator: Simulator
    stream: str = "predictive"

    def __call__(self, item: tuple[dict[str, float], int]) -> dict[str, float]:
        params, k = item
        return dataclasses.replace(self.simulator, stream=f"{self.stream}-{k}")(params)

"""A stand-in for the model with a known posterior, for the inference tests: three statistics of two
declared parameters plus seeded normal noise, computed in microseconds.

a = affinity_mean + N(0, 0.3); b = 2 attention_base + N(0, 0.05); c = affinity_mean x
attention_base + N(0, 0.1). The noise of a particle is seeded by its parameter values and the
stream, as the real simulator seeds its runs.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from experiments.inference import priors as PR
from experiments.inference import smc
from experiments.inference.simulator import FAILED, particle_seeds
from experiments.tuning import moments
from experiments.tuning.runs import RunSettings
from experiments.tuning.targets import Target

NOISE = {"a": 0.3, "b": 0.05, "c": 0.1}


@dataclasses.dataclass(frozen=True)
class Toy:
    stream: str = "abc"

    def __call__(self, par) -> dict[str, float]:
        x, y = float(par["affinity_mean"]), float(par["attention_base"])
        seed = particle_seeds({"affinity_mean": x, "attention_base": y}, 1, self.stream)[0]
        e = np.random.default_rng(seed).normal(0.0, 1.0, 3)
        return {
            "a": x + NOISE["a"] * e[0],
            "b": 2 * y + NOISE["b"] * e[1],
            "c": x * y + NOISE["c"] * e[2],
            FAILED: 0.0,
        }


def target(name: str, observed: float, tolerance: float, kind: str = "point") -> Target:
    return Target(name, moments.Statistic("adoption_rate", 0, 0), observed, tolerance, "toy", 1.0, kind)


def plan(population: int = 100, generations: int = 6, budget: int = 50_000, **observed) -> smc.Plan:
    values = {"a": 0.5, "b": 0.6, "c": 0.15, **observed}
    targets = (target("a", values["a"], 0.5), target("b", values["b"], 0.1), target("c", values["c"], 0.2))
    priors = (
        PR.Prior("affinity_mean", -5.0, 5.0, "declared range"),
        PR.Prior("attention_base", 0.0, 1.0, "declared range"),
    )
    settings = RunSettings("baseline", (0,), 1, 300, ("adoption_rate",))
    return smc.Plan(targets, priors, settings, 1, population, generations, budget)

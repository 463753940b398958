"""Experiment files (TOML in experiments/): which runs a batch makes.

    [experiment]
    name = "flows_vs_seed_claims"        # names the seeds: same name, same seeds
    description = "..."
    scenarios = ["baseline", "no_401k"]  # shipped names or scenario .toml paths
    replicates = 30                      # seeds per design point and scenario
    quarters = 40                        # optional: default each scenario's [run] quarters
    participants = 50000                 # optional: default the declared n_participants
    outputs = ["adoption_rate", ...]     # optional: default every output
    common_random_numbers = true         # optional: replicate r has the same seed in every
                                         # scenario and design point (paired comparisons)

    [parameters]                         # optional: fixed overrides for every run
    n_employers = 1000

    [grid]                               # optional: explicit values; the design is their product
    flow_multiplier = [3.0, 4.5, 8.0]

    [sample]                             # optional: sampled design points
    method = "lhs"                       # "lhs" (Latin hypercube) or "sobol" (scrambled)
    points = 16                          # design points (sobol: a power of 2)
    seed = 1                             # the sampler's seed
    parameters = ["imitation_strength"]  # sampled over their declared allowed ranges
    [sample.ranges]                      # optional: narrower ranges [low, high]
    flow_multiplier = [3.0, 8.0]

With both [grid] and [sample], every grid combination is crossed with every sampled point.
Run ids read `<scenario>.p<point>.r<replicate>`; each run's seed is derived from the
experiment name and the replicate (and scenario and point when common_random_numbers is
false), never from run order. Every error names the file, the key and the allowed values, and
is raised before anything runs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from experiments.batch.spec import RunSpec, derive_seed
from model import parameters as P
from model import scenarios
from model.errors import InputError, did_you_mean
from model.outputs import OUTPUTS

SECTIONS = {
    "experiment": {
        "name",
        "description",
        "scenarios",
        "replicates",
        "quarters",
        "participants",
        "outputs",
        "common_random_numbers",
    },
    "parameters": None,
    "grid": None,
    "sample": {"method", "points", "seed", "parameters", "ranges"},
}
METHODS = ("lhs", "sobol")
MAX_REPLICATES = 100_000
MAX_POINTS = 1_000_000
MAX_RUNS = 10_000_000


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: scenarios x design points x replicates."""

    name: str
    description: str
    scenarios: tuple[str, ...]
    replicates: int
    quarters: int | None
    participants: int | None
    outputs: tuple[str, ...] | None
    common_random_numbers: bool
    fixed: dict[str, Any] = field(default_factory=dict)
    points: tuple[dict[str, Any], ...] = ({},)
    path: str | None = None

    def runs(self) -> list[RunSpec]:
        """Every run, in a fixed order (scenario, point, replicate)."""
        out = []
        width = max(4, len(str(len(self.points) - 1)))
        rwidth = max(3, len(str(self.replicates - 1)))
        for scen in self.scenarios:
            spec = scenarios.load(scen)
            quarters = self.quarters if self.quarters is not None else spec.quarters
            for i, point in enumerate(self.points):
                for r in range(self.replicates):
                    run_id = f"{spec.name}.p{i:0{width}d}.r{r:0{rwidth}d}"
                    seed = (
                        derive_seed(self.name, f"r{r}")
                        if self.common_random_numbers
                        else derive_seed(self.name, run_id)
                    )
                    out.append(
                        RunSpec(
                            run_id=run_id,
                            scenario=scen,
                            params={**self.fixed, **point},
                            seed=seed,
                            quarters=quarters,
                            participants=self.participants,
                            outputs=self.outputs,
                        )
                    )
        return out

    def with_size(self, replicates: int | None = None, participants: int | None = None) -> Experiment:
        """The same experiment with another replicate count or population (command-line options)."""
        from dataclasses import replace

        if replicates is not None:
            _check_int(replicates, "--replicates", 1, MAX_REPLICATES, None)
        if participants is not None:
            P.get("n_participants").check(participants, "--participants")
        return replace(
            self, replicates=replicates or self.replicates, participants=participants or self.participants
        )


def _check_int(value: Any, key: str, low: int, high: int, src: str | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(
            f"expected an integer, got {value!r}",
            source=src,
            key=key,
            allowed=f"an integer from {low} to {high}",
        )
    return value


def load_experiment(path: str | Path) -> Experiment:
    """The experiment file at `path`, fully validated (scenarios, parameters, ranges, outputs)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "experiment file not found",
            source=str(path),
            allowed="an existing .toml file (see experiments/*.toml)",
        )
    src = str(path)
    data = scenarios.read_toml(path)
    scenarios.check_sections(data, SECTIONS, src)
    meta = data.get("experiment")
    if meta is None:
        raise InputError(
            "missing section [experiment]",
            source=src,
            key="experiment",
            allowed="[experiment] with name, scenarios and replicates",
        )
    name = meta.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise InputError(
            "must be a non-empty string",
            source=src,
            key="experiment.name",
            allowed='a quoted name such as "my_sweep"',
        )
    description = meta.get("description", "")
    if not isinstance(description, str):
        raise InputError("must be a string", source=src, key="experiment.description", allowed="quoted text")
    names = meta.get("scenarios", ["baseline"])
    shipped = ", ".join(scenarios.available())
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise InputError(
            f"expected a list of scenario names, got {names!r}",
            source=src,
            key="experiment.scenarios",
            allowed=f"a non-empty list of: {shipped}, or scenario .toml paths",
        )
    resolved = []
    for n in names:
        # a scenario path is read relative to the experiment file
        ref = n
        if n.endswith(".toml") and not Path(n).is_absolute():
            ref = str(path.parent / n)
        try:
            scenarios.load(ref)
        except InputError as exc:
            problem = f"'{n}': {exc.problem}" if exc.key == n else str(exc)
            raise InputError(
                problem, source=src, key="experiment.scenarios", allowed=f"{shipped}, or scenario .toml paths"
            ) from None
        resolved.append(ref)
    loaded_names = [scenarios.load(r).name for r in resolved]
    if len(set(loaded_names)) != len(loaded_names):
        raise InputError(
            f"a scenario is listed twice: {loaded_names}",
            source=src,
            key="experiment.scenarios",
            allowed="each scenario once",
        )
    replicates = _check_int(meta.get("replicates", 1), "experiment.replicates", 1, MAX_REPLICATES, src)
    quarters = meta.get("quarters")
    if quarters is not None:
        quarters = _check_int(quarters, "experiment.quarters", 1, scenarios.MAX_QUARTERS, src)
    participants = meta.get("participants")
    if participants is not None:
        participants = P.get("n_participants").check(participants, f"{src}: experiment.participants")
    outputs = meta.get("outputs")
    if outputs is not None:
        if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
            raise InputError(
                f"expected a list of output names, got {outputs!r}",
                source=src,
                key="experiment.outputs",
                allowed=", ".join(OUTPUTS),
            )
        for o in outputs:
            if o not in OUTPUTS:
                raise InputError(
                    f"unknown output '{o}'{did_you_mean(o, OUTPUTS)}",
                    source=src,
                    key="experiment.outputs",
                    allowed=", ".join(OUTPUTS),
                )
        outputs = tuple(dict.fromkeys(outputs))
    crn = meta.get("common_random_numbers", True)
    if not isinstance(crn, bool):
        raise InputError(
            f"expected true or false, got {crn!r}",
            source=src,
            key="experiment.common_random_numbers",
            allowed="true or false",
        )

    fixed = _validated(data.get("parameters", {}), src, "parameters")
    grid = _grid(data.get("grid", {}), src)
    sampled = _sample(data["sample"], src) if "sample" in data else [{}]
    overlap = (set(fixed) & set(grid)) | (set(fixed) & set(sampled[0])) | (set(grid) & set(sampled[0]))
    if overlap:
        raise InputError(
            "a parameter is set in more than one of [parameters], [grid], [sample]",
            source=src,
            key=sorted(overlap)[0],
            allowed="each parameter in one place",
        )
    names_g = list(grid)
    points = tuple(
        {**dict(zip(names_g, combo, strict=True)), **s}
        for combo in itertools.product(*(grid[n] for n in names_g))
        for s in sampled
    )
    total = len(points) * replicates * len(resolved)
    if total > MAX_RUNS:
        raise InputError(
            f"{total:,} runs is too many",
            source=src,
            key="experiment.replicates",
            allowed=f"at most {MAX_RUNS:,} runs (scenarios x points x replicates)",
        )
    if participants is not None:
        fixed_check = {**fixed, "n_participants": participants}
    else:
        fixed_check = fixed
    # every run's full parameter set must be valid before anything runs
    for ref in resolved:
        spec = scenarios.load(ref)
        for point in points:
            try:
                spec.parameters({**fixed_check, **point})
            except InputError as exc:
                raise exc.with_source(src) from None
    return Experiment(
        name=name.strip(),
        description=description,
        scenarios=tuple(resolved),
        replicates=replicates,
        quarters=quarters,
        participants=participants,
        outputs=outputs,
        common_random_numbers=crn,
        fixed=fixed,
        points=points,
        path=src,
    )


def _validated(values: dict, src: str, section: str) -> dict[str, Any]:
    out = {}
    for key, value in values.items():
        try:
            out[key] = P.get(key).check(value)
        except InputError as exc:
            raise InputError(exc.problem, source=src, key=f"{section}.{key}", allowed=exc.allowed) from None
    return out


def _grid(values: dict, src: str) -> dict[str, list]:
    out = {}
    for key, vals in values.items():
        if not isinstance(vals, list) or not vals:
            raise InputError(
                f"expected a non-empty list of values, got {vals!r}",
                source=src,
                key=f"grid.{key}",
                allowed=f"a list, each {P.get(key, src).allowed}"
                if key in P.PARAMETERS
                else "see `crypto401k params`",
            )
        out[key] = [_validated({key: v}, src, "grid")[key] for v in vals]
        if len(set(map(repr, out[key]))) != len(out[key]):
            raise InputError(
                "a value is listed twice", source=src, key=f"grid.{key}", allowed="distinct values"
            )
    return out


def _sample(sec: dict, src: str) -> list[dict[str, Any]]:
    """The sampled design points: LHS or scrambled Sobol over the (declared or given) ranges."""
    from scipy.stats import qmc

    method = sec.get("method", "lhs")
    if method not in METHODS:
        raise InputError(
            f"unknown sampling method {method!r}", source=src, key="sample.method", allowed=", ".join(METHODS)
        )
    points = _check_int(sec.get("points"), "sample.points", 1, MAX_POINTS, src) if "points" in sec else None
    if points is None:
        raise InputError(
            "missing", source=src, key="sample.points", allowed=f"an integer from 1 to {MAX_POINTS}"
        )
    if method == "sobol" and points & (points - 1):
        raise InputError(
            f"{points} is not a power of 2 (Sobol balance needs one)",
            source=src,
            key="sample.points",
            allowed="a power of 2: 2, 4, 8, 16, ...",
        )
    seed = sec.get("seed", 0)
    _check_int(seed, "sample.seed", 0, 2**63 - 1, src)
    listed = sec.get("parameters", [])
    if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
        raise InputError(
            f"expected a list of parameter names, got {listed!r}",
            source=src,
            key="sample.parameters",
            allowed="declared numeric parameter names",
        )
    ranges = sec.get("ranges", {})
    if not isinstance(ranges, dict):
        raise InputError("must be a table of name = [low, high]", source=src, key="sample.ranges")
    names = list(dict.fromkeys([*listed, *ranges]))
    if not names:
        raise InputError(
            "no parameters to sample",
            source=src,
            key="sample.parameters",
            allowed="a list of declared numeric parameters, or [sample.ranges]",
        )
    bounds = []
    for n in names:
        try:
            p = P.get(n)
        except InputError as exc:
            raise InputError(
                exc.problem,
                source=src,
                key=f"sample.{n}",
                allowed="declared parameter names (`crypto401k params`)",
            ) from None
        if p.type is bool:
            raise InputError(
                "a true/false parameter cannot be sampled",
                source=src,
                key=f"sample.{n}",
                allowed=f"list it in [grid]: {n} = [true, false]",
            )
        if n in ranges:
            rng_ = ranges[n]
            if (
                not isinstance(rng_, list)
                or len(rng_) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng_)
            ):
                raise InputError(
                    f"expected [low, high], got {rng_!r}",
                    source=src,
                    key=f"sample.ranges.{n}",
                    allowed=f"two numbers within {p.allowed}",
                )
            lo, hi = (_validated({n: v}, src, "sample.ranges")[n] for v in rng_)
            if not lo < hi:
                raise InputError(
                    f"low {lo} is not below high {hi}",
                    source=src,
                    key=f"sample.ranges.{n}",
                    allowed=f"low < high, within {p.allowed}",
                )
        else:
            lo, hi = p.low, p.high
        bounds.append((p, float(lo), float(hi)))
    d = len(bounds)
    sampler = (
        qmc.LatinHypercube(d, rng=np.random.default_rng(seed))
        if method == "lhs"
        else qmc.Sobol(d, scramble=True, rng=np.random.default_rng(seed))
    )
    unit = sampler.random(points)
    out = []
    for row in unit:
        point = {}
        for (p, lo, hi), u in zip(bounds, row, strict=True):
            v = lo + u * (hi - lo)
            point[p.name] = int(min(hi, math.floor(v + 0.5))) if p.type is int else float(v)
        out.append(point)
    return out

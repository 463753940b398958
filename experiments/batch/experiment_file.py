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
    price_path = "prices.csv"            # optional: a price file (relative to this file) every
                                         # scenario replays as its exogenous market

    [posterior]                          # optional: parameters drawn from a calibration
    file = "posterior.parquet"           # its posterior table (relative to this file)
    arms = ["point", "posterior"]        # optional: which arms run (default both)

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
With [posterior], every run is made in two arms: at the point (the declared defaults, whose
calibrated values are the least-squares fit, and the design) and over the posterior: replicate
r takes particle r of a draw by weight from the posterior table (the same particle in every
scenario and design point, so arms compare pairwise) for the calibrated parameters, and the same
seed as the point arm's replicate r. Posterior runs read `<scenario>.posterior.p<point>.r<replicate>`
and carry the table as an input (its digest in their identity, its file in the store).
Run ids read `<scenario>.p<point>.r<replicate>`; each run's seed is derived from the
experiment name and the replicate (and scenario and point when common_random_numbers is
false), never from run order. Each scenario file (and every file it extends) is read once,
when the experiment is loaded; its runs carry that content (model/inputs.py). The file is validated by a pydantic model whose parameter fields
are generated from the declaration (model/parameters.py); every error names the file, the key
and the allowed values, and is raised before anything runs.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from experiments.batch.spec import RunSpec, derive_seed
from model import inputs, scenarios
from model import parameters as P
from model.errors import InputError, did_you_mean, from_validation
from model.inputs import InputFile
from model.outputs import OUTPUTS

METHODS = ("lhs", "sobol")
POSTERIOR_ARMS = ("point", "posterior")
MAX_REPLICATES = 100_000
MAX_POINTS = 1_000_000
MAX_RUNS = 10_000_000


@dataclass(frozen=True)
class Posterior:
    """A calibration's posterior the runs draw from: the table's file and the arms run."""

    file: InputFile  # the posterior table (role "posterior")
    parameters: tuple[str, ...]  # the calibrated parameters it holds
    arms: tuple[str, ...] = POSTERIOR_ARMS

    def particles(self, n: int, experiment: str) -> list[dict[str, float]]:
        """Particles 0..n-1 drawn by weight (the same for the same experiment name: replicate r
        takes particle r in every scenario and design point)."""
        from experiments import posterior_table

        table, _meta = posterior_table.read_bytes(self.file.content or b"", self.file.name)
        drawn = posterior_table.draw(table, n, derive_seed(experiment, "posterior"))
        return [{k: float(row[k]) for k in self.parameters} for _, row in drawn.iterrows()]


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
    loaded: tuple[scenarios.Scenario, ...] = ()  # the scenarios as read (default: read now)
    posterior: Posterior | None = None  # parameters drawn from a calibration's posterior

    def __post_init__(self) -> None:
        if len(self.loaded) != len(self.scenarios):
            object.__setattr__(self, "loaded", tuple(scenarios.load(s) for s in self.scenarios))

    def runs(self) -> list[RunSpec]:
        """Every run, in a fixed order (arm, scenario, point, replicate)."""
        out = []
        width = max(4, len(str(len(self.points) - 1)))
        rwidth = max(3, len(str(self.replicates - 1)))
        post = self.posterior
        arms = post.arms if post is not None else ("point",)
        particles = (
            post.particles(self.replicates, self.name) if post is not None and "posterior" in arms else []
        )
        for arm in arms:
            for scen, spec in zip(self.scenarios, self.loaded, strict=True):
                quarters = self.quarters if self.quarters is not None else spec.quarters
                tag = "" if arm == "point" else f".{arm}"
                for i, point in enumerate(self.points):
                    for r in range(self.replicates):
                        run_id = f"{spec.name}{tag}.p{i:0{width}d}.r{r:0{rwidth}d}"
                        seed = (
                            derive_seed(self.name, f"r{r}")
                            if self.common_random_numbers
                            else derive_seed(self.name, run_id.replace(tag, "", 1))
                        )
                        drawn = particles[r] if arm == "posterior" else {}
                        out.append(
                            RunSpec(
                                run_id=run_id,
                                scenario=scen,
                                params={**self.fixed, **point, **drawn},
                                seed=seed,
                                quarters=quarters,
                                participants=self.participants,
                                outputs=self.outputs,
                                loaded=spec,
                                inputs=(post.file,) if drawn else (),
                                drawn=tuple(sorted(drawn)),
                            )
                        )
        return out

    def with_overrides(
        self,
        replicates: int | None = None,
        participants: int | None = None,
        quarters: int | None = None,
        fixed: dict[str, Any] | None = None,
    ) -> Experiment:
        """The same experiment with command-line overrides of its size and fixed parameters.

        A parameter the file varies in [grid] or [sample] cannot be fixed from the command line;
        `n_participants` is set through `participants` only.
        """
        fixed = dict(fixed or {})
        if "n_participants" in fixed:
            raise InputError(
                "set the population with --participants",
                key="--set n_participants",
                allowed="--participants N",
            )
        varied = sorted(set(fixed) & set(self.points[0]))
        if varied:
            raise InputError(
                "is varied by the experiment file's [grid] or [sample]; it cannot also be fixed",
                source=self.path,
                key=f"--set {varied[0]}",
                allowed="a parameter the file does not vary",
            )
        from pydantic import ValidationError

        sizes = {"replicates": replicates, "participants": participants, "quarters": quarters}
        meta = file_model().model_fields["experiment"].annotation  # the file's own rules
        try:
            meta.model_validate({k: v for k, v in sizes.items() if v is not None})
        except ValidationError as exc:
            raise from_validation(exc, meta, source=None, key=lambda loc: f"--{loc[0]}") from None
        out = replace(
            self,
            replicates=replicates or self.replicates,
            participants=participants or self.participants,
            quarters=quarters or self.quarters,
            fixed={**self.fixed, **fixed},
        )
        _check_every_run(out, self.path)
        return out


@functools.cache
def file_model() -> type:
    """The pydantic model of an experiment file (parameter fields generated from the declaration)."""
    from typing import Annotated, ClassVar, Literal

    from pydantic import (
        AfterValidator,
        BaseModel,
        ConfigDict,
        Field,
        StrictBool,
        StrictStr,
        StringConstraints,
    )

    def count(low: int, high: int, default: Any = None, **kw: Any) -> Any:
        return Field(
            default=default,
            ge=low,
            le=high,
            strict=True,
            description=f"an integer from {low} to {high}",
            **kw,
        )

    def known_outputs(names: list[str]) -> list[str]:
        for o in names:
            if o not in OUTPUTS:
                raise InputError(
                    f"unknown output '{o}'{did_you_mean(o, OUTPUTS)}", allowed=", ".join(OUTPUTS)
                )
        return list(dict.fromkeys(names))

    shipped, max_quarters = ", ".join(scenarios.available()), scenarios.MAX_QUARTERS

    class Meta(BaseModel):
        model_config = ConfigDict(extra="forbid")
        UNKNOWN: ClassVar[str] = "unknown key in [experiment]"
        name: Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)] | None = Field(
            default=None, description='a quoted name such as "my_sweep"'
        )
        description: StrictStr = Field(default="", description="quoted text")
        scenarios: list[Annotated[StrictStr, Field(min_length=1)]] = Field(
            default=["baseline"],
            min_length=1,
            description=f"a non-empty list of: {shipped}, or scenario .toml paths",
        )
        replicates: int = count(1, MAX_REPLICATES, 1)
        quarters: int | None = count(1, max_quarters)
        participants: P.field_type(P.get("n_participants")) | None = Field(
            default=None, description=f"{P.get('n_participants').allowed}, as n_participants"
        )
        outputs: Annotated[list[StrictStr], AfterValidator(known_outputs)] | None = Field(
            default=None, description=", ".join(OUTPUTS)
        )
        common_random_numbers: StrictBool = Field(default=True, description="true or false")
        price_path: Annotated[StrictStr, Field(min_length=1)] | None = Field(
            default=None, description="a CSV price file (columns date, price), relative to this file"
        )

    Grid = P.section_model(
        lambda kind, p: (list[kind], {"min_length": 1, "description": f"a list, each {p.allowed}"}), "Grid"
    )
    Ranges = P.section_model(
        lambda kind, p: (
            tuple[kind, kind],
            {
                "description": f"[low, high], each {p.allowed}",
                "json_schema_extra": {
                    "problems": {k: "expected [low, high], got {input}" for k in ("missing", "too_long")}
                },
            },
        ),
        "Ranges",
    )

    class Sample(BaseModel):
        model_config = ConfigDict(extra="forbid")
        UNKNOWN: ClassVar[str] = "unknown key in [sample]"
        method: Literal[METHODS] = Field(
            default="lhs",
            description=", ".join(METHODS),
            json_schema_extra={"problems": {"literal_error": "unknown sampling method {input}"}},
        )
        points: int = count(1, MAX_POINTS, ...)
        seed: int = count(0, 2**63 - 1, 0)
        parameters: list[StrictStr] = Field(default=[], description="declared numeric parameter names")
        ranges: Ranges = Ranges()

    class PosteriorSection(BaseModel):
        model_config = ConfigDict(extra="forbid")
        UNKNOWN: ClassVar[str] = "unknown key in [posterior]"
        file: Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
            description="the path of a calibration's posterior.parquet, relative to this file"
        )
        arms: list[Literal[POSTERIOR_ARMS]] = Field(
            default=list(POSTERIOR_ARMS),
            min_length=1,
            description=", ".join(POSTERIOR_ARMS),
            json_schema_extra={"problems": {"literal_error": "unknown arm {input}"}},
        )

    Parameters = P.section_model()

    class ExperimentFile(BaseModel):
        model_config = ConfigDict(extra="forbid")
        experiment: Meta = Field(
            description="[experiment] with name, scenarios and replicates",
            json_schema_extra={"problems": {"missing": "missing section [experiment]"}},
        )
        parameters: Parameters = Parameters()
        grid: Grid = Grid()
        sample: Sample | None = None
        posterior: PosteriorSection | None = None

    return ExperimentFile


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
    doc = scenarios.validate_file(
        scenarios.read_toml(path),
        file_model(),
        src,
        "experiment",
        key=lambda loc: ".".join(str(part) for part in loc if not isinstance(part, int)),
    )
    meta = doc.experiment
    resolved = [_scenario(n, path, src) for n in meta.scenarios]
    if meta.price_path is not None:
        prices = Path(meta.price_path)
        prices = prices if prices.is_absolute() else path.parent / prices
        try:
            resolved = [(ref, spec.with_data("price_path", prices)) for ref, spec in resolved]
        except InputError as exc:
            raise InputError(
                exc.problem, source=exc.source, key="experiment.price_path", allowed=exc.allowed
            ) from None
    loaded_names = [spec.name for _, spec in resolved]
    if len(set(loaded_names)) != len(loaded_names):
        raise InputError(
            f"a scenario is listed twice: {loaded_names}",
            source=src,
            key="experiment.scenarios",
            allowed="each scenario once",
        )
    fixed = doc.parameters.model_dump(exclude_unset=True)
    grid = doc.grid.model_dump(exclude_unset=True)
    for key, values in grid.items():
        if len(set(map(repr, values))) != len(values):
            raise InputError(
                "a value is listed twice", source=src, key=f"grid.{key}", allowed="distinct values"
            )
    sampled = _sample(doc.sample, src) if doc.sample is not None else [{}]
    overlap = (set(fixed) & set(grid)) | (set(fixed) & set(sampled[0])) | (set(grid) & set(sampled[0]))
    if overlap:
        raise InputError(
            "a parameter is set in more than one of [parameters], [grid], [sample]",
            source=src,
            key=sorted(overlap)[0],
            allowed="each parameter in one place",
        )
    points = tuple(
        {**dict(zip(grid, combo, strict=True)), **s}
        for combo in itertools.product(*grid.values())
        for s in sampled
    )
    posterior = _posterior(doc.posterior, path, src, set(fixed) | set(grid) | set(sampled[0]))
    exp = Experiment(
        name=meta.name or path.stem,
        description=meta.description,
        scenarios=tuple(ref for ref, _ in resolved),
        replicates=meta.replicates,
        quarters=meta.quarters,
        participants=meta.participants,
        outputs=tuple(meta.outputs) if meta.outputs is not None else None,
        common_random_numbers=meta.common_random_numbers,
        fixed=fixed,
        points=points,
        path=src,
        loaded=tuple(spec for _, spec in resolved),
        posterior=posterior,
    )
    _check_every_run(exp, src)
    return exp


def _posterior(section, path: Path, src: str, designed: set[str]) -> Posterior | None:
    """The [posterior] section: its table read (and checked) now, where the runs are planned."""
    if section is None:
        return None
    from experiments import posterior_table

    arms = tuple(dict.fromkeys(section.arms))
    table_path = Path(section.file)
    table_path = table_path if table_path.is_absolute() else path.parent / table_path
    if table_path.is_dir():
        table_path = table_path / posterior_table.FILE
    if not table_path.is_file():
        raise InputError(
            "posterior table not found",
            source=src,
            key="posterior.file",
            allowed=f"the path of a calibration's {posterior_table.FILE}, relative to this file",
        )
    file = inputs.read("posterior", table_path)
    _table, meta = posterior_table.read_bytes(file.content or b"", file.name)
    names = tuple(meta["parameters"])
    clash = sorted(set(names) & designed)
    if clash:
        raise InputError(
            f"'{clash[0]}' is drawn from the posterior and also set by [parameters], [grid] or [sample]",
            source=src,
            key="posterior.file",
            allowed="a design that leaves the calibrated parameters to the posterior",
        )
    return Posterior(file, names, arms)


def _scenario(name: str, path: Path, src: str) -> tuple[str, scenarios.Scenario]:
    """A listed scenario's reference and the scenario read from it; a .toml path is read
    relative to the experiment file."""
    ref = str(path.parent / name) if name.endswith(".toml") and not Path(name).is_absolute() else name
    try:
        return ref, scenarios.load(ref)
    except InputError as exc:
        problem = f"'{name}': {exc.problem}" if exc.key == name else str(exc)
        raise InputError(
            problem,
            source=src,
            key="experiment.scenarios",
            allowed=f"{', '.join(scenarios.available())}, or scenario .toml paths",
        ) from None


def _check_every_run(exp: Experiment, src: str | None) -> None:
    """Every run's full parameter set must be valid, and the batch not absurdly large, before anything runs."""
    total = len(exp.points) * exp.replicates * len(exp.scenarios)
    if total > MAX_RUNS:
        raise InputError(
            f"{total:,} runs is too many",
            source=src,
            key="experiment.replicates",
            allowed=f"at most {MAX_RUNS:,} runs (scenarios x points x replicates)",
        )
    size = {"n_participants": exp.participants} if exp.participants is not None else {}
    for spec in exp.loaded:
        for point in exp.points:
            try:
                spec.parameters({**exp.fixed, **size, **point})
            except InputError as exc:
                raise exc.with_source(src) if src else exc from None


def _sample(sec: Any, src: str) -> list[dict[str, Any]]:
    """The sampled design points: LHS or scrambled Sobol over the (declared or given) ranges."""
    from scipy.stats import qmc

    if sec.method == "sobol" and sec.points & (sec.points - 1):
        raise InputError(
            f"{sec.points} is not a power of 2 (Sobol balance needs one)",
            source=src,
            key="sample.points",
            allowed="a power of 2: 2, 4, 8, 16, ...",
        )
    ranges = sec.ranges.model_dump(exclude_unset=True)
    names = list(dict.fromkeys([*sec.parameters, *ranges]))
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
        lo, hi = ranges.get(n, (p.low, p.high))
        if not lo < hi:
            raise InputError(
                f"low {lo} is not below high {hi}",
                source=src,
                key=f"sample.ranges.{n}",
                allowed=f"low < high, within {p.allowed}",
            )
        bounds.append((p, float(lo), float(hi)))
    rng = np.random.default_rng(sec.seed)
    d = len(bounds)
    sampler = qmc.LatinHypercube(d, rng=rng) if sec.method == "lhs" else qmc.Sobol(d, scramble=True, rng=rng)
    out = []
    for row in sampler.random(sec.points):
        point = {}
        for (p, lo, hi), u in zip(bounds, row, strict=True):
            v = lo + u * (hi - lo)
            point[p.name] = int(min(hi, math.floor(v + 0.5))) if p.type is int else float(v)
        out.append(point)
    return out

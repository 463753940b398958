"""Calibration target files: what the model should reproduce, how closely, and who says so.

A target file is TOML with one `[[target]]` table per target::

    [[target]]
    name = "inertia"                          # unique, free text
    statistic = "annual_review_share@1:4"     # see experiments/tuning/moments.py
    observed = 0.10                           # the observed value (same unit as the statistic)
    tolerance = 0.03                          # how far off counts as one unit of error (> 0)
    weight = 1.0                              # optional, default 1 (>= 0)
    kind = "point"                            # optional: point (default), upper or lower bound
    source = "Mitchell et al. (2006): ..."    # required: where the observed value comes from

`kind = "upper"` means the statistic should not exceed `observed` (no error below it);
`"lower"` the reverse.

The Bayesian calibration (`crypto401k calibrate --method abc`, experiments/inference/) puts a
uniform prior on each calibrated parameter over its declared range. A cited source may narrow
it, once, in the same file::

    [prior.affinity_mean]
    low = -3.0
    high = 1.0
    reason = "Gallup (Jun 2025): ..."   # required: why the declared range is too wide

The narrowed range must lie inside the declared one (`crypto401k params`). The file is
validated by a pydantic model; every problem is reported as an InputError naming the file, the
target (or prior) and the key, before any model runs.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.tuning import moments
from model.errors import InputError, did_you_mean
from model.scenarios import read_toml, validate_file

KINDS = ("point", "upper", "lower")
REQUIRED = ("name", "statistic", "observed", "tolerance", "source")
KEYS = REQUIRED + ("weight", "kind")
PRIOR_KEYS = ("low", "high", "reason")
# The error, in tolerances, charged for a statistic a parameter set leaves undefined (e.g. uptake
# when no plan offers crypto): large enough that the optimiser leaves such regions.
MISSING_ERROR = 10.0


@dataclass(frozen=True)
class Target:
    """One calibration target: a simulated statistic, its observed value, tolerance and source."""

    name: str
    statistic: moments.Statistic
    observed: float
    tolerance: float
    source: str
    weight: float = 1.0
    kind: str = "point"

    def error(self, simulated: float) -> float:
        """Signed distance from observed, in tolerances (0 inside a bound; MISSING_ERROR if NaN)."""
        if simulated is None or not math.isfinite(simulated):
            return MISSING_ERROR
        diff = (simulated - self.observed) / self.tolerance
        if self.kind == "upper":
            return max(diff, 0.0)
        if self.kind == "lower":
            return min(diff, 0.0)
        return diff


@dataclass(frozen=True)
class PriorRange:
    """A prior narrowed by the target file: [low, high] in the parameter's declared unit, and why."""

    name: str
    low: float
    high: float
    reason: str


@dataclass(frozen=True)
class TargetFile:
    """A whole target file: its targets and the priors it narrows (by parameter name)."""

    targets: list[Target]
    priors: dict[str, PriorRange]


def statistics(targets: list[Target], tables) -> dict[str, float]:
    """Each target's simulated statistic, averaged over the replicate runs' tables."""
    return {t.name: t.statistic.of_runs(tables) for t in targets}


def loss(targets: list[Target], simulated: dict[str, float]) -> tuple[float, dict[str, float]]:
    """The weighted mean squared error in tolerances, and each target's error.

    The one objective of both calibrations: the optuna fit minimises it, and the Bayesian
    calibration's error model has log-likelihood -0.5 x (sum of weights) x loss (each target's
    tolerance / sqrt(weight) is the standard deviation of a normal error; zero inside a bound).
    """
    errors = {t.name: t.error(simulated.get(t.name, math.nan)) for t in targets}
    total = sum(t.weight for t in targets)
    return sum(t.weight * errors[t.name] ** 2 for t in targets) / total, errors


@functools.cache
def file_model() -> type:
    """The pydantic model of a target file: one or more [[target]] tables, optional [prior.NAME]."""
    from typing import Annotated, ClassVar, Literal

    from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, StringConstraints

    text = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1)]

    def number(default: Any = ..., **kw: Any) -> Any:
        finite = {
            "float_type": "expected a number, got {input}",
            "finite_number": "expected a finite number, got {input}",
        }
        problems = {**finite, **kw.pop("problems", {})}
        return Field(
            default,
            strict=True,
            allow_inf_nan=False,
            description=kw.pop("description", "a finite number"),
            json_schema_extra={"problems": problems},
            **kw,
        )

    class Entry(BaseModel):
        model_config = ConfigDict(extra="forbid")
        UNKNOWN: ClassVar[str] = "unknown key"
        ALLOWED_KEYS: ClassVar[str] = ", ".join(KEYS)
        name: text = Field(description='a quoted name such as "inertia"')
        statistic: Annotated[Any, AfterValidator(lambda v: moments.parse(v))] = Field(
            description="an output name, optionally @QUARTER or @Q1:Q2"
        )
        observed: float = number()
        tolerance: float = number(
            gt=0, description="a number > 0", problems={"greater_than": "must be above 0, got {input}"}
        )
        source: text = Field(
            description="a non-empty string",
            json_schema_extra={
                "problems": {"string_too_short": "must name where the observed value comes from"}
            },
        )
        weight: float = number(
            1.0,
            ge=0,
            description="a number >= 0",
            problems={"greater_than_equal": "must not be negative, got {input}"},
        )
        kind: Literal[KINDS] = Field(
            "point",
            description=", ".join(KINDS),
            json_schema_extra={"problems": {"literal_error": "unknown kind {input}"}},
        )

    class Prior(BaseModel):
        model_config = ConfigDict(extra="forbid")
        UNKNOWN: ClassVar[str] = "unknown key in a [prior.NAME] table"
        ALLOWED_KEYS: ClassVar[str] = ", ".join(PRIOR_KEYS)
        low: float = number()
        high: float = number()
        reason: text = Field(
            description="a non-empty string",
            json_schema_extra={
                "problems": {
                    "missing": "a narrowed prior needs a reason (the source that narrows it)",
                    "string_too_short": "must say why the declared range is narrowed (cite a source)",
                }
            },
        )

    class TargetFile(BaseModel):
        model_config = ConfigDict(extra="forbid")
        target: list[Entry] = Field(
            min_length=1,
            description="one or more [[target]] tables with " + ", ".join(REQUIRED),
            json_schema_extra={"problems": {"missing": "no targets", "too_short": "no targets"}},
        )
        prior: dict[str, Prior] = Field(
            default_factory=dict,
            description="[prior.NAME] tables with low, high and reason",
        )

    return TargetFile


def parse_targets(data: dict, src: str) -> list[Target]:
    """Targets from a parsed TOML document (`src` names the file in messages)."""
    return parse_target_file(data, src).targets


def parse_target_file(data: dict, src: str) -> TargetFile:
    """Targets and narrowed priors from a parsed TOML document (`src` names the file in messages)."""

    def key(loc: tuple) -> str:
        # a key inside a target is named after the target: 'inertia.tolerance'
        if len(loc) < 2 or not isinstance(loc[1], int):
            return ".".join(map(str, loc))
        entry = data["target"][loc[1]]
        name = entry.get("name") if isinstance(entry, dict) else None
        label = name if isinstance(name, str) and name.strip() else f"target #{loc[1] + 1}"
        return ".".join([label, *map(str, loc[2:])])

    doc = validate_file(data, file_model(), src, "targets", key=key)
    seen: set[str] = set()
    for t in doc.target:
        if t.name in seen:
            raise InputError(
                "duplicate target name", source=src, key=f"{t.name}.name", allowed="each target name once"
            )
        seen.add(t.name)
    if sum(t.weight for t in doc.target) <= 0:
        raise InputError(
            "all weights are zero", source=src, key="weight", allowed="at least one target with weight > 0"
        )
    priors = {name: _prior(name, entry, src) for name, entry in doc.prior.items()}
    return TargetFile([Target(**dict(t)) for t in doc.target], priors)


def _prior(name: str, entry: Any, src: str) -> PriorRange:
    """A [prior.NAME] table checked against the declaration: a numeric parameter, a range inside
    the declared one (a prior narrows, never widens), low below high."""
    from model import parameters as P

    key = f"prior.{name}"
    if name not in P.PARAMETERS:
        raise InputError(
            f"unknown parameter{did_you_mean(name, P.PARAMETERS)}",
            source=src,
            key=key,
            allowed="a declared parameter (`crypto401k params`)",
        )
    p = P.PARAMETERS[name]
    if p.type is bool or p.low is None or p.high is None:
        raise InputError(
            "has no prior (a switch or a parameter without a finite range)",
            source=src,
            key=key,
            allowed="a numeric parameter with a declared range (`crypto401k params`)",
        )
    lo, hi = float(p.low), float(p.high)
    for side, value in (("low", entry.low), ("high", entry.high)):
        if not lo <= value <= hi:
            raise InputError(
                f"{value:g} is outside the declared range",
                source=src,
                key=f"{key}.{side}",
                allowed=f"a number from {lo:g} to {hi:g} (a prior narrows the declared range)",
            )
    if not entry.low < entry.high:
        raise InputError(
            f"empty range {entry.low:g} to {entry.high:g}", source=src, key=key, allowed="low below high"
        )
    return PriorRange(name, float(entry.low), float(entry.high), entry.reason)


def load_target_file(path: str | Path) -> TargetFile:
    """The targets and narrowed priors of a TOML file, validated (InputError naming file, key)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "targets file not found",
            source=str(path),
            allowed="a TOML file of [[target]] tables, e.g. experiments/calibration_targets.toml",
        )
    return parse_target_file(read_toml(path), str(path))


def load_targets(path: str | Path) -> list[Target]:
    """The targets in a TOML file, validated (InputError naming file, target and key)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "targets file not found",
            source=str(path),
            allowed="a TOML file of [[target]] tables, e.g. experiments/calibration_targets.toml",
        )
    return parse_targets(read_toml(path), str(path))


def needed_outputs(targets: list[Target]) -> tuple[str, ...]:
    """The model outputs the runs must keep to compute every target's statistic."""
    return tuple(dict.fromkeys(o for t in targets for o in t.statistic.outputs))


def needed_quarters(targets: list[Target]) -> int:
    """The fewest quarters a run needs so that every target's quarter exists (at least 1)."""
    return max(1, max(t.statistic.max_quarter for t in targets))

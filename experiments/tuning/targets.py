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
`"lower"` the reverse. The file is validated by a pydantic model; every problem is reported as
an InputError naming the file, the target and the key, before any model runs.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.tuning import moments
from model.errors import InputError
from model.scenarios import read_toml, validate_file

KINDS = ("point", "upper", "lower")
REQUIRED = ("name", "statistic", "observed", "tolerance", "source")
KEYS = REQUIRED + ("weight", "kind")
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


@functools.cache
def file_model() -> type:
    """The pydantic model of a target file: one or more [[target]] tables."""
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

    class TargetFile(BaseModel):
        model_config = ConfigDict(extra="forbid")
        target: list[Entry] = Field(
            min_length=1,
            description="one or more [[target]] tables with " + ", ".join(REQUIRED),
            json_schema_extra={"problems": {"missing": "no targets", "too_short": "no targets"}},
        )

    return TargetFile


def parse_targets(data: dict, src: str) -> list[Target]:
    """Targets from a parsed TOML document (`src` names the file in messages)."""

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
    return [Target(**dict(t)) for t in doc.target]


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

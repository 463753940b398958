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
`"lower"` the reverse. Every problem is reported as an InputError naming the file, the target
and the key, before any model runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from experiments.tuning import moments
from model.errors import InputError, did_you_mean
from model.scenarios import read_toml

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


def _short(value) -> str:
    """A value as a user reads it in a one-line message (huge numbers abbreviated)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(value, src: str, key: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(
            f"expected a number, got {_short(value)}", source=src, key=key, allowed="a finite number"
        )
    try:
        finite = math.isfinite(value)
    except OverflowError:  # a huge TOML integer
        finite = False
    if not finite:
        raise InputError(
            f"expected a finite number, got {_short(value)}", source=src, key=key, allowed="a finite number"
        )
    if positive and value <= 0:
        raise InputError(f"must be above 0, got {value!r}", source=src, key=key, allowed="a number > 0")
    if value < 0 and key.endswith(".weight"):
        raise InputError(f"must not be negative, got {value!r}", source=src, key=key, allowed="a number >= 0")
    return float(value)


def parse_targets(data: dict, src: str) -> list[Target]:
    """Targets from a parsed TOML document (`src` names the file in messages)."""
    extra = [k for k in data if k != "target"]
    if extra:
        raise InputError(
            f"unknown section [{extra[0]}]{did_you_mean(extra[0], ['target'])}",
            source=src,
            key=extra[0],
            allowed="[[target]] tables only",
        )
    tables = data.get("target")
    if not isinstance(tables, list) or not tables:
        raise InputError(
            "no targets",
            source=src,
            key="target",
            allowed="one or more [[target]] tables with " + ", ".join(REQUIRED),
        )
    out: list[Target] = []
    seen: set[str] = set()
    for i, t in enumerate(tables, start=1):
        if not isinstance(t, dict):
            raise InputError("must be a table", source=src, key=f"target #{i}")
        label = t.get("name") if isinstance(t.get("name"), str) and t.get("name") else f"target #{i}"
        for key in t:
            if key not in KEYS:
                raise InputError(
                    f"unknown key{did_you_mean(key, KEYS)}",
                    source=src,
                    key=f"{label}.{key}",
                    allowed=", ".join(KEYS),
                )
        for key in REQUIRED:
            if key not in t:
                raise InputError(
                    "missing",
                    source=src,
                    key=f"{label}.{key}",
                    allowed="every target needs " + ", ".join(REQUIRED),
                )
        name = t["name"]
        if not isinstance(name, str) or not name.strip():
            raise InputError(
                "must be a non-empty string",
                source=src,
                key=f"{label}.name",
                allowed='a quoted name such as "inertia"',
            )
        if name in seen:
            raise InputError(
                "duplicate target name", source=src, key=f"{name}.name", allowed="each target name once"
            )
        seen.add(name)
        source = t["source"]
        if not isinstance(source, str) or not source.strip():
            raise InputError(
                "must name where the observed value comes from",
                source=src,
                key=f"{name}.source",
                allowed="a non-empty string",
            )
        kind = t.get("kind", "point")
        if kind not in KINDS:
            raise InputError(
                f"unknown kind {kind!r}", source=src, key=f"{name}.kind", allowed=", ".join(KINDS)
            )
        out.append(
            Target(
                name=name,
                statistic=moments.parse(t["statistic"], source=src, key=f"{name}.statistic"),
                observed=_number(t["observed"], src, f"{name}.observed"),
                tolerance=_number(t["tolerance"], src, f"{name}.tolerance", positive=True),
                source=source.strip(),
                weight=_number(t.get("weight", 1.0), src, f"{name}.weight"),
                kind=kind,
            )
        )
    if sum(t.weight for t in out) <= 0:
        raise InputError(
            "all weights are zero", source=src, key="weight", allowed="at least one target with weight > 0"
        )
    return out


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

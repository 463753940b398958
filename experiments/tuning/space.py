"""Which parameters vary in a sensitivity analysis or a calibration, and over what range.

Ranges come from the one declaration (model/parameters.py). On the command line a parameter is
named alone (its declared range) or as `name=LOW:HIGH` to search a narrower part of it;
several may be given in one argument separated by commas. With none named, the parameters
declared `behavioural=True` are used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from model import parameters as P
from model.errors import InputError


@dataclass(frozen=True)
class Dimension:
    """One varied parameter: its name, the searched range (declared units) and whether it is an integer."""

    name: str
    low: float
    high: float
    integer: bool = False

    def value(self, x: float) -> float | int:
        """A sampled number as the parameter's type (integers rounded), kept inside the range."""
        x = min(max(float(x), self.low), self.high)
        return int(round(x)) if self.integer else x


def behavioural() -> list[str]:
    """Names of the parameters declared behavioural (screened by default)."""
    return [p.name for p in P.PARAMETERS.values() if p.behavioural]


def _split(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        out.extend(part.strip() for part in item.replace(" ", ",").split(",") if part.strip())
    return out


def parse_space(items: Iterable[str] | None, key: str = "--params") -> list[Dimension]:
    """The varied parameters from `name` / `name=LOW:HIGH` items (default: the behavioural ones)."""
    entries = _split(items or []) or behavioural()
    dims: list[Dimension] = []
    for entry in entries:
        name, _, rng = entry.partition("=")
        p = P.get(name.strip(), key)
        if p.type is bool or p.low is None or p.high is None:
            raise InputError(
                "cannot be varied (it is a switch or has no finite range)",
                key=f"{key} {p.name}",
                allowed="a numeric parameter with a declared range",
            )
        low, high = float(p.low), float(p.high)
        if rng:
            lo_text, sep, hi_text = rng.partition(":")
            if not sep:
                raise InputError(
                    f"expected LOW:HIGH after '=', got {rng!r}",
                    key=f"{key} {p.name}",
                    allowed=f"name=LOW:HIGH inside {p.allowed}",
                )
            low = float(p.parse(lo_text, key))
            high = float(p.parse(hi_text, key))
        if not low < high:
            raise InputError(f"empty range {low:g}:{high:g}", key=f"{key} {p.name}", allowed="LOW below HIGH")
        if any(d.name == p.name for d in dims):
            raise InputError("named twice", key=f"{key} {p.name}")
        dims.append(Dimension(p.name, low, high, p.type is int))
    return dims


def salib_problem(dims: list[Dimension]) -> dict[str, Any]:
    """The SALib problem dictionary for these dimensions (names and bounds)."""
    return {"num_vars": len(dims), "names": [d.name for d in dims], "bounds": [[d.low, d.high] for d in dims]}


def point(dims: list[Dimension], row: Iterable[float]) -> dict[str, float | int]:
    """A sampled row of numbers as a parameter dictionary of declared types."""
    return {d.name: d.value(x) for d, x in zip(dims, row, strict=True)}

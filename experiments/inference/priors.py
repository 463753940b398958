"""The prior of each calibrated parameter: uniform over a range, and where the range comes from.

By default a parameter's prior is uniform over its declared range (model/parameters.py).
`--params name=LOW:HIGH` or a target file's `[prior.NAME]` table (with its reason) narrows it;
the two may not both narrow the same parameter. Nothing here widens a declared range: the
prior-sensitivity check's doubled ranges are clipped to it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from experiments.tuning.space import Dimension
from experiments.tuning.targets import PriorRange
from model import parameters as P
from model.errors import InputError

UNIFORM_SD = 1 / np.sqrt(12)  # standard deviation of U(0, 1)
# z of the 5% and 95% quantiles are read off the uniform directly (no normal approximation)
LEVEL = 0.90


@dataclass(frozen=True)
class Prior:
    """A uniform prior on one parameter: [low, high] in its declared unit, and why that range."""

    name: str
    low: float
    high: float
    source: str

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def sd(self) -> float:
        return self.width * UNIFORM_SD

    @property
    def variance(self) -> float:
        return self.sd**2

    def quantile(self, q: float) -> float:
        return self.low + q * self.width

    def interval(self, level: float = LEVEL) -> tuple[float, float]:
        """The central interval holding `level` of the prior mass."""
        tail = (1 - level) / 2
        return self.quantile(tail), self.quantile(1 - tail)

    def scaled(self, factor: float, centre: float) -> Prior:
        """The prior with its width times `factor` around `centre`, kept inside the declared range
        (shifted, not cut, where it can be, so a halved prior keeps half the width)."""
        p = P.PARAMETERS[self.name]
        lo_max, hi_max = float(p.low), float(p.high)
        width = min(self.width * factor, hi_max - lo_max)
        low = min(max(centre - width / 2, lo_max), hi_max - width)
        return replace(
            self,
            low=low,
            high=low + width,
            source=f"{self.source}; width x{factor:g} around {centre:.4g} (prior-sensitivity check)",
        )


def calibrated_names() -> list[str]:
    """The parameters whose declared default came from the calibration (source 'calibrated: ...')."""
    return [p.name for p in P.PARAMETERS.values() if p.source.startswith("calibrated")]


def build(dims: list[Dimension], narrowed: dict[str, PriorRange], given: set[str], src: str) -> list[Prior]:
    """One prior per calibrated dimension.

    dims: the calibrated parameters with their ranges (declared, or `--params name=LOW:HIGH`);
    narrowed: the target file's [prior.NAME] tables; given: the names whose range `--params`
    set; src: the target file (named in messages). Integer parameters and a parameter narrowed
    both ways are refused (InputError). A [prior.NAME] of a parameter this calibration does not
    vary is not used: one targets file serves calibrations of different parameter sets (its
    names were checked against the declaration when it was read).
    """
    out = []
    for d in dims:
        if d.integer:
            raise InputError(
                "an integer parameter cannot be calibrated by ABC (the posterior is continuous)",
                key=f"--params {d.name}",
                allowed="a real-valued parameter, or --method msm",
            )
        if d.name in narrowed and d.name in given:
            raise InputError(
                f"the prior is narrowed both by the targets file ([prior.{d.name}]) and by --params",
                key=f"--params {d.name}",
                allowed="one of the two",
            )
        p = P.PARAMETERS[d.name]
        if d.name in narrowed:
            r = narrowed[d.name]
            out.append(Prior(d.name, r.low, r.high, f"narrowed in {src}: {r.reason}"))
        elif d.name in given:
            out.append(Prior(d.name, d.low, d.high, f"--params {d.name}={d.low:g}:{d.high:g}"))
        else:
            out.append(Prior(d.name, float(p.low), float(p.high), "declared range (model/parameters.py)"))
    return out


def distribution(priors: list[Prior]):
    """The pyabc prior: independent uniforms."""
    import pyabc

    return pyabc.Distribution(**{p.name: pyabc.RV("uniform", p.low, p.width) for p in priors})


def as_records(priors: list[Prior]) -> list[dict]:
    """The priors as plain records (stored with the posterior table)."""
    return [{"name": p.name, "low": p.low, "high": p.high, "source": p.source} for p in priors]


def from_records(records: list[dict]) -> list[Prior]:
    return [Prior(r["name"], float(r["low"]), float(r["high"]), r["source"]) for r in records]

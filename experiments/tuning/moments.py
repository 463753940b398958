"""Statistics of a run ("moments"): an output, or a derived series, at a quarter or averaged
over a range of quarters.

A statistic is written `NAME@QUARTER` or `NAME@FIRST:LAST` (inclusive; quarter 0 = 2025Q3),
e.g. `interest_share@0` or `annual_review_share@1:4`; a bare `NAME` means the last quarter.
NAME is a stable output name (model/outputs.py) or one of `DERIVED`. The sensitivity
`--outcome` and the calibration targets use the same grammar. A statistic is computed per run
(seed) and then averaged over seeds, ignoring runs where it is undefined (e.g. a ratio whose
denominator is zero).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.errors import InputError, did_you_mean
from model.outputs import OUTPUTS
from model.scenarios import MAX_QUARTERS


def _ratio(num: str, den: str) -> Callable[[pd.DataFrame], pd.Series]:
    def series(table: pd.DataFrame) -> pd.Series:
        d = table[den].astype(float)
        return table[num].astype(float).where(d > 0) / d.where(d > 0)

    return series


def _voted(table: pd.DataFrame) -> pd.Series:
    return (table["bill"].fillna("").astype(str).str.len() > 0).astype(float)


# name: (the outputs it reads, how the per-quarter series follows from them, meaning)
DERIVED: dict[str, tuple[tuple[str, ...], Callable[[pd.DataFrame], pd.Series], str]] = {
    "uptake_when_offered": (
        ("active_adoption_rate", "participants_with_option_share"),
        _ratio("active_adoption_rate", "participants_with_option_share"),
        "share of participants whose plan menu has a crypto option who hold it by choice",
    ),
    "bills_voted": (
        ("bill",),
        _voted,
        "1 in a quarter when Congress voted on a crackdown or protection bill, else 0 (averaged over"
        " a window: the share of its quarters with a vote)",
    ),
}

_PATTERN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:@\s*(\d+)\s*(?::\s*(\d+)\s*)?)?$")
NON_NUMERIC_UNITS = {"text", "YYYYQn"}


def known_names() -> list[str]:
    """Every name a statistic may use: numeric outputs, then derived series."""
    return [n for n, (unit, _) in OUTPUTS.items() if unit not in NON_NUMERIC_UNITS] + list(DERIVED)


@dataclass(frozen=True)
class Statistic:
    """One statistic: a series name and the quarters it is read at (None: the last quarter)."""

    name: str
    first: int | None = None
    last: int | None = None

    @property
    def text(self) -> str:
        """The statistic as written in files and on the command line."""
        if self.first is None:
            return self.name
        return (
            f"{self.name}@{self.first}"
            if self.first == self.last
            else f"{self.name}@{self.first}:{self.last}"
        )

    @property
    def outputs(self) -> tuple[str, ...]:
        """The model outputs a run must keep to compute this statistic."""
        return DERIVED[self.name][0] if self.name in DERIVED else (self.name,)

    @property
    def max_quarter(self) -> int:
        """The last quarter the statistic reads (0 when it reads the last quarter of any run)."""
        return 0 if self.last is None else self.last

    def series(self, table: pd.DataFrame) -> pd.Series:
        """The per-quarter series this statistic reads, indexed by quarter."""
        s = DERIVED[self.name][1](table) if self.name in DERIVED else table[self.name]
        return pd.Series(
            pd.to_numeric(s, errors="coerce").to_numpy(float), index=table["quarter"].to_numpy(int)
        )

    def of_run(self, table: pd.DataFrame) -> float:
        """The statistic in one run (NaN when undefined there, or the run is too short)."""
        s = self.series(table)
        if self.first is None:
            return float(s.iloc[-1]) if len(s) else math.nan
        window = s.loc[(s.index >= self.first) & (s.index <= self.last)]
        if len(window) < self.last - self.first + 1 or window.isna().all():
            return math.nan
        return float(window.mean())

    def of_runs(self, tables: Iterable[pd.DataFrame]) -> float:
        """The statistic averaged over runs (replicate seeds), NaN when undefined in all of them."""
        values = np.array([self.of_run(t) for t in tables], float)
        return float(np.nanmean(values)) if np.isfinite(values).any() else math.nan


def parse(text: str, *, source: str | None = None, key: str | None = None) -> Statistic:
    """`NAME[@Q]` or `NAME@Q1:Q2` checked against the known names and quarter range."""
    if not isinstance(text, str):
        shown = repr(text) if len(repr(text)) <= 40 else repr(text)[:37] + "..."
        raise InputError(
            f"expected a statistic like 'adoption_rate@8', got {shown}",
            source=source,
            key=key,
            allowed="an output name, optionally @QUARTER or @Q1:Q2",
        )
    m = _PATTERN.match(text)
    if not m:
        raise InputError(
            f"cannot read statistic {text!r}",
            source=source,
            key=key,
            allowed="NAME, NAME@QUARTER or NAME@FIRST:LAST, e.g. adoption_rate@8",
        )
    name, first, last = m.group(1), m.group(2), m.group(3)
    names = known_names()
    if name not in names:
        raise InputError(
            f"unknown statistic '{name}'{did_you_mean(name, names)}",
            source=source,
            key=key,
            allowed="a numeric model output (docs/guide/tuning.md) or " + ", ".join(DERIVED),
        )
    if first is None:
        return Statistic(name)
    q1 = int(first)
    q2 = int(last) if last is not None else q1
    if not 0 <= q1 <= q2 <= MAX_QUARTERS:
        raise InputError(
            f"bad quarter range in {text!r}",
            source=source,
            key=key,
            allowed=f"0 <= FIRST <= LAST <= {MAX_QUARTERS}",
        )
    return Statistic(name, q1, q2)

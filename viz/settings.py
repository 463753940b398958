"""What a page run is made of (scenario, seed, resolution, parameter overrides) and how the page
describes it: slider labels, units, ranges and meanings from the one parameter declaration
(model/parameters.py), the effective values a run uses, and the equivalent command line.

A parameter the user has not touched takes the value of the selected scenario (the scenario
file, else the declared default); a parameter the user set is an override, kept even when it
equals the declared default, so a scenario's value can be undone. The page's resolution is the
command line's default (`crypto401k run` without --participants), so the page and the
command give the same run for the same seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from model import parameters as P
from model import scenarios
from model.errors import InputError

PAGE_SCENARIO = "baseline"
PAGE_SEED = 0
MAX_SEED = 2**63 - 1
PAGE_PARTICIPANTS = int(P.get("n_participants").default)  # the command line's default
PAGE_EMPLOYERS = int(P.get("n_employers").default)
PARTICIPANT_CHOICES = (10_000, 30_000, 100_000, 300_000)
EMPLOYER_CHOICES = (500, 1_000, 2_000, 5_000)
# A page run lives in a server shared by a team (~70 MB at 100,000 participants): the page
# accepts resolutions up to these (within the declared ranges); larger runs belong to the
# command line.
PAGE_MAX = {"n_participants": 300_000, "n_employers": 20_000}

BEHAVIOURAL = [p for p in P.PARAMETERS.values() if p.behavioural and p.type is not bool]
GROUP_TITLES = {
    "behaviour": "Participants' behaviour",
    "employer": "Employers (plan sponsors)",
    "market": "Crypto market",
    "managers": "Asset managers",
    "politics": "Politics",
    "policy": "Policy levers (retirement security)",
}
ACRONYMS = {"usd": "USD", "tdf": "TDF", "dol": "DOL", "401k": "401(k)"}


def parameter_groups() -> dict[str, list[P.Parameter]]:
    """The behavioural parameters by declared group, in declaration order."""
    out: dict[str, list[P.Parameter]] = {}
    for p in BEHAVIOURAL:
        out.setdefault(p.group, []).append(p)
    return out


def group_title(group: str) -> str:
    """A parameter group's heading: its title, else the group's name as a heading."""
    return GROUP_TITLES.get(group, group[:1].upper() + group[1:].replace("_", " "))


def label(p: P.Parameter) -> str:
    """A parameter's name as a reader reads it: 'flow_multiplier' -> 'Flow multiplier'."""
    words = [ACRONYMS.get(w, w) for w in p.name.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def fmt_value(value: Any) -> str:
    """A parameter value for display: integers whole, floats to 4 significant digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if value == 0:
        return "0"
    if abs(value) >= 1e5:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def slider_step(p: P.Parameter) -> float:
    """A round slider step of about 1/100 of the declared range that lands on the declared default.

    Candidates are 1, 2 and 5 times powers of ten, largest first; integers step by at least 1.
    """
    span = float(p.high) - float(p.low)
    top = span / 100.0
    for exponent in range(math.floor(math.log10(top)), math.floor(math.log10(top)) - 6, -1):
        for mantissa in (5, 2, 1):
            step = mantissa * 10.0**exponent
            if step > top:
                continue
            if p.type is int and step < 1:
                return 1
            k = (float(p.default) - float(p.low)) / step
            if abs(k - round(k)) < 1e-6:
                return int(step) if p.type is int else float(f"{step:.10g}")
    return 1 if p.type is int else top


def on_grid(p: P.Parameter, value: float) -> float:
    """A slider position: the value rounded to the slider's step (10 significant digits)."""
    step = slider_step(p)
    k = round((float(value) - float(p.low)) / step)
    out = float(f"{float(p.low) + k * step:.10g}")
    out = min(max(out, float(p.low)), float(p.high))
    return int(round(out)) if p.type is int else out


def parse_seed(value: Any) -> int:
    """The seed typed in the page as an integer, or an InputError naming the allowed values."""
    allowed = f"an integer from 0 to {MAX_SEED}"
    if isinstance(value, bool):
        raise InputError(f"expected an integer, got {value!r}", key="seed", allowed=allowed)
    if isinstance(value, int):
        seed = value
    else:
        try:
            seed = int(str(value).strip().replace("_", ""))
        except ValueError:
            raise InputError(f"expected an integer, got {value!r}", key="seed", allowed=allowed) from None
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"{seed} is out of range", key="seed", allowed=allowed)
    return seed


def parse_value(p: P.Parameter, text: Any) -> Any:
    """A value typed for parameter `p`, checked against its declared type and range (an
    InputError naming the range otherwise); the resolution also against the page's limit."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = p.check(text)
    else:
        value = p.parse(str(text).replace(",", ""))
    limit = PAGE_MAX.get(p.name)
    if limit is not None and value > limit:
        raise InputError(
            f"{value:,} is more than the page runs",
            key=p.name,
            allowed=f"an integer from {p.low:,} to {limit:,} on the page (larger runs: `crypto401k run`)",
        )
    return value


def exact(value: Any) -> str:
    """A value written so that reading it back gives the same number (boxes, addresses, files)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value)) if value != 0 else "0"
    return repr(value) if isinstance(value, float) else str(value)


@lru_cache(maxsize=64)
def _scenario(name: str) -> scenarios.Scenario:
    return scenarios.load(name)


def scenario_params(name: str) -> dict[str, Any]:
    """Every parameter's value under scenario `name` (its file over the declared defaults)."""
    return _scenario(name).parameters()


def horizon(name: str) -> int:
    """The scenario's number of quarters: where Play and Run to end stop."""
    return _scenario(name).quarters


def description(name: str) -> str:
    """The scenario's one-line description from its file."""
    return _scenario(name).description


@dataclass(frozen=True)
class Settings:
    """Everything a page run is built from; equal settings give the same run, bit for bit."""

    scenario: str = PAGE_SCENARIO
    seed: int = PAGE_SEED
    participants: int = PAGE_PARTICIPANTS
    employers: int = PAGE_EMPLOYERS
    overrides: tuple[tuple[str, Any], ...] = field(default_factory=tuple)  # sorted (name, value)

    @property
    def override_dict(self) -> dict[str, Any]:
        return dict(self.overrides)

    def with_override(self, name: str, value: Any | None) -> Settings:
        """These settings with parameter `name` set to `value` (None: back to the scenario's)."""
        d = self.override_dict
        if value is None:
            d.pop(name, None)
        else:
            d[name] = P.get(name, "page").check(value)
        return replace(self, overrides=tuple(sorted(d.items())))

    def model_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of Crypto401kModel besides the scenario and the seed."""
        return {"n_participants": self.participants, "n_employers": self.employers, **self.override_dict}

    def value(self, name: str) -> Any:
        """The value a run with these settings uses for parameter `name`."""
        d = self.override_dict
        return d[name] if name in d else scenario_params(self.scenario)[name]

    @property
    def horizon(self) -> int:
        return horizon(self.scenario)

    def same_except_seed(self, other: Settings) -> bool:
        return replace(self, seed=0) == replace(other, seed=0)

    def differences(self, other: Settings) -> list[str]:
        """What `other` changes relative to these settings, as short phrases."""
        out = []
        if other.scenario != self.scenario:
            out.append(f"scenario {other.scenario}")
        if other.seed != self.seed:
            out.append(f"seed {other.seed}")
        if other.participants != self.participants:
            out.append(f"{other.participants:,} participants")
        if other.employers != self.employers:
            out.append(f"{other.employers:,} employers")
        mine, theirs = self.override_dict, other.override_dict
        for name in sorted(set(mine) | set(theirs)):
            if name not in theirs:
                out.append(f"{name} back to the scenario's value")
            elif mine.get(name) != theirs[name]:
                out.append(f"{name} = {fmt_value(theirs[name])}")
        return out

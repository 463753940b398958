"""How a page run's settings leave the page: its address, its command line, the names of the
files it saves, and a scenario file.

* The address (`to_query` / `from_query`): the run's settings and the quarter shown, as
  `?scenario=crash&seed=3&flow_multiplier=7.25&q=12`, so that a reload or a shared link
  rebuilds the same run at the same quarter. Every value is checked as a typed value is (its
  declared range, the page's resolution limit); a refused value is named with its range and
  the rest of the address is still used.
* The command (`command`): `uv run crypto401k run ...` with every setting written out exactly,
  so that it keeps reproducing the page's run if a default changes.
* Names (`run_name`): one name per run, used for the command's --out and every file the page
  saves; two runs that differ in anything get different names.
* A scenario file (`scenario_toml`): the page's settings as a scenario that extends the shipped
  one, which `crypto401k run --scenario FILE` and an experiment's `scenarios` accept.
"""

from __future__ import annotations

import hashlib
import shlex
import urllib.parse
from dataclasses import dataclass, field, replace

import tomli_w

from model import parameters as P
from model import scenarios
from model.errors import InputError, did_you_mean
from viz.settings import (
    PAGE_EMPLOYERS,
    PAGE_PARTICIPANTS,
    Settings,
    exact,
    fmt_value,
    parse_seed,
    parse_value,
)

MAX_READABLE = 72  # characters of a run name written out in full; longer names end in a hash
# Keys of the address that are not parameters (the resolution has its own keys, as on the
# command line).
QUERY_KEYS = ("scenario", "seed", "participants", "employers", "q", "tab")
RESOLUTION = {"participants": "n_participants", "employers": "n_employers"}


# --- names
def run_name(s: Settings) -> str:
    """The run's name: scenario and seed, then whatever differs from the page's defaults
    ('crash-seed3-participants=10000-flow_multiplier=7.25'). When that would be longer than
    MAX_READABLE characters, the differences that do not fit are counted and a hash of the
    whole settings ends the name ('...-and-3-more-5c0f2a9e1b'), so two runs never share a name."""
    parts = [s.scenario, f"seed{s.seed}"]
    if s.participants != PAGE_PARTICIPANTS:
        parts.append(f"participants={s.participants}")
    if s.employers != PAGE_EMPLOYERS:
        parts.append(f"employers={s.employers}")
    parts += [f"{name}={exact(value)}" for name, value in s.overrides]
    name = "-".join(parts)
    if len(name) <= MAX_READABLE:
        return name
    digest = hashlib.sha256(repr(settings_key(s)).encode()).hexdigest()[:10]
    kept = parts[:2]
    for part in parts[2:]:
        if len("-".join([*kept, part])) > MAX_READABLE - 24:
            break
        kept.append(part)
    return "-".join([*kept, f"and-{len(parts) - len(kept)}-more", digest])


def settings_key(s: Settings) -> tuple:
    """Everything that makes a run, with values written exactly (what `run_name` hashes)."""
    return (s.scenario, s.seed, s.participants, s.employers, tuple((k, exact(v)) for k, v in s.overrides))


def file_name(s: Settings, what: str, quarter: int | None = None, suffix: str = "") -> str:
    """A saved file's name: what it is, the run's name and the quarter ('quarters-crash-seed3-q12.csv')."""
    return f"{what}-{run_name(s)}" + (f"-q{quarter}" if quarter is not None else "") + suffix


# --- the command line
def command(s: Settings) -> str:
    """The `uv run crypto401k run` command that computes this run to the scenario's horizon."""
    parts = [
        "uv",
        "run",
        "crypto401k",
        "run",
        "--scenario",
        s.scenario,
        "--seed",
        str(s.seed),
        "--participants",
        str(s.participants),
        "--set",
        f"n_employers={s.employers}",
    ]
    for name, value in s.overrides:
        parts += ["--set", f"{name}={exact(value)}"]
    parts += ["--out", f"out/{run_name(s)}"]
    return shlex.join(parts)


# --- the address
def to_query(s: Settings, quarter: int = 0, tab: int = 0) -> str:
    """The address's query for this run at `quarter` (defaults left out)."""
    items: list[tuple[str, str]] = []
    if s.scenario != Settings.scenario:
        items.append(("scenario", s.scenario))
    if s.seed != Settings.seed:
        items.append(("seed", str(s.seed)))
    if s.participants != PAGE_PARTICIPANTS:
        items.append(("participants", str(s.participants)))
    if s.employers != PAGE_EMPLOYERS:
        items.append(("employers", str(s.employers)))
    items += [(name, exact(value)) for name, value in s.overrides]
    if quarter:
        items.append(("q", str(quarter)))
    if tab:
        items.append(("tab", str(tab)))
    return urllib.parse.urlencode(items, safe=":,")


@dataclass
class Address:
    """What an address asks for: settings, quarter and tab, and what it asked for that was refused."""

    settings: Settings = field(default_factory=Settings)
    quarter: int = 0
    tab: int = 0
    refused: list[str] = field(default_factory=list)  # one line per refused value


def from_query(query: str | None, tabs: int = 4) -> Address:
    """The run an address asks for. Only shipped scenarios are accepted (an address never names
    a file on the server); a value outside its range is refused with the range, the rest kept."""
    out = Address()
    s = Settings()
    pairs = urllib.parse.parse_qsl(query or "", keep_blank_values=True)
    quarter = tab = None
    overrides: dict[str, object] = {}
    for key, text in pairs:
        try:
            if key == "scenario":
                if text not in scenarios.available():
                    raise InputError(
                        f"unknown scenario{did_you_mean(text, scenarios.available())}",
                        key="scenario",
                        allowed=", ".join(scenarios.available()),
                    )
                s = replace(s, scenario=text)
            elif key == "seed":
                s = replace(s, seed=parse_seed(text))
            elif key in RESOLUTION or key in RESOLUTION.values():
                name = RESOLUTION.get(key, key)
                value = parse_value(P.get(name), text)
                s = replace(s, **{"participants" if name == "n_participants" else "employers": value})
            elif key == "q":
                quarter = text
            elif key == "tab":
                tab = text
            else:
                p = P.get(key, "the address")
                overrides[p.name] = parse_value(p, text)
        except InputError as exc:
            out.refused.append(str(exc))
    for name, value in overrides.items():
        s = s.with_override(name, value)
    try:
        scenarios.load(s.scenario).parameters(s.model_kwargs())  # ordered pairs (entry ages) in order
    except InputError as exc:
        out.refused.append(f"{exc}; the address's parameters are left out")
        s = replace(s, overrides=())
    out.settings = s
    out.quarter = _whole(quarter, "q", 0, s.horizon, out.refused)
    out.tab = _whole(tab, "tab", 0, tabs - 1, out.refused)
    return out


def _whole(text: str | None, key: str, low: int, high: int, refused: list[str]) -> int:
    if text is None:
        return low
    try:
        value = int(text)
        if not low <= value <= high:
            raise ValueError
        return value
    except ValueError:
        refused.append(
            str(InputError(f"{text!r} is refused", key=key, allowed=f"an integer from {low} to {high}"))
        )
        return low


# --- a scenario file
def scenario_toml(s: Settings) -> str:
    """The page's settings as a scenario file: it extends the shipped scenario and sets the
    resolution and every parameter set on the page, exactly; [run] keeps the horizon."""
    changes = [f"{k} = {fmt_value(v)}" for k, v in s.overrides]
    what = f"{s.scenario}" + (f" with {', '.join(changes)}" if changes else "")
    doc = {
        "scenario": {
            "name": run_name(replace(s, seed=0)).replace("-seed0", "", 1),
            "description": f"{what}; {s.participants:,} participants, {s.employers:,} employers (saved from the page)",
            "extends": s.scenario,
        },
        "parameters": {
            "n_participants": s.participants,
            "n_employers": s.employers,
            **dict(s.overrides),
        },
        "run": {"quarters": s.horizon},
    }
    header = (
        "# Saved from the crypto401k browser page.\n"
        f"# The page's run: uv run crypto401k run --scenario THIS_FILE --seed {s.seed} --out out/{run_name(s)}\n"
        '# In an experiment file: scenarios = ["THIS_FILE"] (a path relative to the experiment file)\n'
    )
    return header + tomli_w.dumps(doc)

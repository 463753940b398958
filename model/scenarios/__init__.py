"""Scenario files: a named, readable set of parameter values (TOML files beside this loader, in model/scenarios/).

A scenario file has three sections::

    [scenario]            # name, description, and optionally `extends = "baseline"`
    [parameters]          # any declared parameter (see model/parameters.py)
    [run]                 # optional: quarters

Everything is validated before a model is built; errors name the file, the key and what is
allowed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import parameters as P
from model.calendar import DEFAULT_QUARTERS
from model.errors import InputError, did_you_mean

SCENARIO_DIR = Path(__file__).resolve().parent  # the shipped scenario files sit beside this loader
SECTIONS = {"scenario": {"name", "description", "extends"}, "parameters": None, "run": {"quarters"}}
MAX_QUARTERS = 400


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: its name, description, parameter overrides and run length."""

    name: str
    description: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    quarters: int = DEFAULT_QUARTERS
    path: str | None = None

    def parameters(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The full parameter set: defaults, then this scenario, then `extra` overrides."""
        out = P.resolve(self.overrides, self.path)
        out.update(P.validate(extra or {}))
        return P.check_consistent(out, self.path)


def available() -> list[str]:
    """Names of the shipped scenarios."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file parsed, or an InputError naming the file and the problem (never a traceback)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=str(path)) from None
    if not raw.strip():
        raise InputError(
            "file is empty", source=str(path), allowed="a TOML file with the sections described in the README"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("file is not UTF-8 text", source=str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", source=str(path)) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise InputError(f"not valid TOML: {exc}".split(";")[0], source=str(path)) from None
    except RecursionError:  # arrays or tables nested thousands deep
        raise InputError("not valid TOML: values nested too deeply", source=str(path)) from None


def check_sections(data: dict[str, Any], allowed: dict[str, set[str] | None], src: str) -> None:
    """Refuse unknown sections, sections that are not tables, and unknown keys (None: any key)."""
    for section, value in data.items():
        if section not in allowed:
            raise InputError(
                f"unknown section [{section}]{did_you_mean(section, allowed)}",
                source=src,
                key=section,
                allowed=", ".join(f"[{s}]" for s in allowed),
            )
        if not isinstance(value, dict):
            raise InputError(
                "must be a table",
                source=src,
                key=section,
                allowed=f"a [{section}] header followed by key = value lines",
            )
        keys = allowed[section]
        if keys is not None:
            for key in value:
                if key not in keys:
                    raise InputError(
                        f"unknown key in [{section}]{did_you_mean(key, keys)}",
                        source=src,
                        key=f"{section}.{key}",
                        allowed=", ".join(sorted(keys)),
                    )


def load(name_or_path: str | Path, _seen: tuple[Path, ...] = ()) -> Scenario:
    """The scenario called `name_or_path` (a shipped name or a TOML file path), validated."""
    path = _locate(name_or_path)
    data = read_toml(path)
    src = str(path)
    check_sections(data, SECTIONS, src)
    meta = data.get("scenario", {})
    for key in ("name", "description", "extends"):
        if key in meta and not isinstance(meta[key], str):
            raise InputError(
                f"must be a string, got {meta[key]!r}",
                source=src,
                key=f"scenario.{key}",
                allowed="a quoted string",
            )
    name = meta.get("name", path.stem)
    overrides: dict[str, Any] = {}
    quarters = DEFAULT_QUARTERS
    if "extends" in meta:
        try:
            parent_path = _locate(meta["extends"])
        except InputError as exc:  # attribute it to the file that names the parent
            raise InputError(
                f"{meta['extends']!r}: {exc.problem}", source=src, key="scenario.extends", allowed=exc.allowed
            ) from None
        # Loops are found by file, not by name: a user file may share a shipped scenario's name.
        chain = _seen + (path.resolve(),)
        if parent_path.resolve() in chain:
            raise InputError(
                "scenarios extend each other in a loop",
                source=src,
                key="scenario.extends",
                allowed="a scenario that does not extend this one",
            )
        parent = load(parent_path, chain)
        overrides.update(parent.overrides)
        quarters = parent.quarters
    overrides.update(P.validate(data.get("parameters", {}), src))
    run = data.get("run", {})
    if "quarters" in run:
        q = run["quarters"]
        if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= MAX_QUARTERS:
            raise InputError(
                f"expected an integer number of quarters, got {q!r}",
                source=src,
                key="run.quarters",
                allowed=f"an integer from 1 to {MAX_QUARTERS}",
            )
        quarters = q
    return Scenario(
        name=name, description=meta.get("description", ""), overrides=overrides, quarters=quarters, path=src
    )


def _locate(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_file():
            raise InputError(
                "scenario file not found",
                source=text,
                allowed="a shipped scenario name or an existing .toml file",
            )
        return path
    path = SCENARIO_DIR / f"{text}.toml"
    if not path.is_file():
        names = available()
        raise InputError(
            f"unknown scenario{did_you_mean(text, names)}",
            key=text,
            allowed=", ".join(names) + ", or a path to a .toml file",
        )
    return path

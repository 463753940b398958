"""Scenario files: a named, readable set of parameter values (TOML files beside this loader, in model/scenarios/).

A scenario file has three sections::

    [scenario]            # name, description, and optionally `extends = "baseline"`
    [parameters]          # any declared parameter (see model/parameters.py)
    [run]                 # optional: quarters

Everything is validated (by a pydantic model whose [parameters] fields are generated from the
declaration) before a model is built; errors name the file, the key and what is allowed.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import parameters as P
from model.calendar import DEFAULT_QUARTERS
from model.errors import InputError, did_you_mean, from_validation

SCENARIO_DIR = Path(__file__).resolve().parent  # the shipped scenario files sit beside this loader
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
        return P.check_consistent(out, self.path if not extra else None)


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


# What each kind of input file holds, to tell a user who passes one where another belongs.
FILE_KINDS = {
    "scenario": (
        {"scenario", "run"},
        "a scenario file: run it with `crypto401k run --scenario FILE`, or list it in an experiment's scenarios",
    ),
    "experiment": (
        {"experiment", "grid", "sample"},
        "an experiment file: run it with `crypto401k batch FILE --out DIR`",
    ),
    "targets": ({"target"}, "a calibration target file: use it with `crypto401k calibrate FILE --out DIR`"),
}


def other_kind_hint(data: dict[str, Any], expected: str) -> str:
    """'; this looks like <another kind of file>: <how to use it>', or '' when it does not."""
    for kind, (sections, usage) in FILE_KINDS.items():
        if kind != expected and sections & set(data):
            return f"; this looks like {usage}"
    return ""


def validate_file(data: Any, model: type, src: str, kind: str, key=None) -> Any:
    """`data` (a parsed TOML file) validated by the pydantic `model`, or a one-line InputError.

    An unknown section says which other kind of file it looks like, if any.
    """
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = from_validation(exc, model, source=src, key=key)
    if err.problem.startswith("unknown section"):
        err = InputError(
            err.problem + other_kind_hint(data, kind), source=src, key=err.key, allowed=err.allowed
        )
    raise err


@functools.cache
def file_model() -> type:
    """The pydantic model of a scenario file: [scenario], [parameters] and [run]."""
    from typing import Annotated, ClassVar

    from pydantic import BaseModel, ConfigDict, Field, StrictStr

    text = Field(default=None, description="a quoted string")

    class Meta(BaseModel):
        model_config = ConfigDict(extra="forbid")
        UNKNOWN: ClassVar[str] = "unknown key in [scenario]"
        name: StrictStr = text
        description: StrictStr = text
        extends: StrictStr = text

    class Run(BaseModel):
        model_config = ConfigDict(extra="forbid")
        UNKNOWN: ClassVar[str] = "unknown key in [run]"
        quarters: Annotated[int, Field(ge=1, le=MAX_QUARTERS, strict=True)] = Field(
            default=None, description=f"an integer from 1 to {MAX_QUARTERS}"
        )

    Parameters = P.section_model()

    class ScenarioFile(BaseModel):
        model_config = ConfigDict(extra="forbid")
        scenario: Meta = Meta()
        parameters: Parameters = Parameters()
        run: Run = Run()

    return ScenarioFile


def load(name_or_path: str | Path, _seen: tuple[Path, ...] = ()) -> Scenario:
    """The scenario called `name_or_path` (a shipped name or a TOML file path), validated.

    A file may extend another scenario by name or by path; a relative path is read from the
    extending file's own folder.
    """
    path = _locate(name_or_path)
    src = str(path)
    doc = validate_file(
        read_toml(path),
        file_model(),
        src,
        "scenario",
        key=lambda loc: str(loc[-1]) if loc[0] == "parameters" else ".".join(map(str, loc)),
    )
    meta = doc.scenario
    overrides: dict[str, Any] = {}
    quarters = DEFAULT_QUARTERS
    if meta.extends is not None:
        try:
            parent_path = _locate(meta.extends, relative_to=path.parent)
        except InputError as exc:  # attribute it to the file that names the parent
            raise InputError(
                f"{meta.extends!r}: {exc.problem}", source=src, key="scenario.extends", allowed=exc.allowed
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
    overrides.update(doc.parameters.model_dump(exclude_unset=True))
    if doc.run.quarters is not None:
        quarters = doc.run.quarters
    return Scenario(
        name=meta.name if meta.name is not None else path.stem,
        description=meta.description or "",
        overrides=overrides,
        quarters=quarters,
        path=src,
    )


def _locate(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        if not path.is_file():
            raise InputError(
                "scenario file not found",
                source=str(path),
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

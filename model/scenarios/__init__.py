"""Scenario files: a named, readable set of parameter values (TOML files beside this loader, in model/scenarios/).

A scenario file has three sections::

    [scenario]            # name, description, and optionally `extends = "baseline"`
    [parameters]          # any declared parameter (see model/parameters.py)
    [run]                 # optional: quarters

and, once a data file kind is registered as a scenario key (model/inputs.py), a fourth::

    [inputs]              # role = "path/to/file", read relative to this scenario file

Everything is validated (by a pydantic model whose [parameters] fields are generated from the
declaration) before a model is built; errors name the file, the key and what is allowed.

Every file a scenario is built from is read once and kept, by content, in `Scenario.inputs`
(model/inputs.py): the scenario file itself (role "scenario"), each file of its `extends` chain
("extends"; shipped scenarios too), then its data files by role. A loaded Scenario therefore
never needs the file system again: it travels to workers as plain values (`to_plain`,
`from_plain`), and `Scenario.digest` identifies what it was built from.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

# File-valued scenario keys ([inputs]): the module that owns a data file's parser registers its
# role with scenario_key=True (model/inputs.py) and is imported HERE, so that the key exists
# whenever a scenario is loaded.
from model import history, inputs, price_path  # noqa: F401  (imported for their roles: history, price_path)
from model import parameters as P
from model.calendar import DEFAULT_QUARTERS
from model.errors import InputError, did_you_mean, from_validation
from model.inputs import InputFile

SCENARIO_DIR = Path(__file__).resolve().parent  # the shipped scenario files sit beside this loader
MAX_QUARTERS = 400


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: its name, description, parameter overrides and run length, and the
    input files (with their content) it was built from.

    path: where the client read it (for messages only; nothing reads it again).
    inputs: the scenario file, its `extends` chain (nearest parent first), then its data files
        sorted by role; empty for a Scenario built in code.
    """

    name: str
    description: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)
    quarters: int = DEFAULT_QUARTERS
    path: str | None = None
    inputs: tuple[InputFile, ...] = ()

    def parameters(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The full parameter set: defaults, then this scenario, then `extra` overrides."""
        out = P.resolve(self.overrides, self.path)
        out.update(P.validate(extra or {}))
        return P.check_consistent(out, self.path if not extra else None)

    @property
    def digest(self) -> str:
        """SHA-256 over the roles and digests of the input files (model/inputs.combined_digest)."""
        return inputs.combined_digest(self.inputs)

    def input_file(self, role: str) -> InputFile | None:
        """The data file of `role` this scenario names (itself or through `extends`), or None."""
        return next((f for f in self.inputs if f.role == role), None)

    def data(self, role: str) -> Any:
        """The parsed content of the data file of `role` (its role's parser), or None if not named."""
        found = self.input_file(role)
        return None if found is None else found.parsed()

    def with_data(self, role: str, path: str | Path) -> Scenario:
        """This scenario with the data file at `path` (read now, checked by its role's parser) in
        place of any file of `role` it names: e.g. a price path given on the command line."""
        path = Path(path)
        if not path.is_file():
            raise InputError("file not found", source=str(path), allowed=inputs.ROLES[role].meaning)
        given = inputs.read(role, path)
        given.parsed()  # a malformed file is refused here, before any run
        kept = tuple(f for f in self.inputs if f.role != role)
        return replace(self, inputs=kept + (given,))

    def to_plain(self) -> dict[str, Any]:
        """Plain values (no project classes) that rebuild this Scenario with `from_plain`."""
        return {
            "name": self.name,
            "description": self.description,
            "overrides": dict(self.overrides),
            "quarters": self.quarters,
            "path": self.path,
            "inputs": [f.to_plain() for f in self.inputs],
        }

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> Scenario:
        """The Scenario `to_plain` described (each input's content checked against its digest)."""
        return cls(
            name=plain["name"],
            description=plain["description"],
            overrides=dict(plain["overrides"]),
            quarters=plain["quarters"],
            path=plain["path"],
            inputs=tuple(InputFile.from_plain(f) for f in plain["inputs"]),
        )


def available() -> list[str]:
    """Names of the shipped scenarios."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file parsed, or an InputError naming the file and the problem (never a traceback)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=str(path)) from None
    return parse_toml(raw, str(path))


def parse_toml(raw: bytes, src: str) -> dict[str, Any]:
    """TOML content parsed, or an InputError naming its file `src` and the problem."""
    if not raw.strip():
        raise InputError(
            "file is empty", source=src, allowed="a TOML file with the sections described in the README"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("file is not UTF-8 text", source=src) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", source=src) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise InputError(f"not valid TOML: {exc}".split(";")[0], source=src) from None
    except RecursionError:  # arrays or tables nested thousands deep
        raise InputError("not valid TOML: values nested too deeply", source=src) from None


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


def file_model() -> type:
    """The pydantic model of a scenario file: [scenario], [parameters], [run] and, when a data
    file kind is registered as a scenario key, [inputs]."""
    return _file_model(inputs.scenario_keys())


@functools.cache
def _file_model(input_keys: tuple[str, ...]) -> type:
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
    sections: dict[str, Any] = {}
    if input_keys:
        from pydantic import create_model

        class InputsBase(BaseModel):
            model_config = ConfigDict(extra="forbid")
            UNKNOWN: ClassVar[str] = "unknown key in [inputs]"

        Inputs = create_model(
            "Inputs",
            __base__=InputsBase,
            **{
                key: (
                    StrictStr | None,
                    Field(
                        default=None,
                        description=f"a file path, relative to this scenario file: {inputs.ROLES[key].meaning}",
                    ),
                )
                for key in input_keys
            },
        )
        sections["inputs"] = (Inputs, Inputs())

    class ScenarioFile(BaseModel):
        model_config = ConfigDict(extra="forbid")
        scenario: Meta = Meta()
        parameters: Parameters = Parameters()
        run: Run = Run()

    if sections:
        from pydantic import create_model

        return create_model("ScenarioFile", __base__=ScenarioFile, **sections)
    return ScenarioFile


def load(name_or_path: str | Path) -> Scenario:
    """The scenario called `name_or_path` (a shipped name or a TOML file path), validated.

    A file may extend another scenario by name or by path; a relative path is read from the
    extending file's own folder. Every file is read once; the Scenario keeps their content.
    """
    path, name = _locate(name_or_path)
    return _load(path, name, ())


def _load(path: Path, name: str, seen: tuple[Path, ...]) -> Scenario:
    src = str(path)
    own = inputs.read("scenario", path, name=name)
    doc = validate_file(
        parse_toml(own.content or b"", src),
        file_model(),
        src,
        "scenario",
        key=lambda loc: str(loc[-1]) if loc[0] == "parameters" else ".".join(map(str, loc)),
    )
    meta = doc.scenario
    overrides: dict[str, Any] = {}
    quarters = DEFAULT_QUARTERS
    chain: list[InputFile] = []
    data: dict[str, InputFile] = {}
    if meta.extends is not None:
        try:
            parent_path, parent_name = _locate(meta.extends, relative_to=path.parent)
        except InputError as exc:  # attribute it to the file that names the parent
            raise InputError(
                f"{meta.extends!r}: {exc.problem}", source=src, key="scenario.extends", allowed=exc.allowed
            ) from None
        # Loops are found by file, not by name: a user file may share a shipped scenario's name.
        visited = seen + (path.resolve(),)
        if parent_path.resolve() in visited:
            raise InputError(
                "scenarios extend each other in a loop",
                source=src,
                key="scenario.extends",
                allowed="a scenario that does not extend this one",
            )
        parent = _load(parent_path, parent_name, visited)
        overrides.update(parent.overrides)
        quarters = parent.quarters
        for f in parent.inputs:
            if f.role in ("scenario", "extends"):
                chain.append(replace(f, role="extends"))
            else:
                data[f.role] = f  # inherited unless this file names its own
    overrides.update(doc.parameters.model_dump(exclude_unset=True))
    if doc.run.quarters is not None:
        quarters = doc.run.quarters
    named = getattr(doc, "inputs", None)
    for role, given in (named.model_dump(exclude_unset=True) if named is not None else {}).items():
        data[role] = _data_file(role, given, path)
    return Scenario(
        name=meta.name if meta.name is not None else path.stem,
        description=meta.description or "",
        overrides=overrides,
        quarters=quarters,
        path=src,
        inputs=(own, *chain, *(data[role] for role in sorted(data))),
    )


def _data_file(role: str, given: str, scenario_path: Path) -> InputFile:
    """The data file a scenario names for `role`, read and checked by its role's parser."""
    path = Path(given)
    if not path.is_absolute():
        path = scenario_path.parent / path
    if not path.is_file():
        raise InputError(
            "file not found",
            source=str(scenario_path),
            key=f"inputs.{role}",
            allowed=f"an existing file, relative to this scenario file: {inputs.ROLES[role].meaning}",
        )
    found = inputs.read(role, path)
    if inputs.ROLES[role].parse is not None:
        try:
            found.parsed()  # a malformed file is refused here, before any run
        except InputError as exc:
            raise exc.with_source(str(path)) from None
    return found


def _locate(name_or_path: str | Path, relative_to: Path | None = None) -> tuple[Path, str]:
    """The file of a shipped name or a path, and the scenario's name as an input (the shipped
    name, or the path as given, joined to the folder it is relative to)."""
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
        return path, str(path)
    path = SCENARIO_DIR / f"{text}.toml"
    if not path.is_file():
        names = available()
        raise InputError(
            f"unknown scenario{did_you_mean(text, names)}",
            key=text,
            allowed=", ".join(names) + ", or a path to a .toml file",
        )
    return path, text

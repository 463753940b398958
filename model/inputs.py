"""Input files identified by their content: what a run read, carried with it, digested, recorded.

A run's numbers follow from the code, its parameters, its seed and the files it reads: its
scenario file and the scenarios that file `extends`, and the data files a scenario or an
experiment names (price paths, an observed history, posterior tables, calibration targets, as
the parts that read them are added). Each such file is read ONCE, where the runs are planned,
into an `InputFile`: its role, its name as the user gave it, the SHA-256 digest of its bytes and
the bytes themselves. From then on the content travels, never the path:

* to the worker that runs it (a local process or a Dask worker on another machine never opens
  the client's files);
* into the run's identity (`combined_digest`): an edited file has another digest, so its runs
  are other runs, and a batch store refuses to mix them with the stored ones;
* into the provenance a batch store keeps (one copy per distinct digest) and a single run's
  summary.json.

Roles. Every kind of input file is a `Role` registered in `ROLES`: its name, what it is, and
optionally `parse`, which turns the content into the value the model uses (called where the value
is needed, on a worker from the shipped bytes, and cached per digest). A role registered with
`scenario_key=True` is also a key of a scenario file's `[inputs]` section, whose value is the path
of a file of that role (read relative to the scenario file and inherited through `extends`; see
model/scenarios). Adding a file-valued scenario key is one `register` call; reading, validating
(the parser runs once on the client, so a malformed file is a one-line error before any run),
digesting, shipping and recording then follow from here::

    inputs.register(inputs.Role("price_path", "quarterly crypto prices replayed instead of drawn (CSV)",
                                parse=price_path.parse, scenario_key=True))

A file consumed where runs are planned (a posterior table turned into parameter values, a
targets file) is read with `read(role, path)` and attached to those runs as a run-level input
(experiments/batch/spec.py, `RunSpec.inputs`): recorded and part of their identity, not shipped.

This module is a leaf: it imports nothing from the project but the error type.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from model.errors import InputError

SHOWN_DIGEST = 12  # hex digits of a digest shown in messages (the store keeps all 64)


@dataclass(frozen=True)
class Role:
    """A kind of input file.

    name: the role's name (and, with scenario_key, the key in a scenario's [inputs] section);
    meaning: what such a file holds, in a few words (shown in errors and in `--help` texts);
    parse: content (bytes) and name -> the value the model uses; raises InputError (one line)
        for a malformed file. None: the content is only recorded (or read by its own loader);
    scenario_key: whether a scenario file may name a file of this role in [inputs].
    """

    name: str
    meaning: str
    parse: Callable[[bytes, str], Any] | None = None
    scenario_key: bool = False


ROLES: dict[str, Role] = {}


def register(role: Role) -> Role:
    """Declare a kind of input file (see the module docstring); the same role twice is an error."""
    known = ROLES.get(role.name)
    if known is not None and known != role:
        raise ValueError(f"input role {role.name!r} is registered twice")
    ROLES[role.name] = role
    return role


def scenario_keys() -> tuple[str, ...]:
    """The roles a scenario file may name in its [inputs] section, sorted."""
    return tuple(sorted(name for name, role in ROLES.items() if role.scenario_key))


# The scenario loader's own roles (model/scenarios). Data files register theirs where their
# parser lives, and model/scenarios imports that module so the key exists whenever a scenario
# is loaded.
register(Role("scenario", "the scenario file a run names"))
register(Role("extends", "a scenario file the run's scenario extends, directly or through another"))


def digest_of(content: bytes) -> str:
    """The SHA-256 of `content`, as 64 hex digits."""
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class InputFile:
    """One input file identified by its content.

    role: a registered role (ROLES); name: the file as the user gave it (a shipped scenario's
    name, or the path as written, joined to the folder it is relative to); digest: SHA-256 of
    the content (hex); content: the bytes, or None for a reference whose bytes stayed with the
    client (a run-level input consumed there). Equality compares role, name and digest.
    """

    role: str
    name: str
    digest: str
    content: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> int | None:
        """Bytes of content (None for a reference)."""
        return None if self.content is None else len(self.content)

    def text(self) -> str | None:
        """The content as UTF-8 text, or None (a reference, or content that is not text)."""
        if self.content is None:
            return None
        try:
            return self.content.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def ref(self) -> dict[str, str]:
        """Role, name and digest as plain values (what a run's record keeps of each input)."""
        return {"role": self.role, "name": self.name, "digest": self.digest}

    def without_content(self) -> InputFile:
        """The same input as a reference (what travels when the worker does not read it)."""
        return replace(self, content=None)

    def parsed(self) -> Any:
        """The value the model uses, from the role's parser (cached per digest); InputError if malformed."""
        role = ROLES.get(self.role)
        if role is None or role.parse is None:
            raise ValueError(f"input role {self.role!r} has no parser")
        if self.content is None:
            raise ValueError(f"{self.name}: the content of this input stayed with the client")
        return _parse(self.role, self.name, self.digest, self.content)

    def to_plain(self) -> dict[str, Any]:
        """Plain values (str and bytes) that pickle without this project (sent to Dask workers)."""
        return {**self.ref(), "content": self.content}

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> InputFile:
        """The input `to_plain` made; its content is checked against its digest."""
        content = plain.get("content")
        if content is not None and digest_of(content) != plain["digest"]:
            raise ValueError(f"{plain['name']}: content does not match its digest (damaged in transit)")
        return cls(plain["role"], plain["name"], plain["digest"], content)


@functools.lru_cache(maxsize=64)
def _parse(role: str, name: str, digest: str, content: bytes) -> Any:
    return ROLES[role].parse(content, name)  # type: ignore[misc]


def from_bytes(role: str, name: str, content: bytes) -> InputFile:
    """An input file of a registered role from content already read."""
    if role not in ROLES:
        raise ValueError(f"unknown input role {role!r}; register it in model/inputs.py first")
    return InputFile(role, name, digest_of(content), bytes(content))


def read(role: str, path: str | Path, name: str | None = None) -> InputFile:
    """The file at `path` read once, as an input of `role` named `name` (default: the path).

    An unreadable file is an InputError naming it (one line, never a traceback).
    """
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=str(path)) from None
    return from_bytes(role, str(path) if name is None else name, content)


def combined_digest(files: Iterable[InputFile]) -> str:
    """One SHA-256 over the roles and digests of `files`, in order (names are not part of it:
    the same content under another name is the same input)."""
    text = "".join(f"{f.role}:{f.digest}\n" for f in files)
    return digest_of(text.encode("ascii"))


def short(digest: str | None) -> str:
    """A digest as shown in a message."""
    return "none" if digest is None else digest[:SHOWN_DIGEST]


def first_change(stored: list[dict[str, str]], now: list[dict[str, str]]) -> str:
    """The first difference between two runs' input lists (`ref()` dicts, in order), in words.

    E.g. "my.toml changed (sha256 stored 1a2b3c4d5e6f, now 9f8e7d6c5b4a)".
    """
    for i in range(max(len(stored), len(now))):
        old = stored[i] if i < len(stored) else None
        new = now[i] if i < len(now) else None
        if old == new:
            continue
        if old is None:
            return f"{new['name']} ({new['role']}, sha256 {short(new['digest'])}) is read now but was not"
        if new is None:
            return f"{old['name']} ({old['role']}, sha256 {short(old['digest'])}) was read but is not now"
        if old["name"] == new["name"]:
            return f"{new['name']} changed (sha256 stored {short(old['digest'])}, now {short(new['digest'])})"
        return (
            f"{old['role']} {old['name']} (sha256 {short(old['digest'])}) is now"
            f" {new['name']} (sha256 {short(new['digest'])})"
        )
    return "the inputs are the same"

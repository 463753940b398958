"""Options shared by several commands, defined once, and the checks every command runs on them
before any work: parameters and sizes, seeds, and every input and output location.

Output rule: a command writes its results to a new folder (or one that holds none of its result
files); a folder that already holds them is refused unless `--force` is given, and then only
those files are replaced. Resumable commands (`batch`, and `sensitivity` / `calibrate` with the
same settings) continue in their own folder instead.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from model.errors import InputError

MAX_SEED = 2**63 - 1  # seeds are stored as 64-bit integers in the batch catalogue


def out_option(help: str) -> Any:
    """The --out option of a command (what it holds is the command's own help text)."""
    return typer.Option("--out", metavar="DIR", help=help)


Scenario = Annotated[
    str, typer.Option(metavar="NAME|FILE", help="Shipped scenario name or path to a scenario TOML file.")
]
PricePath = Annotated[
    Path | None,
    typer.Option(
        "--price-path",
        metavar="FILE",
        help="CSV of prices (columns date, price) replayed as the exogenous crypto market for the"
        " weeks it covers, in place of the scenario's (see docs/guide/observed_history.md).",
    ),
]
Quarters = Annotated[
    int | None,
    typer.Option(metavar="N", help="Quarters to simulate after quarter 0 (default: the scenario's, 40)."),
]
Seed = Annotated[
    int, typer.Option(metavar="N", help="Random seed (0 or more); the same seed gives the same output.")
]
Participants = Annotated[
    int | None, typer.Option(metavar="N", help="Participant agents per run (default: the declared 100,000).")
]
Set = Annotated[
    list[str] | None,
    typer.Option(
        "--set", metavar="NAME=VALUE", help="Override a parameter (repeatable; see `crypto401k params`)."
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(metavar="N", help="Local worker processes (default: all cores; 1 runs in-process)."),
]
Dask = Annotated[
    str | None,
    typer.Option(
        metavar="ADDRESS", help="Address of a running Dask scheduler to run on, e.g. tcp://host:8786."
    ),
]
Force = Annotated[
    bool, typer.Option("--force", help="Replace the results an earlier call left in the output location.")
]
NoProgress = Annotated[bool, typer.Option("--no-progress", help="No progress bar.")]


# --- values
def check_seed(seed: int, key: str = "--seed") -> int:
    """The seed, or an InputError: numpy seeds are non-negative, and the store keeps 64 bits."""
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"{seed} is out of range", key=key, allowed=f"an integer from 0 to {MAX_SEED}")
    return seed


def check_quarters(quarters: int, key: str = "--quarters") -> int:
    """The run length, or an InputError naming the allowed range."""
    from model.scenarios import MAX_QUARTERS

    if not 1 <= quarters <= MAX_QUARTERS:
        raise InputError(
            f"{quarters} is out of range", key=key, allowed=f"an integer from 1 to {MAX_QUARTERS}"
        )
    return quarters


def check_workers(workers: int | None) -> int | None:
    """The worker count (None: all cores), or an InputError."""
    if workers is not None and workers < 1:
        raise InputError(f"{workers} is out of range", key="--workers", allowed="an integer of at least 1")
    return workers


def overrides(set_: list[str] | None, participants: int | None) -> dict[str, Any]:
    """The --set overrides with --participants folded in; a parameter given twice is refused."""
    from model import parameters as P

    out = P.parse_assignments(set_ or [])
    if participants is not None:
        value = P.get("n_participants").check(participants, "--participants")
        if "n_participants" in out and out["n_participants"] != value:
            raise InputError(
                f"conflicts with --set n_participants={out['n_participants']}",
                key="--participants",
                allowed="one of --participants N and --set n_participants=N",
            )
        out["n_participants"] = value
    return out


# --- locations
def check_input_file(path: Path, key: str, what: str) -> Path:
    """An existing, readable file, or an InputError."""
    if not path.is_file():
        problem = "is a folder" if path.is_dir() else "not found"
        raise InputError(problem, source=str(path), key=key, allowed=what)
    if not os.access(path, os.R_OK):
        raise InputError("cannot be read (permission denied)", source=str(path), key=key, allowed=what)
    return path


def _writable_folder(folder: Path, key: str, shown: Path) -> None:
    """`folder` exists as a writable folder, or can be created (its first existing ancestor is one)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        problem = "exists and is not a folder" if probe == folder else f"cannot be created: {probe} is a file"
        raise InputError(problem, source=str(shown), key=key, allowed="a folder path")
    try:  # a real probe: permissions alone miss read-only mounts, and root passes os.access
        fd, tmp = tempfile.mkstemp(prefix=".crypto401k-probe-", dir=probe)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise InputError(
            f"cannot be written ({exc.strerror} in {probe})",
            source=str(shown),
            key=key,
            allowed="a writable place",
        ) from None


def check_out_dir(out: Path, key: str = "--out", *, results: Iterable[str] = (), force: bool = False) -> Path:
    """An output folder that can be written and holds none of `results` (unless force).

    Checked before any work, so a long computation never ends in an unwritable or occupied place.
    """
    _writable_folder(out, key, out)
    found = [name for name in results if os.path.lexists(out / name)]  # a dangling link counts
    if found and not force:
        raise InputError(
            f"already holds results of an earlier call ({', '.join(found)})",
            source=str(out),
            key=key,
            allowed="a new folder, or --force to replace those files",
        )
    return out


def check_out_file(path: Path, key: str, *, force: bool = False) -> Path:
    """An output file path whose folder can be written; an existing file only with force."""
    if path.is_dir():
        raise InputError("is a folder", source=str(path), key=key, allowed="a file path")
    _writable_folder(path.parent if str(path.parent) else Path("."), key, path)
    if path.exists() and not force:
        raise InputError(
            "already exists", source=str(path), key=key, allowed="a new file name, or --force to replace it"
        )
    return path

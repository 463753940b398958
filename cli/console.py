"""The command line's consoles and its one error path.

Every command reports bad input the same way: one line naming the problem and the allowed
values, on standard error, and exit status 2 (`fail`).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from model.errors import InputError

console = Console()
err_console = Console(stderr=True)


def print_error(exc: Exception) -> None:
    """Print a user error as one line on standard error."""
    # escape(): messages name [sections] and file paths, which rich would read as markup
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)


def fail(exc: Exception) -> None:
    """Print a user error as one line and exit with status 2."""
    print_error(exc)
    raise typer.Exit(2)


def check_out_dir(out: Path) -> Path:
    """The output folder, refused if it is an existing file."""
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", source=str(out), key="--out")
    return out

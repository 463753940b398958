"""The command line's consoles, its one error path and its one interrupt path.

Every command reports bad input the same way: one line naming the problem and the allowed
values, on standard error, and exit status 2 (`fail`, or `user_errors` around a block). Every
long command stops on Ctrl-C (or SIGTERM) the same way (`interruptible`): the work in progress
is cleaned up, one line says what is kept and how to resume, and the exit status is 130.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

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


def note(text: str) -> None:
    """A warning the user should read (one line on standard error; the command goes on)."""
    err_console.print(f"[yellow]note:[/] {escape(text)}", highlight=False, soft_wrap=True)


def say(text: str, *, err: bool = False) -> None:
    """A line of plain output (no markup, no highlighting); on standard error with err=True."""
    (err_console if err else console).print(text, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn an InputError raised in the block into the one-line message and exit status 2."""
    try:
        yield
    except InputError as exc:
        fail(exc)


@contextmanager
def interruptible(kept: str) -> Iterator[None]:
    """Stop the block on the first Ctrl-C or SIGTERM; print 'interrupted: <kept>' and exit 130.

    Only the first signal interrupts. Later ones (`uv run` forwards Ctrl-C to its child, which
    the terminal has already sent to the whole process group; an impatient second Ctrl-C) are
    ignored while the block cleans up, so the cleanup (workers stopped, finished results
    written) runs to its end and no traceback is printed.
    """
    stopping = False

    def handler(signum, frame) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except BaseException as exc:
        # a library may turn the KeyboardInterrupt into its own error (DuckDB: "Query interrupted")
        if not (stopping or isinstance(exc, KeyboardInterrupt)):
            raise
        stopping = True
        err_console.print(f"interrupted: {kept}", markup=False, highlight=False, soft_wrap=True)
        # from here on the process only exits: a late signal must not print a traceback
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        raise typer.Exit(130) from None
    finally:
        if not stopping:
            for sig, old in previous.items():
                signal.signal(sig, old)

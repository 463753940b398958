"""`crypto401k validate`: regenerate the validation report.

The report itself (static claims, initial population, convergence in agent count, replicates
with and without common random numbers, calibration fit) and its work plans (`FULL` for the
committed docs/VALIDATION.md, `QUICK` a smoke test) live in experiments/reports/validation.py,
imported only when the command runs so the command line starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def validate(
    out: Annotated[Path, typer.Option(help="Folder for VALIDATION.md and validation/*.png.")] = Path("docs"),
    quick: Annotated[
        bool, typer.Option("--quick", help="Tiny sizes and few quarters: a smoke test (seconds).")
    ] = False,
) -> None:
    """Write the validation report (static claims, initial population, convergence, replicates)."""
    from rich.console import Console

    from cli.console import check_out_dir, fail
    from model.errors import InputError

    try:
        check_out_dir(out)
    except InputError as exc:
        fail(exc)
    from experiments.reports.validation import FULL, QUICK, write_report

    err = Console(stderr=True)
    findings = write_report(out, QUICK if quick else FULL, log=lambda s: err.print(f"[dim]{s}[/]"))
    print(
        f"wrote {out / 'VALIDATION.md'} and {out / 'validation'}/*.png "
        f"({findings['runs']} runs, {findings['minutes']:.1f} min)"
    )

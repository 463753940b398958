"""`crypto401k validate`: regenerate the validation report.

The report itself (static claims, initial population, convergence in agent count, replicates
with and without common random numbers, calibration fit) and its work plans (`FULL` for the
committed docs/VALIDATION.md, `QUICK` a smoke test) live in experiments/reports/validation.py,
imported only when the command runs so the command line starts fast. The default --out is a
new folder, never the committed docs/: `--out docs --force` regenerates those on purpose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import options as O
from cli.console import err_console, interruptible, say, user_errors

REPORT_FILES = ("VALIDATION.md", "validation")


def validate(
    out: Annotated[
        Path,
        O.out_option(
            "Folder for VALIDATION.md and validation/*.png (`--out docs --force`: the committed report)."
        ),
    ] = Path("out/validation"),
    quick: Annotated[
        bool, typer.Option("--quick", help="Tiny sizes and few quarters: a smoke test (seconds).")
    ] = False,
    moat_store: Annotated[
        Path | None,
        typer.Option(
            "--moat-store",
            help="Batch store of experiments/moat_resilience.toml: its paired moat result goes into the"
            " report (read, never re-run).",
        ),
    ] = None,
    force: O.Force = False,
) -> None:
    """Write the validation report (static claims, initial population, convergence, replicates)."""
    with user_errors():
        O.check_out_dir(out, results=REPORT_FILES, force=force)
        moat = None
        if moat_store is not None:  # read now: a wrong store is refused before the runs
            from experiments.reports.validity_checks import moat_result

            moat = moat_result(moat_store)
    with interruptible(
        f"nothing was written to {out} (the report is written at the end); run the command again"
    ):
        from experiments.reports.validation import FULL, QUICK, write_report

        findings = write_report(
            out,
            QUICK if quick else FULL,
            log=lambda s: err_console.print(f"[dim]{s}[/]", highlight=False),
            moat=moat,
        )
    say(
        f"wrote {out / 'VALIDATION.md'} and {out / 'validation'}/*.png "
        f"({findings['runs']} runs, {findings['minutes']:.1f} min)"
    )

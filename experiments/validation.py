"""`crypto401k validate`: the validation report's command and its work plans.

The report itself (static claims, initial population, convergence in agent count, replicates
with and without common random numbers, calibration fit) is built by
experiments/validation_report.py, imported only when the command runs so the command line
starts fast. `FULL` is the plan of the committed docs/VALIDATION.md; `QUICK` is a smoke test
that finishes in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer


@dataclass(frozen=True)
class Plan:
    """How much work the report does: sizes, replicates, quarters (all stated in the report)."""

    quarters: int = 40
    headline_quarters: tuple[int, ...] = (12, 40)
    sizes: tuple[int, ...] = (10_000, 30_000, 100_000, 300_000, 1_000_000)
    replicates: tuple[int, ...] = (10, 10, 10, 6, 6)  # per size, seeds 0..R-1
    paired_size: int = 100_000
    paired_replicates: int = 12
    paired_scenario: str = "crash"  # compared with baseline for the CRN section
    static_participants: int = 30_000  # the static arithmetic does not depend on the agent count
    static_replicates: int = 3
    population_participants: int = 300_000
    n_employers: int | None = None  # None: the declared default
    tolerance: float = 1.5  # a size passes when its mean is within the noise of the largest size's and
    #                         its replicate SD is at most this multiple of the largest size's

    def __post_init__(self):
        if len(self.sizes) != len(self.replicates):
            raise ValueError("one replicate count per size")

    @property
    def headline(self) -> tuple[int, ...]:
        """Headline quarters that exist in a run of `quarters` quarters."""
        return tuple(q for q in self.headline_quarters if q <= self.quarters) or (self.quarters,)


FULL = Plan()
QUICK = Plan(quarters=6, headline_quarters=(3, 6), sizes=(1_000, 2_000, 4_000), replicates=(3, 3, 3),
             paired_size=2_000, paired_replicates=4, static_participants=2_000, static_replicates=2,
             population_participants=4_000, n_employers=150)


def validate(
    out: Annotated[Path, typer.Option(help="Folder for VALIDATION.md and validation/*.png.")] = Path("docs"),
    quick: Annotated[bool, typer.Option("--quick", help="Tiny sizes and few quarters: a smoke test (seconds).")] = False,
) -> None:
    """Write the validation report (static claims, initial population, convergence, replicates)."""
    from rich.console import Console

    from experiments.cli import check_out_dir, fail
    from model.errors import InputError

    try:
        check_out_dir(out)
    except InputError as exc:
        fail(exc)
    from experiments.validation_report import write_report

    err = Console(stderr=True)
    findings = write_report(out, QUICK if quick else FULL, log=lambda s: err.print(f"[dim]{s}[/]"))
    print(f"wrote {out / 'VALIDATION.md'} and {out / 'validation'}/*.png "
          f"({findings['runs']} runs, {findings['minutes']:.1f} min)")

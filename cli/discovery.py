"""Command `crypto401k discover`: scenario discovery (PRIM) over a batch store."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from model.errors import InputError


def _quote(arg: str) -> str:
    """Shell quoting that reads well: double quotes around text with single quotes and nothing to expand."""
    if "'" in arg and not any(c in arg for c in '"$`\\!'):
        return f'"{arg}"'
    return shlex.quote(arg)


def discover(
    store_dir: Annotated[
        Path, typer.Argument(metavar="STORE", help="A batch store folder (crypto401k batch --out).")
    ],
    outcome: Annotated[
        list[str],
        typer.Option(
            help='When the claim holds, e.g. "cumulative_invested_usd@40 >= 87e9", "ever rescinded",'
            ' "moat_index@2030Q4 >= 0.1" (repeatable; see docs/guide/discovery.md).'
        ),
    ],
    out: Annotated[Path | None, typer.Option(help="Report folder (default STORE/discovery).")] = None,
    scenario: Annotated[str | None, typer.Option(help="Only this scenario's runs.")] = None,
    min_coverage: Annotated[
        float,
        typer.Option(help="The chosen box holds at least this share of the runs where the outcome holds."),
    ] = 0.5,
    box: Annotated[
        int | None, typer.Option(help="Report this point of the peeling trajectory instead.")
    ] = None,
    resamples: Annotated[
        int, typer.Option(help="PRIM runs on random halves to test reproducibility (0: none).")
    ] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the resampling and of the extra trees.")] = 0,
) -> None:
    """PRIM boxes over the sampled parameters where an outcome holds, their significance, feature scores."""
    from rich.markup import escape

    from cli.console import console, fail
    from experiments.discovery.analysis import discover as run_discovery
    from experiments.discovery.analysis import load_cases
    from experiments.discovery.outcome import columns_needed, parse
    from experiments.discovery.report import answer, write_report

    try:
        if not 0.0 < min_coverage <= 1.0:
            raise InputError(
                f"{min_coverage} is out of range", key="--min-coverage", allowed="a share above 0, at most 1"
            )
        if not 0 <= resamples <= 1000:
            raise InputError(
                f"{resamples} is out of range", key="--resamples", allowed="an integer from 0 to 1000"
            )
        if box is not None and len(outcome) != 1:
            raise InputError(
                "--box needs exactly one --outcome", key="--box", allowed="one --outcome with --box"
            )
        outcomes = [parse(text) for text in outcome]
        cases = load_cases(store_dir, scenario)
        for o in outcomes:  # every outcome's columns exist before any work
            columns_needed(o, cases.columns)
        findings = [
            run_discovery(cases, o, min_coverage=min_coverage, box=box, resamples=resamples, seed=seed)
            for o in outcomes
        ]
        dest = out if out is not None else store_dir / "discovery"
        command = "uv run crypto401k discover " + " ".join(
            _quote(a)
            for a in (
                [str(store_dir)]
                + [a for o in outcome for a in ("--outcome", o)]
                + ([] if out is None else ["--out", str(out)])
                + ([] if scenario is None else ["--scenario", scenario])
                + ([] if min_coverage == 0.5 else ["--min-coverage", str(min_coverage)])
                + ([] if box is None else ["--box", str(box)])
                + ([] if resamples == 10 else ["--resamples", str(resamples)])
                + ([] if seed == 0 else ["--seed", str(seed)])
            )
        )
        written = write_report(cases, findings, dest, command)
    except InputError as exc:
        fail(exc)
    for k, f in enumerate(findings, start=1):
        console.print(f"[bold]outcome {k}[/]: {escape(f.outcome.text)}", highlight=False)
        console.print(f"  {escape(answer(f))}", highlight=False, soft_wrap=True)
    console.print(f"wrote {written['summary']} and {len(written) - 1} figures and tables", highlight=False)

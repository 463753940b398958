"""Commands `crypto401k batch`, `crypto401k results` and `crypto401k report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import options as O
from cli.console import console, interruptible, say, user_errors
from model.errors import InputError

STORE_HELP = "a folder written by `crypto401k batch`"


def _check_store_out(out: Path) -> None:
    """--out of a batch: a new or empty folder, or a batch store to resume (nothing else)."""
    O.check_out_dir(out)
    if out.is_dir() and any(out.iterdir()) and not (out / "catalogue").is_dir():
        raise InputError(
            "holds other files and is not a batch store",
            source=str(out),
            key="--out",
            allowed="a new or empty folder, or the --out of an earlier batch to resume it",
        )


def _check_store(store_dir: Path) -> None:
    if not store_dir.is_dir():
        raise InputError("no such folder", source=str(store_dir), key="DIR", allowed=STORE_HELP)


def batch(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Experiment TOML file (see experiments/*.toml).")
    ],
    out: Annotated[Path, O.out_option("Store folder; run the same command again to resume.")],
    workers: O.Workers = None,
    dask: O.Dask = None,
    replicates: Annotated[
        int | None, typer.Option(metavar="N", help="Override the file's replicates.")
    ] = None,
    participants: Annotated[
        int | None, typer.Option(metavar="N", help="Override the file's participant agents.")
    ] = None,
    quarters: Annotated[int | None, typer.Option(metavar="N", help="Override the file's quarters.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=VALUE",
            help="Override a fixed parameter of the file's \\[parameters] (repeatable).",
        ),
    ] = None,
    no_progress: O.NoProgress = False,
) -> None:
    """Run an experiment's runs into --out; completed runs are skipped, so it resumes after a stop."""
    from experiments.batch.experiment_file import load_experiment

    with user_errors():
        O.check_workers(workers)
        O.check_input_file(file, "FILE", "an experiment .toml file (see experiments/*.toml)")
        fixed = O.overrides(set_, None)
        exp = load_experiment(file).with_overrides(replicates, participants, quarters, fixed)
        runs = exp.runs()
        _check_store_out(out)
    with interruptible(f"finished runs are stored in {out}; run the same command again to resume"):
        from experiments.batch.runner import run_batch

        with user_errors():
            summary = run_batch(runs, out, workers=workers, dask_address=dask, progress=not no_progress)
    say(
        f"{exp.name}: {summary.planned} runs planned, {summary.skipped} already stored,"
        f" {summary.completed} completed, {summary.failed} failed"
        + (f", {summary.redone} damaged runs redone" if summary.redone else "")
        + f" in {summary.elapsed_s:.1f} s -> {out}"
    )
    for run_id, error in summary.failures[:10]:
        say(f"  failed {run_id}: {error}", err=True)
    if summary.failed:
        say(
            "failed runs are recorded in the catalogue"
            ' (crypto401k results DIR --sql "SELECT run_id, error FROM catalogue'
            " WHERE status = 'failed'\") and are retried when the command is run again",
            err=True,
        )
        raise typer.Exit(1)


def results(
    store_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A batch store folder.")],
    sql: Annotated[
        str | None, typer.Option(metavar="QUERY", help="DuckDB SQL over the views `runs` and `catalogue`.")
    ] = None,
    csv: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write the full result to this CSV file.")
    ] = None,
    limit: Annotated[int, typer.Option(metavar="N", help="Rows shown on screen.")] = 40,
    force: O.Force = False,
) -> None:
    """Query a batch store with DuckDB; without --sql, count runs per scenario and status."""
    from experiments.batch.store import load_results

    query = sql or (
        "SELECT scenario, status, count(*) AS runs, round(avg(duration_s), 2)"
        " AS mean_seconds FROM catalogue GROUP BY scenario, status ORDER BY 1, 2"
    )
    with user_errors():
        _check_store(store_dir)
        if csv is not None:
            O.check_out_file(csv, "--csv", force=force)
        frame = load_results(store_dir, query)
    if csv is not None:
        from experiments.single_run import atomic_write

        atomic_write(csv, lambda p: frame.to_csv(p, index=False))
        say(f"wrote {len(frame)} rows to {csv}")
        return
    from rich.table import Table

    table = Table(
        caption=f"{len(frame)} rows"
        + (f" (first {limit} shown; --csv for all)" if len(frame) > limit else "")
    )
    for c in frame.columns:
        table.add_column(str(c), overflow="fold")
    for row in frame.head(limit).itertuples(index=False):
        table.add_row(*("" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)


def report(
    store_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A batch store folder.")],
    report_dir: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Where to write (default DIR/report; replaced on each call)."),
    ] = None,
) -> None:
    """Write fan charts (PNG), headline tables (CSV) and summary.md for a batch store.

    The report is derived from the store alone, so a second call (e.g. after the batch grew)
    replaces the earlier report's files.
    """
    with user_errors():
        _check_store(store_dir)
        O.check_out_dir(report_dir or store_dir / "report", "--report-dir")
    with interruptible("the report was not completed; run the same command again"):
        from experiments.batch.report import write_report

        with user_errors():
            written = write_report(store_dir, report_dir)
    for path in written.values():
        say(f"wrote {path}")

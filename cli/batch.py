"""Commands `crypto401k batch`, `crypto401k results` and `crypto401k report`."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from model.errors import InputError


def _fail(exc: Exception) -> None:
    from cli.console import fail

    fail(exc)


def batch(
    file: Annotated[Path, typer.Argument(help="Experiment TOML file (see experiments/*.toml).")],
    out: Annotated[Path, typer.Option(help="Store folder; run the same command again to resume.")],
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: all cores).")] = None,
    dask: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler, e.g. tcp://host:8786.")
    ] = None,
    replicates: Annotated[int | None, typer.Option(help="Override the file's replicates.")] = None,
    participants: Annotated[int | None, typer.Option(help="Override the file's participant agents.")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
) -> None:
    """Run an experiment's runs into --out; completed runs are skipped, so it resumes after a crash."""
    from cli.console import console, err_console
    from experiments.batch.experiment_file import load_experiment
    from experiments.batch.runner import run_batch

    try:
        if workers is not None and workers < 1:
            raise InputError(f"{workers} workers", key="--workers", allowed="an integer of at least 1")
        exp = load_experiment(file).with_size(replicates, participants)
        runs = exp.runs()
    except InputError as exc:
        _fail(exc)
    # SIGTERM (e.g. from a scheduler) stops like Ctrl-C: finished runs are written first
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        summary = run_batch(runs, out, workers=workers, dask_address=dask, progress=not no_progress)
    except InputError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        err_console.print(
            "interrupted: finished runs are stored; run the same command again to resume", highlight=False
        )
        raise typer.Exit(130) from None
    msg = (
        f"{exp.name}: {summary.planned} runs planned, {summary.skipped} already stored,"
        f" {summary.completed} completed, {summary.failed} failed"
        + (f", {summary.redone} damaged runs redone" if summary.redone else "")
        + f" in {summary.elapsed_s:.1f} s -> {out}"
    )
    console.print(msg, markup=False, highlight=False)
    for run_id, error in summary.failures[:10]:
        err_console.print(f"  failed {run_id}: {error}", markup=False, highlight=False, soft_wrap=True)
    if summary.failed:
        err_console.print(
            "failed runs are recorded in the catalogue"
            ' (crypto401k results DIR --sql "SELECT run_id, error FROM catalogue'
            " WHERE status = 'failed'\") and are retried when the command is run"
            " again",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)


def results(
    store_dir: Annotated[Path, typer.Argument(metavar="DIR", help="A batch store folder.")],
    sql: Annotated[str | None, typer.Option(help="DuckDB SQL over the views `runs` and `catalogue`.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Write the full result to this CSV file.")] = None,
    limit: Annotated[int, typer.Option(help="Rows shown on screen.")] = 40,
) -> None:
    """Query a batch store with DuckDB; without --sql, count runs per scenario and status."""
    from rich.table import Table

    from cli.console import console
    from experiments.batch.store import load_results

    query = sql or (
        "SELECT scenario, status, count(*) AS runs, round(avg(duration_s), 2)"
        " AS mean_seconds FROM catalogue GROUP BY scenario, status ORDER BY 1, 2"
    )
    try:
        if not store_dir.is_dir():
            raise InputError(
                "no such folder",
                source=str(store_dir),
                key="DIR",
                allowed="a folder written by `crypto401k batch`",
            )
        if csv is not None and csv.exists() and csv.is_dir():
            raise InputError("is a folder", source=str(csv), key="--csv", allowed="a file path")
        frame = load_results(store_dir, query)
    except InputError as exc:
        _fail(exc)
    if csv is not None:
        from experiments.single_run import atomic_write

        atomic_write(csv, lambda p: frame.to_csv(p, index=False))
        console.print(f"wrote {len(frame)} rows to {csv}")
        return
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
    report_dir: Annotated[Path | None, typer.Option(help="Where to write (default DIR/report).")] = None,
) -> None:
    """Write fan charts (PNG), headline tables (CSV) and summary.md for a batch store."""
    from cli.console import console
    from experiments.batch.report import write_report

    try:
        if not store_dir.is_dir():
            raise InputError(
                "no such folder",
                source=str(store_dir),
                key="DIR",
                allowed="a folder written by `crypto401k batch`",
            )
        written = write_report(store_dir, report_dir)
    except InputError as exc:
        _fail(exc)
    for path in written.values():
        console.print(f"wrote {path}", highlight=False)

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
    rerun_changed: Annotated[
        bool,
        typer.Option(
            "--rerun-changed",
            help="Re-run the stored runs whose input files (a scenario file, a file it extends, a data file) changed"
            " since they ran; without it such a store is refused.",
        ),
    ] = False,
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
            summary = run_batch(
                runs,
                out,
                workers=workers,
                dask_address=dask,
                progress=not no_progress,
                rerun_changed=rerun_changed,
            )
    say(
        f"{exp.name}: {summary.planned} runs planned, {summary.skipped} already stored,"
        f" {summary.completed} completed, {summary.failed} failed"
        + (f", {summary.redone} damaged runs redone" if summary.redone else "")
        + (f", {summary.rerun} runs of changed input files re-run" if summary.rerun else "")
        + (
            f", {summary.removed} stored runs of the old files outside this plan removed"
            if summary.removed
            else ""
        )
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
    inputs: Annotated[
        str | None,
        typer.Option(
            "--inputs",
            metavar="RUN_ID",
            help="Show the input files that produced this run: role, name, SHA-256 and content.",
        ),
    ] = None,
) -> None:
    """Query a batch store with DuckDB; without --sql, count runs per scenario and status.

    --inputs RUN_ID shows the input files that produced a run (the scenario file, the files it
    extends, data files) with their content as the run read it.
    """
    from experiments.batch.store import load_results

    if inputs is not None:
        with user_errors():
            _check_store(store_dir)
            if sql is not None or csv is not None:
                raise InputError(
                    "cannot be combined with --sql or --csv", key="--inputs", allowed="--inputs RUN_ID alone"
                )
        _show_inputs(store_dir, inputs)
        return
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


SHOWN_LINES = 60  # lines of an input file's content shown by `results --inputs`


def _show_inputs(store_dir: Path, run_id: str) -> None:
    """Print each input file of a run: a header line, then its content (text, first lines)."""
    from experiments.batch.store import run_inputs

    with user_errors():
        files = run_inputs(store_dir, run_id)
    say(f"{run_id}: {len(files)} input files")
    for f in files:
        size = "content not kept in the store" if f.content is None else f"{f.size:,} bytes"
        say(f"\n{f.role}: {f.name}  sha256 {f.digest}  ({size})")
        text = f.text()
        if f.content is not None and text is None:
            say("  (binary content)")
            continue
        lines = (text or "").splitlines()
        for line in lines[:SHOWN_LINES]:
            say(f"  {line}")
        if len(lines) > SHOWN_LINES:
            say(
                f"  ... {len(lines) - SHOWN_LINES} more lines; all of it:"
                f" --sql \"SELECT decode(content) FROM inputs WHERE digest = '{f.digest}'\""
            )


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

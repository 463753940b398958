"""The `crypto401k` command line.

Every command reads parameters from the one declaration (model/parameters.py). Bad input
(an unknown scenario or parameter, a wrong type, an out-of-range value, a malformed file, an
output location that cannot be written) ends with a one-line message naming the problem and the
allowed values, and exit status 2, before any work. Commands import their heavy modules (the
model, pandas, matplotlib, SALib, optuna) only when they run, so `crypto401k --help` is quick.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from cli import batch, discovery, docs, tuning, validate, viz
from cli import options as O
from cli.console import console, err_console, interruptible, print_error, say, user_errors
from model import parameters as P
from model.errors import InputError

HELP = (
    "Agent-based model of crypto in US 401(k) plans (Mesa).\n\n"
    "Start with `crypto401k run --out out/run1`; `crypto401k params` lists every parameter by"
    " group, `crypto401k scenarios` the shipped scenarios. Guides: README.md and docs/guide/."
)


class _QuietFlags:
    """On/off flags (and --help) are shown without a '<bool>' type in --help."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for param in self.params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
            if param.param_type_name == "argument":  # usage reads FILE, not {FILE}
                param._usage_display_name = lambda p=param: (
                    p.display_name_raw if p.required else f"[{p.display_name_raw}]"
                )


class _Command(_QuietFlags, typer.core.TyperCommand):
    pass


class _Group(_QuietFlags, typer.core.TyperGroup):
    pass


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    help=HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        say(f"crypto401k {version('crypto401k')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


def command(name: str | None = None):
    """Register a command with the shared help formatting."""
    return app.command(name, cls=_Command)


@command()
def run(
    scenario: O.Scenario = "baseline",
    out: Annotated[
        Path, O.out_option("Output folder for quarters.csv, summary.json and dashboard.png (a new one).")
    ] = Path("out"),
    quarters: O.Quarters = None,
    seed: O.Seed = 0,
    participants: O.Participants = None,
    set_: O.Set = None,
    price_path: O.PricePath = None,
    no_dashboard: Annotated[bool, typer.Option("--no-dashboard", help="Skip the PNG dashboard.")] = False,
    force: O.Force = False,
) -> None:
    """Run one scenario and write quarters.csv, summary.json and dashboard.png to --out."""
    from model import scenarios

    with user_errors():
        spec = scenarios.load(scenario)
        if price_path is not None:
            spec = spec.with_data("price_path", price_path)
        overrides = O.overrides(set_, participants)
        n_quarters = O.check_quarters(spec.quarters if quarters is None else quarters)
        O.check_seed(seed)
        spec.parameters(overrides)  # validate everything before any work
        O.check_out_dir(out, results=_RUN_FILES, force=force)
    kept = f"nothing was written to {out} (a run does not resume); run the same command again"
    with interruptible(kept), _dashboard(not no_dashboard) as drawer:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        from experiments.single_run import describe, simulate, write_outputs

        with (
            user_errors(),
            Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} quarters"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
                # no bar (and no refresh thread taking turns with the model) when nobody watches
                disable=not err_console.is_terminal,
                refresh_per_second=4,
            ) as bar,
        ):
            task = bar.add_task(f"{spec.name} (seed {seed})", total=n_quarters)
            model, table = simulate(
                spec,
                quarters=n_quarters,
                seed=seed,
                overrides=overrides,
                on_quarter=lambda q: bar.update(task, completed=q),
            )
        summary = write_outputs(out, model, table, dashboard=drawer, inputs=spec.inputs)
    _print_table(table, f"{spec.name}: {describe(model, n_quarters)}", summary["rule_history"])
    say(
        f"wrote {out / 'quarters.csv'}, {out / 'summary.json'}"
        + ("" if no_dashboard else f", {out / 'dashboard.png'}")
    )


_RUN_FILES = ("quarters.csv", "summary.json", "dashboard.png")  # experiments.single_run.RUN_FILES


@contextmanager
def _dashboard(wanted: bool) -> Iterator:
    """The dashboard helper process while a run is computed (None with --no-dashboard)."""
    if not wanted:
        yield None
        return
    from experiments.reports.dashboard import DashboardProcess

    with DashboardProcess() as drawer:
        yield drawer


# The run table: column, header, format; the units are in the values and the caption.
_TABLE = (
    ("date", "date", None),
    ("adoption_rate", "adoption", "pct"),
    ("plans_offering_share", "plans", "pct"),
    ("crypto_aum_usd", "held", "usd"),
    ("cumulative_invested_usd", "committed", "usd"),
    ("price_index", "price", "num"),
    ("flow_price_impact", "impact", "pct"),
    ("moat_index", "moat", "pct"),
    ("rule_status", "rule", None),
)
_CAPTION = (
    "adoption: % of participants holding crypto; plans: % of plans offering it; held: 401(k) crypto"
    " holdings, US$; committed: new money put into crypto since 2025Q3 (contributions and purchases"
    " minus the cost of what was sold; withdrawals and appreciation apart), US$; price: crypto price"
    " index (2025Q3 = 1); impact: % of the price due to 401(k) flow; moat: % of the 535 members of"
    " Congress whose crackdown vote flips because of voters' 401(k) crypto"
)


def _cell(value, kind: str | None) -> str:
    """A table cell: percentages and $B with the sign before the unit, no negative zero."""
    if kind is None:
        return str(value)
    number = float(value) * (100 if kind == "pct" else 1e-9 if kind == "usd" else 1)
    text = f"{abs(number):,.1f}" if kind in ("pct", "usd") else f"{abs(number):,.3f}"
    sign = "-" if number < 0 and float(text.replace(",", "")) != 0 else ""
    return {"pct": f"{sign}{text}%", "usd": f"{sign}${text}B"}.get(kind, sign + text)


def _print_table(table, title: str, rule_history: list) -> None:
    """Every 4th quarter and the last, with units; then the rule changes and elections, dated."""
    from rich import box
    from rich.table import Table

    from experiments.reports.dashboard import RULE_WORDS, events

    show = [c for c in _TABLE if c[0] in table.columns]
    rows = [
        [_cell(table.iloc[i][c], kind) for c, _, kind in show]
        for i in sorted(set(range(0, len(table), 4)) | {len(table) - 1})
    ]
    t = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0, 0, 1))
    for j, (_, header, kind) in enumerate(show):
        width = max(len(header), *(len(r[j]) for r in rows))
        t.add_column(header, justify="right" if kind else "left", min_width=width, no_wrap=True)
    for r in rows:
        t.add_row(*r)
    console.print(t)
    say(_CAPTION)
    reasons = {(int(q), RULE_WORDS.get(s, s)): r for q, s, r in rule_history if r != "schedule"}
    lines = [
        f"q{q} {date}: {what}" + (f" ({reasons[(q, what)]})" if (q, what) in reasons else "")
        for q, date, what in events(table)
    ]
    if lines:
        say("events: " + "; ".join(lines))


def params(
    group: Annotated[
        str | None, typer.Option(metavar="GROUP", help=f"Only this group: {', '.join(P.GROUPS)}.")
    ] = None,
    sources: Annotated[bool, typer.Option("--sources", help="Add the source of every default.")] = False,
) -> None:
    from rich.table import Table

    with user_errors():
        if group is not None and group not in P.GROUPS:
            raise InputError(f"unknown group {group!r}", key="--group", allowed=", ".join(P.GROUPS))
    for g in P.GROUPS:
        if group not in (None, g):
            continue
        t = Table(title=f"[bold]{g}[/]", title_justify="left")
        t.add_column("name", no_wrap=True)
        for c, width in (("default", 10), ("unit", 16), ("allowed", 18), ("meaning", None)):
            t.add_column(c, overflow="fold", max_width=width)
        if sources:
            t.add_column("source", overflow="fold")
        for p in P.PARAMETERS.values():
            if p.group == g:
                allowed = p.allowed.replace("an integer ", "").replace("a number ", "")
                t.add_row(
                    p.name + (" *" if p.behavioural else ""),
                    str(p.default),
                    p.unit,
                    allowed,
                    p.doc,
                    *([p.source] if sources else []),
                )
        console.print(t)
    say("* behavioural: a slider in `crypto401k viz`, screened by default in `crypto401k sensitivity`")


params.__doc__ = f"""List every parameter by group: default, unit, allowed range and meaning (--sources: source).

Groups: {", ".join(P.GROUPS)}."""
command()(params)


@command("scenarios")
def list_scenarios() -> None:
    """List the shipped scenarios."""
    from rich.table import Table

    from model import scenarios

    t = Table()
    t.add_column("name")
    t.add_column("description", overflow="fold")
    for name in scenarios.available():
        t.add_row(name, scenarios.load(name).description)
    console.print(t)


# --- commands of the other subsystems (one module each; each imports its heavy modules when run)
command("batch")(batch.batch)
command("results")(batch.results)
command("report")(batch.report)
command("discover")(discovery.discover)
command("sensitivity")(tuning.sensitivity)
command("calibrate")(tuning.calibrate)
command("docs")(docs.docs)
command("validate")(validate.validate)
command("viz")(viz.viz)


INTERRUPTED = 130  # the exit status of `interruptible` (128 + SIGINT)


def main() -> None:
    """Console entry point: run the app, turning stray user-input errors into exit status 2."""
    # Worker pools start multiprocessing's resource tracker with these options. After an
    # interrupt (below) it removes the pools' semaphores as it should, but would also print a
    # warning about them on the user's terminal.
    sys.warnoptions.append("ignore::UserWarning:multiprocessing.resource_tracker")
    try:
        app()
    except InputError as exc:  # raised inside a command after validation
        print_error(exc)
        sys.exit(2)
    except SystemExit as exc:
        if exc.code == INTERRUPTED:
            # Everything is written and the workers are stopped (they also die with this process).
            # Skip the interpreter's finalization: after a Ctrl-C at an unlucky moment, CPython
            # 3.12's ProcessPoolExecutor can leave its shutdown lock held, and collecting the
            # executor at exit then waits on it for ever (seen in ~1 of 6 interrupted runs).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(INTERRUPTED)
        raise


if __name__ == "__main__":
    main()

"""The `crypto401k` command line.

Every command reads parameters from the one declaration (model/parameters.py). Bad input
(an unknown scenario or parameter, a wrong type, an out-of-range value, a malformed file) ends
with a one-line message naming the problem and the allowed values, and exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from cli import batch, discovery, docs, tuning, validate, viz
from cli.console import check_out_dir, console, err_console, fail, print_error
from model import parameters as P
from model import scenarios
from model.errors import InputError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Agent-based model of crypto in US 401(k) plans (Mesa)."
)


@app.command()
def run(
    scenario: Annotated[
        str, typer.Option(help="Shipped scenario name or path to a scenario TOML file.")
    ] = "baseline",
    out: Annotated[
        Path, typer.Option(help="Output folder for quarters.csv, summary.json, dashboard.png.")
    ] = Path("out"),
    quarters: Annotated[
        int | None, typer.Option(help="Quarters to simulate (default: the scenario's, 40).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same output.")] = 0,
    participants: Annotated[int | None, typer.Option(help="Participant agents (default 100,000).")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a parameter: name=value (repeatable).")
    ] = None,
    no_dashboard: Annotated[bool, typer.Option("--no-dashboard", help="Skip the PNG dashboard.")] = False,
) -> None:
    """Run one scenario and write quarters.csv, summary.json and dashboard.png to --out."""
    from experiments.single_run import simulate, write_outputs

    try:
        spec = scenarios.load(scenario)
        overrides = P.parse_assignments(set_ or [])
        if participants is not None:
            overrides["n_participants"] = P.get("n_participants").check(participants, "--participants")
        n_quarters = spec.quarters if quarters is None else quarters
        if not 1 <= n_quarters <= scenarios.MAX_QUARTERS:
            raise InputError(
                f"{n_quarters} is out of range",
                key="--quarters",
                allowed=f"an integer from 1 to {scenarios.MAX_QUARTERS}",
            )
        spec.parameters(overrides)  # validate everything before any work
        check_out_dir(out)
    except InputError as exc:
        fail(exc)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} quarters"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{spec.name} (seed {seed})", total=n_quarters)
        model, table = simulate(
            spec,
            quarters=n_quarters,
            seed=seed,
            overrides=overrides,
            on_quarter=lambda q: bar.update(task, completed=q),
        )
    write_outputs(out, model, table, dashboard=not no_dashboard)
    _print_table(table)
    console.print(
        f"wrote {out / 'quarters.csv'}, {out / 'summary.json'}"
        + ("" if no_dashboard else f", {out / 'dashboard.png'}")
    )


def _print_table(table) -> None:
    columns = {
        "date": "date",
        "adoption_rate": "adoption",
        "plans_offering_share": "plans offering",
        "crypto_aum_usd": "crypto AUM",
        "cumulative_net_flow_usd": "cum. net flow",
        "price_index": "price",
        "flow_price_impact": "flow impact",
        "moat_index": "moat",
    }
    show = [c for c in columns if c in table.columns]
    t = Table(title="Quarters (every 4th, and the last)")
    for c in show:
        t.add_column(columns[c], justify="right")
    idx = sorted(set(range(0, len(table), 4)) | {len(table) - 1})
    for i in idx:
        row = table.iloc[i]
        cells = []
        for c in show:
            v = row[c]
            if c.endswith("_usd"):
                cells.append(f"${v / 1e9:,.1f}B")
            elif isinstance(v, float):
                cells.append(f"{v:.3f}")
            else:
                cells.append(str(v))
        t.add_row(*cells)
    console.print(t)


@app.command()
def params(
    group: Annotated[str | None, typer.Option(help="Only this group.")] = None,
) -> None:
    """List every parameter: default, unit, allowed range and source."""
    if group is not None and group not in P.GROUPS:
        fail(InputError("unknown group", key="--group", allowed=", ".join(P.GROUPS)))
    t = Table(show_lines=False)
    for c in ("name", "default", "unit", "allowed", "source"):
        t.add_column(c, overflow="fold")
    for p in P.PARAMETERS.values():
        if group in (None, p.group):
            t.add_row(
                p.name,
                str(p.default),
                p.unit,
                p.allowed.replace("an integer ", "").replace("a number ", ""),
                p.source,
            )
    console.print(t)


@app.command("scenarios")
def list_scenarios() -> None:
    """List the shipped scenarios."""
    t = Table()
    t.add_column("name")
    t.add_column("description", overflow="fold")
    for name in scenarios.available():
        t.add_row(name, scenarios.load(name).description)
    console.print(t)


# --- commands of the other subsystems (one module each)
app.command("batch")(batch.batch)
app.command("results")(batch.results)
app.command("report")(batch.report)
app.command("discover")(discovery.discover)
app.command("sensitivity")(tuning.sensitivity)
app.command("calibrate")(tuning.calibrate)
app.command("docs")(docs.docs)
app.command("validate")(validate.validate)
app.command("viz")(viz.viz)


def main() -> None:
    """Console entry point: run the app, turning stray user-input errors into exit status 2."""
    try:
        app()
    except InputError as exc:  # raised inside a command after validation
        print_error(exc)
        sys.exit(2)


if __name__ == "__main__":
    main()

"""One model run to an output folder: quarters.csv, summary.json and dashboard.png.

summary.json records the input files the run was built from (model/inputs.py): per file its
role, name and SHA-256, and its text when it is small (`INLINE_BYTES`), so a run folder says
which version of a scenario file produced it.

The files are written into a hidden staging folder inside the output folder and renamed into
place only when all of them are complete, so a folder never holds a half-written file, nor new
files beside old ones from an interrupted call.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from model import inputs as I
from model import scenarios
from model.model import Crypto401kModel

HEADLINE_QUARTERS = (4, 12, 40)
INLINE_BYTES = 64 * 1024  # an input file up to this size is copied whole into summary.json


def simulate(
    scenario: str | Path | scenarios.Scenario = "baseline",
    *,
    quarters: int | None = None,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    on_quarter: Callable[[int], None] | None = None,
) -> tuple[Crypto401kModel, pd.DataFrame]:
    """Build and run one model; the model and its quarters table (quarter 0 to `quarters`).

    scenario: a shipped scenario name, a scenario TOML path, or a loaded Scenario.
    quarters: quarters run after quarter 0 (None: the scenario's own, 40 unless it says).
    seed: the model's seed; the same seed gives the same table bit for bit, and two scenarios
        run with one seed share the exogenous market path (a paired counterfactual).
    overrides: declared parameters (model/parameters.py) by name, over the scenario's values.
    on_quarter: called with each quarter's number once it has run (progress).
    Raises InputError for an unknown scenario or parameter or a value out of range, before
    anything runs.
    """
    spec = scenario if isinstance(scenario, scenarios.Scenario) else scenarios.load(scenario)
    model = Crypto401kModel(spec, rng=seed, **(overrides or {}))
    n = spec.quarters if quarters is None else quarters
    for q in range(n):
        model.step()
        if on_quarter:
            on_quarter(q + 1)
    return model, model.quarters_table()


def headline(table: pd.DataFrame) -> dict[str, Any]:
    """Headline numbers of a run: final values and cumulative flow at the headline quarters."""
    last = table.iloc[-1]
    out: dict[str, Any] = {
        "final_quarter": int(last["quarter"]),
        "final_date": str(last["date"]),
    }
    for name in (
        "adoption_rate",
        "active_adoption_rate",
        "plans_offering_share",
        "crypto_aum_usd",
        "cumulative_net_flow_usd",
        "crypto_share_of_401k_assets",
        "price_index",
        "flow_price_impact",
        "max_drawdown",
        "moat_index",
        "crackdown_pass_probability",
    ):
        if name in table.columns:
            out[f"final_{name}"] = float(last[name])
    for q in HEADLINE_QUARTERS:
        if q < len(table):
            out[f"cumulative_net_flow_usd_q{q}"] = float(table["cumulative_net_flow_usd"].iloc[q])
    out["peak_adoption_rate"] = float(table["adoption_rate"].max())
    out["mean_realized_vol"] = float(table["realized_vol"].iloc[1:].mean()) if len(table) > 1 else 0.0
    return out


def replayed(model: Crypto401kModel) -> dict[str, Any]:
    """What the run replayed of the observed world: the history's as-of date, the price path."""
    out: dict[str, Any] = {}
    if model.history is not None:
        out["observed_as_of"] = model.history.as_of.isoformat()
        out["final_rule_quarter"] = model.regulation.final_q
    path = model.market.exogenous.path
    if path is not None:
        out["price_path"] = path.describe()
    return out


def versions() -> dict[str, str]:
    """Versions of Python and the libraries that determine the results."""
    out = {"python": platform.python_version()}
    for pkg in ("crypto401k", "mesa", "numpy", "scipy", "networkx", "pandas", "pyarrow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write a file through `write(tmp_path)` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


RUN_FILES = ("quarters.csv", "summary.json", "dashboard.png")


def describe(model: Crypto401kModel, quarters: int) -> str:
    """One line naming what a run was: seed, population and its scale, employers, horizon."""
    pop = model.population
    return (
        f"seed {model.seed}, {pop.n:,} participants (1 agent = {pop.weight:,.0f} people),"
        f" {model.params['n_employers']:,} employers, quarters 0-{quarters}"
    )


@contextmanager
def staged(out: Path, replaces: tuple[str, ...] = ()) -> Iterator[Path]:
    """A staging folder for a call's files; when the block ends normally they all move into `out`.

    Files named in `replaces` that the block did not write are removed from `out` (an earlier
    call's leftovers). On an error or an interrupt `out` is left as it was.
    """
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        yield stage
        names = [p.name for p in stage.iterdir()]
        for name in names:
            os.replace(stage / name, out / name)
        for name in set(replaces) - set(names):
            (out / name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if created and not any(out.iterdir()):
            out.rmdir()


def inputs_summary(files: tuple[I.InputFile, ...]) -> list[dict[str, Any]]:
    """Per input file: role, name, sha256, bytes, and its text when it is text of at most
    INLINE_BYTES (otherwise the digest alone identifies it)."""
    out = []
    for f in files:
        entry: dict[str, Any] = {"role": f.role, "name": f.name, "sha256": f.digest, "bytes": f.size}
        text = f.text() if f.size is not None and f.size <= INLINE_BYTES else None
        if text is not None:
            entry["content"] = text
        out.append(entry)
    return out


def write_outputs(
    out: Path,
    model: Crypto401kModel,
    table: pd.DataFrame,
    dashboard: Any = None,
    inputs: tuple[I.InputFile, ...] = (),
) -> dict[str, Any]:
    """Write quarters.csv, summary.json and (optionally) dashboard.png into `out`; the summary.

    dashboard: None (no figure), a function `draw(table, png, title, subtitle)` called here
    (experiments.reports.dashboard.plot_dashboard), or a started drawer with `submit(table, png,
    title, subtitle)` and `finish()` (its DashboardProcess) that draws while the other files
    are written. (This module does not import the reports, which run models through it.)
    inputs: the input files the run was built from (`Scenario.inputs`), recorded in
    summary.json. Results of an earlier run in `out` are replaced as a whole (the caller
    decides whether they may be).
    """
    quarters = int(table["quarter"].iloc[-1])
    summary = {
        "scenario": model.scenario_name,
        "seed": model.seed,
        "quarters": quarters,
        "participants": model.population.n,
        "agent_weight": model.population.weight,
        "parameters": model.params,
        "headline": headline(table),
        "rule_history": [list(h) for h in model.regulation.history],
        **replayed(model),
        "versions": versions(),
        "inputs_digest": I.combined_digest(inputs),
        "inputs": inputs_summary(inputs),
    }
    with staged(out, replaces=RUN_FILES) as stage:
        if dashboard:
            png, title, subtitle = stage / "dashboard.png", model.scenario_name, describe(model, quarters)
            if hasattr(dashboard, "submit"):
                dashboard.submit(table, png, title, subtitle)  # drawn while the other files are written
        table.to_csv(stage / "quarters.csv", index=False)
        (stage / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        if hasattr(dashboard, "finish"):
            dashboard.finish()
        elif dashboard:
            dashboard(table, png, title, subtitle)
    return summary

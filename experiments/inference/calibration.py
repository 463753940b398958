"""A whole Bayesian calibration in one folder: the ABC-SMC run, then everything read from it.

Order: the run (experiments.inference.smc; resumable), the posterior table, the identification
table, the predictive check, figures, the report and the posterior-median scenario; then, when
asked, the recovery check and the prior-sensitivity check (each a set of calibrations of its own
in a subfolder, also resumable), after which the report is written again with them. What is
written before a stop stays valid: the main results never wait for the checks.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments import posterior_table
from experiments.inference import diagnostics, plots, predictive, prior_check, recovery, report, smc
from experiments.inference.posterior import HISTORY, export
from experiments.inference.priors import as_records
from experiments.inference.simulator import FreshWorld
from experiments.tuning import writers as W

__all__ = ["HISTORY", "RESULTS", "Checks", "Results", "run"]

RESULTS = (
    posterior_table.FILE,
    "identification.csv",
    "generations.csv",
    "predictive.csv",
    "predictive_draws.csv",
    "recovery.csv",
    "recovery_coverage.csv",
    "prior_check.csv",
    "posterior_pairs.png",
    "posterior_marginals.png",
    "predictive.png",
    "schedule.png",
    "report.md",
    "calibrated.toml",
    "summary.json",
)
FIGURES = {
    "posterior pair plot": "posterior_pairs.png",
    "prior and posterior": "posterior_marginals.png",
    "predictive check": "predictive.png",
    "temperature schedule": "schedule.png",
}


@dataclass(frozen=True)
class Checks:
    """What to compute after the run: predictive draws, recovery points, the prior check, and the
    seed of their random draws."""

    predictive: int = 200
    recovery: int = 0
    prior_check: bool = False
    seed: int = 0


@dataclass
class Results:
    outcome: smc.Outcome
    meta: dict[str, Any]
    table: pd.DataFrame
    identification: pd.DataFrame
    predictive: pd.DataFrame | None
    coverage: pd.DataFrame | None
    prior: pd.DataFrame | None


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run(
    plan: smc.Plan,
    out: Path,
    engine,
    *,
    code_version: str,
    targets_file: Path,
    command: str,
    checks: Checks = Checks(),
    scenario_text: Callable[[dict[str, float], Path], str] | None = None,
    on_event: Callable[[str], None] | None = None,
) -> Results:
    """Run or resume the calibration in `out` and write every result (see RESULTS).

    scenario_text(medians, path): the text of the posterior-median scenario written to
    OUT/calibrated.toml (None: not written).
    """
    out = Path(out)
    meta = {
        "targets_file": str(targets_file),
        "targets_digest": file_digest(targets_file),
        "targets": plan.describe()["targets"],
        "code_version": code_version,
        "priors": as_records(list(plan.priors)),
        "run": {
            "scenario": plan.settings.scenario,
            "quarters": plan.settings.quarters,
            "participants": plan.settings.participants,
            "fixed": dict(plan.settings.fixed),
            "seeds_per_particle": plan.seeds_per_particle,
        },
        "command": command,
    }
    outcome = smc.run(
        plan, out, engine, code_version=code_version, meta={"command": command}, on_event=on_event
    )
    meta.update(stopped=outcome.reason, created=time.strftime("%Y-%m-%dT%H:%M:%S"))
    table, meta = export(out, list(plan.names), meta)
    ident = diagnostics.identification(list(plan.priors), table, seed=checks.seed)
    W.write_csv(out / "identification.csv", ident)
    W.write_csv(out / "generations.csv", pd.DataFrame(outcome.populations))
    check = None
    if checks.predictive > 0:
        if on_event:
            on_event(f"predictive check: {checks.predictive} posterior draws")
        world = FreshWorld(plan.simulator())
        sims = predictive.simulate(
            table, list(plan.names), checks.predictive, checks.seed, lambda items: engine.map(world, items)
        )
        W.write_csv(out / "predictive_draws.csv", sims)
        check = predictive.check(list(plan.targets), sims, seed=checks.seed)
        W.write_csv(out / "predictive.csv", check)
    results = Results(outcome, meta, table, ident, check, None, None)
    _figures_and_report(out, plan, results, scenario_text)
    if checks.recovery > 0:
        rows = recovery.run(
            plan,
            out,
            engine,
            points=checks.recovery,
            seed=checks.seed,
            code_version=code_version,
            on_event=on_event,
        )
        W.write_csv(out / "recovery.csv", rows)
        results.coverage = recovery.coverage(rows)
        W.write_csv(out / "recovery_coverage.csv", results.coverage)
    if checks.prior_check:
        results.prior = prior_check.run(
            plan, out, engine, table, code_version=code_version, on_event=on_event
        )
        W.write_csv(out / "prior_check.csv", results.prior)
    if checks.recovery > 0 or checks.prior_check:
        _figures_and_report(out, plan, results, None)
    return results


def _figures_and_report(out: Path, plan: smc.Plan, r: Results, scenario_text) -> None:
    priors = list(plan.priors)
    plots.pairs(r.table, priors, out / FIGURES["posterior pair plot"])
    plots.marginals(r.table, r.identification, priors, out / FIGURES["prior and posterior"])
    plots.schedule(r.outcome.populations, out / FIGURES["temperature schedule"])
    figures = dict(FIGURES)
    if r.predictive is not None:
        plots.predictive(r.predictive, out / FIGURES["predictive check"])
    else:
        figures.pop("predictive check")
        (out / FIGURES["predictive check"]).unlink(missing_ok=True)
    report.write(
        out / "report.md",
        meta=r.meta,
        ident=r.identification,
        check=r.predictive,
        coverage=r.coverage,
        prior_rows=r.prior,
        figures=figures,
    )
    medians = {row["parameter"]: float(row["posterior_median"]) for _, row in r.identification.iterrows()}
    if scenario_text is not None:
        W.write_scenario(out / "calibrated.toml", scenario_text(medians, out / "calibrated.toml"))
    summary = {
        "method": "abc",
        "stopped": r.outcome.reason,
        "generations": r.outcome.generations,
        "simulations": r.outcome.simulations,
        "final_temperature": r.outcome.temperature,
        "exact": r.outcome.exact,
        "effective_sample_size": r.meta.get("effective_sample_size"),
        "posterior_medians": medians,
        "not_identified": [
            row["parameter"] for _, row in r.identification.iterrows() if not row["identified"]
        ],
        "predictive_inside": None if r.predictive is None else int(r.predictive["inside"].sum()),
        "targets": len(plan.targets),
        "command": r.meta.get("command"),
    }
    if r.coverage is not None:
        summary["recovery_coverage"] = r.coverage.to_dict(orient="records")
    W.write_json(out / "summary.json", json.loads(json.dumps(summary, default=str)))

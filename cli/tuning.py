"""The `crypto401k sensitivity` and `crypto401k calibrate` commands (registered in cli/main.py)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.console import console, err_console, fail
from experiments.tuning.space import parse_space
from model import parameters as P
from model import scenarios
from model.errors import InputError

if TYPE_CHECKING:
    from experiments.tuning.runs import RunSettings


def _settings(
    scenario: str,
    seeds: int,
    quarters: int | None,
    needed: int,
    participants: int | None,
    set_: list[str] | None,
    outputs: tuple[str, ...],
) -> RunSettings:
    """Validated run settings shared by both commands (InputError before anything runs)."""
    from experiments.tuning.runs import RunSettings  # here: it imports the model, and every command pays

    spec = scenarios.load(scenario)
    fixed = P.parse_assignments(set_ or [])
    if participants is not None:
        P.get("n_participants").check(participants, "--participants")
    if not 1 <= seeds <= 1000:
        raise InputError(f"{seeds}", key="--seeds", allowed="an integer from 1 to 1000")
    n_quarters = quarters if quarters is not None else (needed or spec.quarters)
    if not 1 <= n_quarters <= scenarios.MAX_QUARTERS:
        raise InputError(
            f"{n_quarters} is out of range",
            key="--quarters",
            allowed=f"an integer from 1 to {scenarios.MAX_QUARTERS}",
        )
    if n_quarters < needed:
        raise InputError(
            f"{n_quarters} quarters is shorter than the statistics need ({needed})",
            key="--quarters",
            allowed=f"at least {needed}",
        )
    spec.parameters(fixed)
    return RunSettings(
        scenario=scenario,
        seeds=tuple(range(seeds)),
        quarters=n_quarters,
        participants=participants,
        outputs=outputs,
        fixed=fixed,
    )


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", source=str(out), key="--out")


def sensitivity(
    outcome: Annotated[
        str, typer.Option(help="Statistic to explain: NAME, NAME@QUARTER or NAME@FIRST:LAST.")
    ],
    out: Annotated[Path, typer.Option(help="Output folder (indices.csv, plot, samples.csv, runs/).")],
    method: Annotated[str, typer.Option(help="morris (screening) or sobol (variance shares).")] = "morris",
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--params",
            help="Parameter, or name=LOW:HIGH (repeatable or comma-separated; default: the behavioural ones).",
        ),
    ] = None,
    from_screen: Annotated[
        Path | None,
        typer.Option(
            help="Use the top parameters of an earlier run's --out folder (e.g. Morris, for Sobol)."
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="How many top parameters --from-screen takes.")] = 5,
    samples: Annotated[
        int | None,
        typer.Option(
            help="Morris trajectories (default 10) or Sobol base samples, a power of 2 (default 64)."
        ),
    ] = None,
    seeds: Annotated[int, typer.Option(help="Replicate seeds per point (outcome averaged).")] = 2,
    scenario: Annotated[str, typer.Option(help="Scenario the points are applied to.")] = "baseline",
    quarters: Annotated[
        int | None,
        typer.Option(help="Quarters per run (default: the outcome's last quarter, or the scenario's)."),
    ] = None,
    participants: Annotated[int | None, typer.Option(help="Participant agents per run.")] = 5000,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Fixed override at every point: name=value (repeatable)."),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: all cores).")] = None,
    dask: Annotated[str | None, typer.Option(help="Address of a Dask scheduler to run on instead.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the SALib design and bootstrap intervals.")] = 0,
) -> None:
    """Global sensitivity of an outcome to the parameters (SALib Morris or Sobol) over the declared ranges."""
    from experiments.tuning import moments
    from experiments.tuning import sensitivity as S
    from experiments.tuning import writers as W

    try:
        if method not in S.METHODS:
            raise InputError(f"unknown method {method!r}", key="--method", allowed=", ".join(S.METHODS))
        stat = moments.parse(outcome, key="--outcome")
        if from_screen is not None and not params:
            params = S.top_parameters(from_screen / "indices.csv", top)
        dims = parse_space(params)
        n = samples if samples is not None else (10 if method == "morris" else 64)
        settings = _settings(scenario, seeds, quarters, stat.max_quarter, participants, set_, stat.outputs)
        clash = sorted({d.name for d in dims} & set(settings.fixed))
        if clash:
            raise InputError("both varied and fixed", key=f"--set {clash[0]}")
        _check_out(out)
        evaluate = S.model_evaluator(dims, stat, settings, out / "runs", workers=workers, dask_address=dask)
        x, y, indices, dropped = S.run_sensitivity(method, dims, evaluate, n, seed)
    except InputError as exc:
        fail(exc)
    import pandas as pd

    W.write_csv(out / "indices.csv", indices)
    design = pd.DataFrame(x, columns=[d.name for d in dims])
    design[stat.text] = y
    W.write_csv(out / "samples.csv", design)
    plot = out / f"{method}.png"
    (W.plot_morris if method == "morris" else W.plot_sobol)(indices, stat.text, plot)
    W.write_json(
        out / "summary.json",
        {
            "method": method,
            "outcome": stat.text,
            "samples": n,
            "points": len(x),
            "runs": len(x) * len(settings.seeds),
            "seeds": list(settings.seeds),
            "scenario": scenario,
            "quarters": settings.quarters,
            "participants": participants,
            "fixed": settings.fixed,
            "parameters": [[d.name, d.low, d.high] for d in dims],
            "design_seed": seed,
            "ranking": indices["parameter"].tolist(),
            "groups_dropped": dropped,
            "failed_runs": len(evaluate.failures),
            "first_failure": list(evaluate.failures[0]) if evaluate.failures else None,
        },
    )
    t = Table(title=f"{method} indices for {stat.text} ({len(x)} points x {len(settings.seeds)} seeds)")
    for c in indices.columns:
        if c not in ("low", "high"):
            t.add_column(c, justify="left" if c == "parameter" else "right")
    for _, r in indices.iterrows():
        t.add_row(
            *[
                f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c])
                for c in indices.columns
                if c not in ("low", "high")
            ]
        )
    console.print(t)
    if dropped:
        unit = "trajectories" if method == "morris" else "sample blocks"
        err_console.print(
            f"[yellow]note:[/] {dropped} {unit} dropped: the outcome was undefined or"
            f" the model failed there ({len(evaluate.failures)} failed runs; first:"
            f" {evaluate.failures[0][1] if evaluate.failures else 'undefined outcome'})"
        )
    console.print(f"wrote {out / 'indices.csv'}, {plot}, {out / 'samples.csv'}, {out / 'summary.json'}")


def calibrate(
    targets_file: Annotated[Path, typer.Argument(metavar="TARGETS.toml", help="Calibration targets (TOML).")],
    out: Annotated[
        Path, typer.Option(help="Output folder (study.journal, runs/, fit.csv, plots, calibrated.toml).")
    ],
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--params",
            help="Parameter, or name=LOW:HIGH (repeatable or comma-separated; default: the behavioural ones).",
        ),
    ] = None,
    trials: Annotated[
        int, typer.Option(help="Completed trials in total (a resumed study counts earlier ones).")
    ] = 50,
    seeds: Annotated[int, typer.Option(help="Replicate seeds per trial (statistics averaged).")] = 3,
    scenario: Annotated[
        str, typer.Option(help="Scenario the calibrated values are applied to (and extended).")
    ] = "baseline",
    quarters: Annotated[
        int | None, typer.Option(help="Quarters per run (default: the last quarter any target reads).")
    ] = None,
    participants: Annotated[int | None, typer.Option(help="Participant agents per run.")] = 10000,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Fixed override in every run: name=value (not written to the scenario)."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(help="Trials proposed and run together (for several workers or Dask).")
    ] = 1,
    workers: Annotated[int | None, typer.Option(help="Local worker processes per batch.")] = 1,
    dask: Annotated[str | None, typer.Option(help="Address of a Dask scheduler to run on instead.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the optuna sampler.")] = 0,
    save_scenario: Annotated[
        Path | None,
        typer.Option(help="Also write the calibrated scenario here (e.g. model/scenarios/calibrated.toml)."),
    ] = None,
    name: Annotated[str, typer.Option(help="Name of the calibrated scenario.")] = "calibrated",
) -> None:
    """Calibrate parameters to observed targets (method of simulated moments, optuna; resumable)."""
    from experiments.tuning import calibrate as C
    from experiments.tuning import targets as T
    from experiments.tuning import writers as W

    try:
        tg = T.load_targets(targets_file)
        dims = parse_space(params)
        settings = _settings(
            scenario, seeds, quarters, T.needed_quarters(tg), participants, set_, T.needed_outputs(tg)
        )
        clash = sorted({d.name for d in dims} & set(settings.fixed))
        if clash:
            raise InputError("both calibrated and fixed", key=f"--set {clash[0]}")
        _check_out(out)
        if save_scenario is not None and save_scenario.exists() and save_scenario.is_dir():
            raise InputError("is a folder", source=str(save_scenario), key="--save-scenario")
        best_loss: list[float] = []

        with err_console.status("calibrating") as status:

            def show(t) -> None:
                if t.value is not None:
                    best_loss[:] = [min(best_loss + [t.value])]
                status.update(
                    f"trial {t.number}: loss "
                    + (f"{t.value:.4g}" if t.value is not None else "failed")
                    + (f", best so far {best_loss[0]:.4g}" if best_loss else "")
                )

            study = C.calibrate(
                tg,
                dims,
                settings,
                out,
                trials,
                batch_size=batch_size,
                workers=workers,
                dask_address=dask,
                seed=seed,
                on_trial=show,
            )
    except InputError as exc:
        fail(exc)
    best = study.best_trial
    fit = C.fit_table(tg, best)
    W.write_csv(out / "fit.csv", fit)
    W.write_csv(out / "trials.csv", W.trials_table(study))
    imp = W.importances(study)
    W.write_csv(out / "importance.csv", imp)
    W.plot_loss_history(study, out / "loss_history.png")
    W.plot_importance(imp, out / "param_importance.png")
    command = ["crypto401k", "calibrate", str(targets_file), "--out", str(out)]
    command += [f"--params={d.name}={d.low:g}:{d.high:g}" for d in dims]
    command += [
        "--trials",
        str(trials),
        "--seeds",
        str(seeds),
        "--scenario",
        scenario,
        "--quarters",
        str(settings.quarters),
    ]
    if participants is not None:
        command += ["--participants", str(participants)]
    for k, v in settings.fixed.items():
        command += ["--set", f"{k}={v}"]
    command += ["--seed", str(seed)]
    if save_scenario is not None:
        command += ["--save-scenario", str(save_scenario)]
    n_done = len(C.completed(study))
    header = [
        "Calibrated by the method of simulated moments (docs/guide/tuning.md). Produced by:",
        "  " + shlex.join(command),
        f"Best of {n_done} trials: loss {best.value:.4g} (weighted mean squared error in"
        " tolerances); fit table in fit.csv of that --out folder.",
        f"Runs: {len(settings.seeds)} seeds x {settings.quarters} quarters, "
        f"{participants if participants is not None else 'default'} participants"
        + (", " + ", ".join(f"{k}={v}" for k, v in settings.fixed.items()) if settings.fixed else "")
        + ".",
        "",
    ]
    text = W.scenario_text(
        dict(best.params),
        name=name,
        extends=scenario,
        header=header,
        description=f"Baseline with behavioural parameters calibrated to {targets_file.name}.",
    )
    W.write_scenario(out / "calibrated.toml", text)
    if save_scenario is not None:
        W.write_scenario(save_scenario, text)
    W.write_json(
        out / "summary.json",
        {
            "best_loss": best.value,
            "best_trial": best.number,
            "completed_trials": n_done,
            "best_parameters": best.params,
            "targets": str(targets_file),
            "command": shlex.join(command),
            "seeds": list(settings.seeds),
            "quarters": settings.quarters,
            "participants": participants,
            "fixed": settings.fixed,
        },
    )
    t = Table(title=f"Fit at the best of {n_done} trials (loss {best.value:.4g})")
    for c in ("target", "statistic", "observed", "simulated", "error (tol.)"):
        t.add_column(c, justify="left" if c in ("target", "statistic") else "right")
    for _, r in fit.iterrows():
        bound = {"upper": "<= ", "lower": ">= "}.get(r["kind"], "")
        t.add_row(
            r["target"],
            r["statistic"],
            f"{bound}{r['observed']:.4g}",
            f"{r['simulated']:.4g}",
            f"{r['error_tolerances']:+.2f}",
        )
    console.print(t)
    console.print("best parameters: " + ", ".join(f"{k}={v:.4g}" for k, v in best.params.items()))
    wrote = [out / "fit.csv", out / "loss_history.png", out / "param_importance.png", out / "calibrated.toml"]
    if save_scenario is not None:
        wrote.append(save_scenario)
    console.print("wrote " + ", ".join(str(p) for p in wrote))

"""The `crypto401k sensitivity` and `crypto401k calibrate` commands (registered in cli/main.py).

Both run the model through the batch runner into OUT/runs, where a run's id is a hash of its
settings, so calling the same command again after a stop resumes without repeating runs.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Annotated

import typer

from cli import options as O
from cli.console import console, interruptible, note, say, user_errors
from model.errors import InputError

SENSITIVITY_FILES = ("indices.csv", "samples.csv", "summary.json", "morris.png", "sobol.png")
CALIBRATION_FILES = (
    "fit.csv",
    "trials.csv",
    "importance.csv",
    "loss_history.png",
    "param_importance.png",
    "calibrated.toml",
    "summary.json",
)
Params = Annotated[
    list[str] | None,
    typer.Option(
        "--params",
        metavar="NAME[=LOW:HIGH]",
        help="Parameter, or name=LOW:HIGH (repeatable or comma-separated; default: the behavioural ones).",
    ),
]
Seeds = Annotated[int, typer.Option(metavar="N", help="Replicate seeds per point (statistics averaged).")]
RunQuarters = Annotated[
    int | None,
    typer.Option(metavar="N", help="Quarters per run (default: the last quarter the statistics read)."),
]


def _settings(scenario, seeds, quarters, needed, participants, set_, outputs):
    """Validated run settings shared by both commands (InputError before anything runs)."""
    from experiments.tuning.runs import RunSettings
    from model import scenarios

    spec = scenarios.load(scenario)
    fixed = O.overrides(set_, None)
    if "n_participants" in fixed:  # the run size travels as `participants`
        raise InputError(
            "set the population with --participants", key="--set n_participants", allowed="--participants N"
        )
    if participants is not None:
        O.overrides(None, participants)
    if not 1 <= seeds <= 1000:
        raise InputError(f"{seeds} is out of range", key="--seeds", allowed="an integer from 1 to 1000")
    n_quarters = O.check_quarters(quarters if quarters is not None else (needed or spec.quarters))
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
        loaded=spec,
    )


def sensitivity(
    outcome: Annotated[
        str,
        typer.Option(
            metavar="STATISTIC", help="Statistic to explain: NAME, NAME@QUARTER or NAME@FIRST:LAST."
        ),
    ],
    out: Annotated[
        Path, O.out_option("Output folder (indices.csv, plot, samples.csv, summary.json, runs/).")
    ],
    method: Annotated[
        str, typer.Option(metavar="morris|sobol", help="morris (screening) or sobol (variance shares).")
    ] = "morris",
    params: Params = None,
    from_screen: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Use the top parameters of an earlier run's --out folder (e.g. Morris, for Sobol).",
        ),
    ] = None,
    top: Annotated[int, typer.Option(metavar="N", help="How many top parameters --from-screen takes.")] = 5,
    samples: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Morris trajectories (default 10) or Sobol base samples, a power of 2 (default 64).",
        ),
    ] = None,
    seeds: Seeds = 2,
    scenario: O.Scenario = "baseline",
    quarters: RunQuarters = None,
    participants: O.Participants = 5000,
    set_: O.Set = None,
    workers: O.Workers = None,
    dask: O.Dask = None,
    seed: Annotated[
        int, typer.Option(metavar="N", help="Seed of the SALib design and bootstrap intervals.")
    ] = 0,
    force: O.Force = False,
) -> None:
    """Global sensitivity of an outcome to the parameters (SALib Morris or Sobol) over the declared ranges.

    Runs are kept in OUT/runs: after a stop, the same command resumes. A folder that already holds
    the results of an earlier analysis is refused unless --force (its stored runs are reused).
    """
    from experiments.tuning import moments
    from experiments.tuning import sensitivity as S
    from experiments.tuning.space import parse_space

    with user_errors():
        if method not in S.METHODS:
            raise InputError(f"unknown method {method!r}", key="--method", allowed=", ".join(S.METHODS))
        stat = moments.parse(outcome, key="--outcome")
        O.check_workers(workers)
        O.check_seed(seed)
        if from_screen is not None and not params:
            params = S.top_parameters(from_screen / "indices.csv", top)
        dims = parse_space(params)
        n = samples if samples is not None else (10 if method == "morris" else 64)
        settings = _settings(scenario, seeds, quarters, stat.max_quarter, participants, set_, stat.outputs)
        clash = sorted({d.name for d in dims} & set(settings.fixed))
        if clash:
            raise InputError("both varied and fixed", key=f"--set {clash[0]}", allowed="vary it or fix it")
        S.check_design(method, dims, n)
        O.check_out_dir(out, results=SENSITIVITY_FILES, force=force)
    kept = f"finished model runs are kept in {out / 'runs'}; run the same command again to resume"
    with interruptible(kept), user_errors():
        evaluate = S.model_evaluator(dims, stat, settings, out / "runs", workers=workers, dask_address=dask)
        x, y, indices, dropped = S.run_sensitivity(method, dims, evaluate, n, seed)
        plot = _write_sensitivity(
            out,
            method,
            stat,
            dims,
            settings,
            n,
            seed,
            scenario,
            participants,
            x,
            y,
            indices,
            dropped,
            evaluate,
        )
    t = _table(
        f"{method} indices for {stat.text} ({len(x)} points x {len(settings.seeds)} seeds)",
        indices.drop(columns=["low", "high"]),
    )
    console.print(t)
    if dropped:
        unit = "trajectories" if method == "morris" else "sample blocks"
        first = evaluate.failures[0][1] if evaluate.failures else "undefined outcome"
        note(
            f"{dropped} {unit} dropped: the outcome was undefined or the model failed there"
            f" ({len(evaluate.failures)} failed runs; first: {first})"
        )
    warning = S.reliability_warning(method, indices, n)
    if warning:
        note(warning)
    say(f"wrote {out / 'indices.csv'}, {plot}, {out / 'samples.csv'}, {out / 'summary.json'}")


def _write_sensitivity(
    out, method, stat, dims, settings, n, seed, scenario, participants, x, y, indices, dropped, evaluate
):
    import pandas as pd

    from experiments.tuning import writers as W

    W.write_csv(out / "indices.csv", indices)
    design = pd.DataFrame(x, columns=[d.name for d in dims])
    design[stat.text] = y
    W.write_csv(out / "samples.csv", design)
    plot = out / f"{method}.png"
    (W.plot_morris if method == "morris" else W.plot_sobol)(indices, stat.text, plot)
    (out / ("sobol.png" if method == "morris" else "morris.png")).unlink(missing_ok=True)  # an earlier call's
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
    return plot


def _table(title: str, frame):
    from rich.table import Table

    t = Table(title=title)
    for c in frame.columns:
        t.add_column(c, justify="left" if c == "parameter" else "right")
    for _, r in frame.iterrows():
        t.add_row(*[f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]) for c in frame.columns])
    return t


def calibrate(
    targets_file: Annotated[Path, typer.Argument(metavar="TARGETS.toml", help="Calibration targets (TOML).")],
    out: Annotated[
        Path, O.out_option("Output folder (study.journal, runs/, fit.csv, plots, calibrated.toml).")
    ],
    params: Params = None,
    trials: Annotated[
        int,
        typer.Option(metavar="N", help="Completed trials in total (a resumed study counts earlier ones)."),
    ] = 50,
    seeds: Seeds = 3,
    scenario: Annotated[
        str,
        typer.Option(
            metavar="NAME|FILE", help="Scenario the calibrated values are applied to (and extended)."
        ),
    ] = "baseline",
    quarters: RunQuarters = None,
    participants: O.Participants = 10000,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=VALUE",
            help="Fixed override in every run (not written to the scenario; repeatable).",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(metavar="N", help="Trials proposed and run together (for several workers or Dask).")
    ] = 1,
    workers: Annotated[int | None, typer.Option(metavar="N", help="Local worker processes per batch.")] = 1,
    dask: O.Dask = None,
    seed: Annotated[int, typer.Option(metavar="N", help="Seed of the optuna sampler.")] = 0,
    save_scenario: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Also write the calibrated scenario to this new file (--force to replace one).",
        ),
    ] = None,
    name: Annotated[
        str, typer.Option(metavar="NAME", help="Name of the calibrated scenario.")
    ] = "calibrated",
    force: O.Force = False,
) -> None:
    """Calibrate parameters to observed targets (method of simulated moments, optuna; resumable).

    The same command with the same --out resumes (or extends with a larger --trials) a stopped
    calibration. A folder holding another calibration's results is refused unless --force.
    """
    from experiments.tuning import calibrate as C
    from experiments.tuning import targets as T
    from experiments.tuning.space import parse_space

    with user_errors():
        O.check_input_file(targets_file, "TARGETS.toml", "a TOML file of [[target]] tables")
        tg = T.load_targets(targets_file)
        dims = parse_space(params)
        O.check_workers(workers)
        O.check_seed(seed)
        settings = _settings(
            scenario, seeds, quarters, T.needed_quarters(tg), participants, set_, T.needed_outputs(tg)
        )
        clash = sorted({d.name for d in dims} & set(settings.fixed))
        if clash:
            raise InputError(
                "both calibrated and fixed", key=f"--set {clash[0]}", allowed="calibrate it or fix it"
            )
        if save_scenario is not None:
            # the copy an earlier call of this calibration wrote is updated when it resumes
            O.check_out_file(save_scenario, "--save-scenario", force=force or _written_by(save_scenario, out))
        _check_calibration_out(out, C, C.fingerprint(tg, dims, settings), force)
    kept = (
        f"finished trials are kept in {out / C.JOURNAL} and their runs in {out / 'runs'};"
        " run the same command again to resume"
    )
    with interruptible(kept), user_errors():
        best_loss: list[float] = []
        from cli.console import err_console

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
        fit, command, n_done = _write_calibration(
            study,
            tg,
            dims,
            settings,
            out,
            targets_file,
            trials,
            seeds,
            scenario,
            participants,
            seed,
            save_scenario,
            name,
        )
    best = study.best_trial
    t = _table(
        f"Fit at the best of {n_done} trials (loss {best.value:.4g})",
        fit.assign(
            observed=[
                {"upper": "<= ", "lower": ">= "}.get(k, "") + f"{o:.4g}"
                for k, o in zip(fit["kind"], fit["observed"], strict=True)
            ],
            **{"error (tol.)": [f"{e:+.2f}" for e in fit["error_tolerances"]]},
        )[["target", "statistic", "observed", "simulated", "error (tol.)"]],
    )
    console.print(t)
    say("best parameters: " + ", ".join(f"{k}={v:.4g}" for k, v in best.params.items()))
    wrote = [out / "fit.csv", out / "loss_history.png", out / "param_importance.png", out / "calibrated.toml"]
    if save_scenario is not None:
        wrote.append(save_scenario)
    say("wrote " + ", ".join(str(p) for p in wrote))


def _written_by(scenario_file: Path, out: Path) -> bool:
    """Whether a scenario file was written by `crypto401k calibrate ... --out OUT` (its header says so)."""
    try:
        head = scenario_file.read_text(errors="replace")[:2000]
    except OSError:
        return False
    return "crypto401k calibrate" in head and f"--out {shlex.quote(str(out))} " in head


def _check_calibration_out(out: Path, C, digest: str, force: bool) -> None:
    """Resume a calibration of the same settings; refuse another's folder unless --force
    (which starts a new study there; stored runs, keyed by their settings, are reused)."""
    journal = out / C.JOURNAL
    if journal.is_file():
        O.check_out_dir(out)
        stored = C.stored_fingerprint(out)
        if stored is not None and stored != digest:
            if not force:
                raise InputError(
                    "holds a calibration of other targets, parameters or run settings;"
                    " use a new --out (or the same arguments to resume)",
                    source=str(out),
                    key="--out",
                    allowed="a new folder, the same arguments, or --force to start over there",
                )
            journal.unlink()
    else:
        O.check_out_dir(out, results=CALIBRATION_FILES, force=force)


def _write_calibration(
    study,
    tg,
    dims,
    settings,
    out,
    targets_file,
    trials,
    seeds,
    scenario,
    participants,
    seed,
    save_scenario,
    name,
):
    from experiments.tuning import calibrate as C
    from experiments.tuning import writers as W

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
    command += ["--trials", str(trials), "--seeds", str(seeds), "--scenario", scenario]
    command += ["--quarters", str(settings.quarters)]
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

    def text(dest: Path) -> str:
        # a scenario given as a file is extended by a path relative to the written file's folder
        parent = scenario
        if scenario.endswith(".toml") or "/" in scenario:
            parent = os.path.relpath(Path(scenario).resolve(), dest.parent.resolve())
        return W.scenario_text(
            dict(best.params),
            name=name,
            extends=parent,
            header=header,
            description=f"Baseline with behavioural parameters calibrated to {targets_file.name}.",
        )

    W.write_scenario(out / "calibrated.toml", text(out / "calibrated.toml"))
    if save_scenario is not None:
        W.write_scenario(save_scenario, text(save_scenario))
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
    return fit, command, n_done

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


METHODS = ("msm", "abc")


def calibrate(
    targets_file: Annotated[Path, typer.Argument(metavar="TARGETS.toml", help="Calibration targets (TOML).")],
    out: Annotated[
        Path,
        O.out_option(
            "Output folder (msm: study.journal, fit.csv, calibrated.toml; abc: abc.db, posterior.parquet,"
            " report.md; both: runs/ or plots)."
        ),
    ],
    method: Annotated[
        str,
        typer.Option(
            metavar="msm|abc",
            help="msm: best point by simulated moments (optuna); abc: Bayesian posterior (pyabc ABC-SMC).",
        ),
    ] = "msm",
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--params",
            metavar="NAME[=LOW:HIGH]",
            help="Parameter, or name=LOW:HIGH (repeatable or comma-separated; default: msm the"
            " behavioural ones, abc the calibrated ones).",
        ),
    ] = None,
    trials: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="msm: completed trials in total (a resumed study counts earlier ones; default 50).",
        ),
    ] = None,
    budget: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="abc: the most simulations in total, counting earlier calls (default 30,000; a"
            " generation starts only while as many as the last one took still fit).",
        ),
    ] = None,
    population: Annotated[
        int | None, typer.Option(metavar="N", help="abc: particles accepted per generation (default 500).")
    ] = None,
    generations: Annotated[
        int | None,
        typer.Option(
            metavar="N", help="abc: the most generations; the last is at temperature 1 (default 12)."
        ),
    ] = None,
    predictive: Annotated[
        int | None,
        typer.Option(
            metavar="N", help="abc: posterior draws run for the predictive check (default 200; 0: none)."
        ),
    ] = None,
    recovery: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="abc: also calibrate to N synthetic target sets and report the coverage (default 0).",
        ),
    ] = None,
    prior_check: Annotated[
        bool,
        typer.Option("--prior-check", help="abc: also calibrate with the prior widths halved and doubled."),
    ] = False,
    seeds: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Seeds per point (statistics averaged; default: msm 3, the same for every trial;"
            " abc 1, drawn per particle).",
        ),
    ] = None,
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
        int | None,
        typer.Option(
            metavar="N", help="msm: trials proposed and run together (for several workers or Dask)."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(metavar="N", help="Local worker processes (default: msm 1, abc all cores).")
    ] = None,
    dask: O.Dask = None,
    seed: Annotated[
        int, typer.Option(metavar="N", help="Seed of the optuna sampler (msm) or of the checks' draws (abc).")
    ] = 0,
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
    """Calibrate parameters to observed targets: a best point (msm, optuna) or a posterior (abc, pyabc).

    Both resume: the same command with the same --out goes on where a stopped one ended (msm:
    raise --trials to extend; abc: raise --budget or --generations). A folder holding another
    calibration's results is refused unless --force. docs/guide/tuning.md and calibration.md.
    """
    with user_errors():
        if method not in METHODS:
            raise InputError(f"unknown method {method!r}", key="--method", allowed=", ".join(METHODS))
        only = {
            "msm": {"--trials": trials, "--batch-size": batch_size},
            "abc": {
                "--budget": budget,
                "--population": population,
                "--generations": generations,
                "--predictive": predictive,
                "--recovery": recovery,
                "--prior-check": prior_check or None,
            },
        }
        for other, given in only.items():
            if other == method:
                continue
            for option, value in given.items():
                if value is not None:
                    raise InputError(
                        f"applies to --method {other} only",
                        key=option,
                        allowed=f"the options of --method {method}",
                    )
    if method == "abc":
        _calibrate_abc(
            targets_file,
            out,
            params,
            budget,
            population,
            generations,
            predictive,
            recovery,
            prior_check,
            seeds,
            scenario,
            quarters,
            participants,
            set_,
            workers,
            dask,
            seed,
            save_scenario,
            name,
            force,
        )
        return
    trials = 50 if trials is None else trials
    batch_size = 1 if batch_size is None else batch_size
    seeds = 3 if seeds is None else seeds
    workers = 1 if workers is None else workers
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


ABC_DEFAULTS = {
    "budget": 30_000,
    "population": 500,
    "generations": 12,
    "predictive": 200,
    "recovery": 0,
    "seeds": 1,
}


def _positive(value: int, key: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InputError(f"{value} is out of range", key=key, allowed=f"an integer from {low:,} to {high:,}")
    return value


def _scenario_writer(scenario: str, header: list[str], name: str, description: str):
    """text(params, dest): a scenario extending `scenario` (a file by a path relative to dest)."""
    from experiments.tuning import writers as W

    def text(params: dict, dest: Path) -> str:
        parent = scenario
        if scenario.endswith(".toml") or "/" in scenario:
            parent = os.path.relpath(Path(scenario).resolve(), dest.parent.resolve())
        return W.scenario_text(
            dict(params), name=name, extends=parent, header=header, description=description
        )

    return text


def _check_abc_out(out: Path, plan, version: str, force: bool) -> None:
    """Resume an ABC calibration of the same plan; refuse another's folder unless --force (which
    starts over there: the history and the checks' histories are removed)."""
    import shutil

    from experiments.inference import calibration as CAL
    from experiments.inference import smc

    if (out / smc.STATE).is_file() and (out / CAL.HISTORY).is_file():
        O.check_out_dir(out)
        try:
            smc.check_folder(out, plan, version)
        except InputError:
            if not force:
                raise
            for path in (out / CAL.HISTORY, out / smc.STATE):
                path.unlink(missing_ok=True)
            for folder in [out / "recovery", *out.glob("prior-x*")]:
                shutil.rmtree(folder, ignore_errors=True)
    else:
        O.check_out_dir(out, results=CAL.RESULTS, force=force)


def _calibrate_abc(
    targets_file,
    out,
    params,
    budget,
    population,
    generations,
    predictive,
    recovery,
    prior_check,
    seeds,
    scenario,
    quarters,
    participants,
    set_,
    workers,
    dask,
    seed,
    save_scenario,
    name,
    force,
) -> None:
    """`calibrate --method abc`: every input checked first, then the calibration and its checks."""
    from experiments.batch.runner import code_version
    from experiments.inference import priors as PR
    from experiments.inference import smc
    from experiments.tuning import targets as T
    from experiments.tuning.space import parse_space

    d = ABC_DEFAULTS
    with user_errors():
        O.check_input_file(targets_file, "TARGETS.toml", "a TOML file of [[target]] tables")
        doc = T.load_target_file(targets_file)
        dims = parse_space(params or PR.calibrated_names())
        items = [part.strip() for item in params or [] for part in item.replace(" ", ",").split(",")]
        given = {item.partition("=")[0].strip() for item in items if "=" in item}
        O.check_workers(workers)
        O.check_seed(seed)
        budget = _positive(d["budget"] if budget is None else budget, "--budget", 1, 10**9)
        population = _positive(
            d["population"] if population is None else population, "--population", 2, 10**6
        )
        generations = _positive(
            d["generations"] if generations is None else generations, "--generations", 1, 1000
        )
        predictive = _positive(
            d["predictive"] if predictive is None else predictive, "--predictive", 0, 10**6
        )
        recovery = _positive(d["recovery"] if recovery is None else recovery, "--recovery", 0, 1000)
        seeds = d["seeds"] if seeds is None else seeds
        settings = _settings(
            scenario,
            seeds,
            quarters,
            T.needed_quarters(doc.targets),
            participants,
            set_,
            T.needed_outputs(doc.targets),
        )
        clash = sorted({x.name for x in dims} & set(settings.fixed))
        if clash:
            raise InputError(
                "both calibrated and fixed", key=f"--set {clash[0]}", allowed="calibrate it or fix it"
            )
        priors = PR.build(dims, doc.priors, given, str(targets_file))
        plan = smc.Plan(tuple(doc.targets), tuple(priors), settings, seeds, population, generations, budget)
        version = code_version()
        if save_scenario is not None:
            O.check_out_file(save_scenario, "--save-scenario", force=force or _written_by(save_scenario, out))
        _check_abc_out(out, plan, version, force)
    command = ["crypto401k", "calibrate", str(targets_file), "--method", "abc", "--out", str(out)]
    command += [
        f"--params={p.name}={p.low:g}:{p.high:g}" if p.name in given else f"--params={p.name}" for p in priors
    ]
    command += ["--budget", str(budget), "--population", str(population), "--generations", str(generations)]
    command += ["--seeds", str(seeds), "--scenario", scenario, "--quarters", str(settings.quarters)]
    if participants is not None:
        command += ["--participants", str(participants)]
    for k, v in settings.fixed.items():
        command += ["--set", f"{k}={v}"]
    command += ["--predictive", str(predictive), "--seed", str(seed)]
    if recovery:
        command += ["--recovery", str(recovery)]
    if prior_check:
        command.append("--prior-check")
    header = [
        "Posterior medians of a Bayesian calibration (ABC-SMC; docs/guide/calibration.md). Produced by:",
        "  " + shlex.join(command),
        "The posterior itself (every particle and its weight) is posterior.parquet in that --out folder;",
        "report.md there says which parameters the targets identify.",
        "",
    ]
    text = _scenario_writer(
        scenario,
        header,
        name,
        f"Baseline with the posterior medians of a calibration to {targets_file.name}.",
    )
    kept = (
        f"finished generations are kept in {out / 'abc.db'} (and the checks' in their subfolders);"
        " run the same command again to resume"
    )
    with interruptible(kept), user_errors():
        results = _run_abc(
            plan,
            out,
            workers,
            dask,
            version,
            targets_file,
            shlex.join(command),
            predictive,
            recovery,
            prior_check,
            seed,
            text,
        )
        if save_scenario is not None:
            medians = {
                r["parameter"]: float(r["posterior_median"]) for _, r in results.identification.iterrows()
            }
            from experiments.tuning import writers as W

            W.write_scenario(save_scenario, text(medians, save_scenario))
    _print_abc(results, out, save_scenario)


def _run_abc(
    plan, out, workers, dask, version, targets_file, command, predictive, recovery, prior_check, seed, text
):
    import re

    from cli.console import err_console
    from experiments.inference import calibration as CAL
    from experiments.inference import samplers

    with err_console.status("calibrating (abc): starting the workers") as status:
        state = {"generation": "", "what": ""}

        def refresh() -> None:
            done = (
                f"{engine.counter.done:,} simulations in this call" if engine and engine.counter.done else ""
            )
            status.update("calibrating (abc): " + ", ".join(x for x in (*state.values(), done) if x))

        def show(message: str) -> None:
            m = re.match(r"t: (\d+), eps: ([0-9.e+-]+)", message)
            if m:
                state["generation"] = f"generation {m[1]} (temperature {float(m[2]):.3g})"
                state["what"] = ""
            elif message.startswith("Accepted:"):
                state["what"] = message.split(",")[0].replace("Accepted:", "accepted")
            elif message.startswith("Calibration sample"):
                state["generation"], state["what"] = "prior sample", "setting the first temperature"
            elif message.startswith(("predictive", "recovery", "prior check")):
                state["generation"], state["what"] = message, ""
            else:
                return
            refresh()

        with samplers.engine(workers, dask) as engine:
            status.update(f"calibrating (abc) on {engine.name}")
            engine.counter.add = _counting(engine.counter, refresh)
            return CAL.run(
                plan,
                out,
                engine,
                code_version=version,
                targets_file=targets_file,
                command=command,
                checks=CAL.Checks(predictive, recovery, prior_check, seed),
                scenario_text=text,
                on_event=show,
            )


def _counting(counter, refresh):
    """The counter's add, also refreshing the status line (at most a few times a second)."""
    import time

    last = [0.0]

    def add(*_) -> None:
        counter.done += 1
        now = time.monotonic()
        if now - last[0] > 0.25:
            last[0] = now
            refresh()

    return add


def _print_abc(results, out: Path, save_scenario: Path | None) -> None:
    ident = results.identification
    o = results.outcome
    t = _table(
        f"Posterior after {o.generations} generations, {o.simulations:,} simulations (temperature {o.temperature:.3g})",
        ident.assign(
            prior=[
                f"{a:.4g} [{b:.4g}, {c:.4g}]"
                for a, b, c in zip(ident["prior_median"], ident["prior_q05"], ident["prior_q95"], strict=True)
            ],
            posterior=[
                f"{a:.4g} [{b:.4g}, {c:.4g}]"
                for a, b, c in zip(
                    ident["posterior_median"], ident["posterior_q05"], ident["posterior_q95"], strict=True
                )
            ],
        )[["parameter", "prior", "posterior", "contraction", "verdict"]],
    )
    console.print(t)
    say(f"stopped: {o.reason}")
    if not o.exact:
        note(
            f"final temperature {o.temperature:.3g} > 1: a tempered posterior, wider than the data warrant"
            " (the identification verdicts are provisional); raise --budget or --generations and run"
            " the same command to go on"
        )
    if results.predictive is not None:
        check = results.predictive
        outside = check.loc[~check["inside"], "target"].tolist()
        say(
            f"predictive check: observed inside the 90% predictive band for {int(check['inside'].sum())} of"
            f" {len(check)} targets" + (f" (outside: {', '.join(outside)})" if outside else "")
        )
    if results.coverage is not None:
        row = results.coverage.iloc[-1]
        say(
            f"recovery: {int(row['inside'])} of {int(row['intervals'])} true values inside their 90% intervals"
            f" (coverage {row['coverage']:.2f} [{row['coverage_lo']:.2f}, {row['coverage_hi']:.2f}],"
            f" {'consistent' if row['consistent'] else 'NOT consistent'} with 0.90)"
        )
    wrote = [
        out / "report.md",
        out / "posterior.parquet",
        out / "identification.csv",
        out / "calibrated.toml",
    ]
    if save_scenario is not None:
        wrote.append(save_scenario)
    say("wrote " + ", ".join(str(p) for p in wrote))

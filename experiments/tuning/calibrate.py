"""Calibration by the method of simulated moments, minimised with optuna.

Loss of a parameter set = sum_k w_k e_k^2 / sum_k w_k, where e_k is target k's error in
tolerances: (simulated - observed) / tolerance, zero inside a one-sided bound, and
targets.MISSING_ERROR when the statistic is undefined (see targets.py). Each simulated
statistic is averaged over the replicate seeds first (the same seeds for every trial).

The optuna study lives in a journal file in the output folder (`study.journal`), and every
model run in the batch store there (`runs/`), so a stopped calibration resumes: finished
trials are kept, a trial cut off mid-way is marked failed and its parameters are tried first
again (with --batch-size 1 its finished runs are read from the store, not re-run), and
`--trials N` means N
completed trials in total, counting earlier calls.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from experiments.tuning.runs import RunSettings, run_points
from experiments.tuning.space import Dimension
from experiments.tuning.targets import Target, loss, statistics
from model.errors import InputError

STUDY_NAME = "calibration"
JOURNAL = "study.journal"
# A point's statistics by target name, or None when its runs failed.
Evaluator = Callable[[list[dict[str, Any]]], list[dict[str, float] | None]]


def model_evaluator(
    targets: list[Target],
    settings: RunSettings,
    store: Path,
    *,
    workers: int | None = 1,
    dask_address: str | None = None,
    progress: bool = False,
) -> Evaluator:
    """Runs the real model for each point at every seed through the batch runner."""

    def evaluate(points: list[dict[str, Any]]) -> list[dict[str, float] | None]:
        # One store folder per batch of points, named by their content: the batch runner scans
        # its whole folder on every call, so one ever-growing folder would make each trial slower;
        # a retried cut-off trial has the same points, hence the same folder, and reuses its runs.
        key = hashlib.sha256(json.dumps(points, sort_keys=True).encode()).hexdigest()[:16]
        per_point, failures = run_points(
            points,
            settings,
            store / key,
            prefix="cal",
            workers=workers,
            dask_address=dask_address,
            progress=progress,
        )
        n_seeds = len(settings.seeds)
        return [statistics(targets, tables) if len(tables) == n_seeds else None for tables in per_point]

    return evaluate


def distributions(dims: list[Dimension]) -> dict[str, Any]:
    """optuna's search distributions for the dimensions (integers stay integers)."""
    return {
        d.name: IntDistribution(int(d.low), int(d.high)) if d.integer else FloatDistribution(d.low, d.high)
        for d in dims
    }


def fingerprint(targets: list[Target], dims: list[Dimension], settings: RunSettings) -> str:
    """A digest of what the study optimises; a folder's study may only be resumed with the same."""
    doc = {
        "targets": [[t.name, t.statistic.text, t.observed, t.tolerance, t.weight, t.kind] for t in targets],
        "dims": [[d.name, d.low, d.high, d.integer] for d in dims],
        "settings": [
            settings.scenario,
            list(settings.seeds),
            settings.quarters,
            settings.participants,
            sorted(settings.fixed.items()),
        ],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def open_study(out: Path, sampler: optuna.samplers.BaseSampler | None = None) -> optuna.Study:
    """The study stored in `out/study.journal` (created when absent)."""
    out.mkdir(parents=True, exist_ok=True)
    storage = JournalStorage(JournalFileBackend(str(out / JOURNAL)))
    return optuna.create_study(
        study_name=STUDY_NAME, storage=storage, direction="minimize", sampler=sampler, load_if_exists=True
    )


def stored_fingerprint(out: Path) -> str | None:
    """The fingerprint of the study stored in `out` (None: no study there yet)."""
    if not (Path(out) / JOURNAL).is_file():
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return open_study(Path(out)).user_attrs.get("fingerprint")


def completed(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's completed trials."""
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def calibrate(
    targets: list[Target],
    dims: list[Dimension],
    settings: RunSettings,
    out: Path,
    trials: int,
    *,
    evaluate: Evaluator | None = None,
    batch_size: int = 1,
    workers: int | None = 1,
    dask_address: str | None = None,
    seed: int = 0,
    progress: bool = False,
    on_trial: Callable[[optuna.trial.FrozenTrial], None] | None = None,
) -> optuna.Study:
    """Run (or resume) the calibration in `out` until it holds `trials` completed trials.

    batch_size trials are proposed at once and their runs executed as one batch (so the
    runner can use several workers or a Dask cluster); TPE (seeded with seed + trials already
    in the study) proposes them. Raises InputError if `out` holds a study of other targets,
    parameters or run settings.
    """
    if trials < 1:
        raise InputError(f"{trials} trials", key="--trials", allowed="an integer of at least 1")
    if batch_size < 1:
        raise InputError(f"{batch_size}", key="--batch-size", allowed="an integer of at least 1")
    if not dims:
        raise InputError("nothing to calibrate", key="--params", allowed="one or more parameter names")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", source=str(out), key="--out")
    digest = fingerprint(targets, dims, settings)
    study = open_study(out)
    stored = study.user_attrs.get("fingerprint")
    if stored is None:
        study.set_user_attr("fingerprint", digest)
        study.set_user_attr("parameters", [d.name for d in dims])
    elif stored != digest:
        raise InputError(
            "holds a calibration of other targets, parameters or run settings;"
            " use a new --out (or the same arguments to resume)",
            source=str(out),
            key="--out",
        )
    # A trial cut off by a stop: mark it failed, and propose its parameters again first.
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)
        if set(t.params) == {d.name for d in dims}:
            study.enqueue_trial(dict(t.params), user_attrs={"retry_of": t.number})
    sampler = optuna.samplers.TPESampler(
        seed=seed + len(study.trials),
        multivariate=True,
        constant_liar=batch_size > 1,
        n_startup_trials=max(5, min(10, trials // 4)),
    )
    study = open_study(out, sampler)
    if evaluate is None:
        evaluate = model_evaluator(
            targets, settings, out / "runs", workers=workers, dask_address=dask_address, progress=progress
        )
    space = distributions(dims)
    failed_here = 0
    while (done := len(completed(study))) < trials:
        asked = [study.ask(space) for _ in range(min(batch_size, trials - done))]
        results = evaluate([dict(t.params) for t in asked])
        for trial, stats in zip(asked, results, strict=True):
            if stats is None:
                trial.set_user_attr("error", "model runs failed (see runs/ catalogue)")
                frozen = study.tell(trial, state=TrialState.FAIL)
                failed_here += 1
            else:
                value, errors = loss(targets, stats)
                trial.set_user_attr("simulated", stats)
                trial.set_user_attr("errors", errors)
                frozen = study.tell(trial, value)
            if on_trial:
                on_trial(frozen)
        if failed_here > max(3, trials):
            raise InputError(
                f"{failed_here} trials failed (model runs raised); see the catalogue in the runs/ folder",
                source=str(out),
            )
    return study


def fit_table(targets: list[Target], trial: optuna.trial.FrozenTrial):
    """Per target: statistic, observed, simulated (best trial), error in tolerances, weight, source."""
    import pandas as pd

    sim = trial.user_attrs.get("simulated", {})
    err = trial.user_attrs.get("errors", {})
    return pd.DataFrame(
        [
            {
                "target": t.name,
                "statistic": t.statistic.text,
                "kind": t.kind,
                "observed": t.observed,
                "simulated": sim.get(t.name, math.nan),
                "tolerance": t.tolerance,
                "error_tolerances": err.get(t.name, math.nan),
                "weight": t.weight,
                "source": t.source,
            }
            for t in targets
        ]
    )

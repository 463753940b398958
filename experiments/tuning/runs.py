"""Model runs for sensitivity and calibration, through the batch runner and its store.

Every parameter point is run once per replicate seed (the same seeds at every point: common
random numbers, so differences between points are not seed noise). A run's id is a hash of
everything that determines it, the content of the scenario's files included (model/inputs.py),
so a run already in the store (from an interrupted or earlier call) is never repeated, a run
of an edited scenario file is a new run, and resuming needs no bookkeeping of its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.batch.runner import run_batch
from experiments.batch.spec import RunSpec
from experiments.batch.store import load_results
from model import scenarios


@dataclass(frozen=True)
class RunSettings:
    """What every run of a sensitivity analysis or calibration shares.

    scenario: shipped scenario name or TOML path the points are applied to;
    seeds: replicate seeds (each point is run once per seed and statistics averaged);
    quarters: quarters simulated after quarter 0; participants: participant agents;
    fixed: parameter overrides applied at every point (e.g. n_employers);
    outputs: the output columns kept in the store;
    loaded: the scenario as read, with its files' content (default: read when the settings
        are made).
    """

    scenario: str
    seeds: tuple[int, ...]
    quarters: int
    participants: int | None
    outputs: tuple[str, ...]
    fixed: dict[str, Any] = field(default_factory=dict)
    loaded: scenarios.Scenario | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.loaded is None:
            object.__setattr__(self, "loaded", scenarios.load(self.scenario))


def run_id(prefix: str, settings: RunSettings, params: dict[str, Any], seed: int) -> str:
    """A content id: the same settings, parameters and seed always give the same id."""
    key = json.dumps(
        {
            "scenario": settings.scenario,
            "params": params,
            "seed": seed,
            "quarters": settings.quarters,
            "participants": settings.participants,
            "outputs": list(settings.outputs),
            "inputs": settings.loaded.digest,  # type: ignore[union-attr]
        },
        sort_keys=True,
    )
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def plan(points: list[dict[str, Any]], settings: RunSettings, prefix: str) -> list[list[RunSpec]]:
    """One RunSpec per point and seed (outer list: points; inner: seeds)."""
    out = []
    for pt in points:
        params = {**settings.fixed, **pt}
        out.append(
            [
                RunSpec(
                    run_id(prefix, settings, params, s),
                    settings.scenario,
                    params,
                    s,
                    settings.quarters,
                    settings.participants,
                    settings.outputs,
                    loaded=settings.loaded,
                )
                for s in settings.seeds
            ]
        )
    return out


def run_points(
    points: list[dict[str, Any]],
    settings: RunSettings,
    store: Path,
    *,
    prefix: str,
    workers: int | None = 1,
    dask_address: str | None = None,
    progress: bool = False,
) -> tuple[list[list[pd.DataFrame]], list[tuple[str, str]]]:
    """Run every point at every seed (skipping runs already stored); their quarters tables.

    Returns, per point, the tables of the seeds that completed, and the batch failures as
    (run_id, error). Runs go through experiments.batch.runner.run_batch into the store folder.
    """
    specs = plan(points, settings, prefix)
    flat = list({s.run_id: s for group in specs for s in group}.values())  # equal points run once
    summary = run_batch(flat, store, workers=workers, dask_address=dask_address, progress=progress)
    ids = ", ".join(f"'{s.run_id}'" for s in flat)  # ids are hex hashes: safe to quote
    rows = load_results(store, sql=f"SELECT * FROM runs WHERE run_id IN ({ids}) ORDER BY run_id, quarter")
    tables = {rid: t.reset_index(drop=True) for rid, t in rows.groupby("run_id", sort=False)}
    per_point = [[tables[s.run_id] for s in group if s.run_id in tables] for group in specs]
    return per_point, summary.failures

"""Comparisons for the page: the running settings (A), and optionally other settings (B), on the
same seeds, run in the worker processes (viz/workers.py).

With one seed, the charts overlay B's run on A's; with more, each arm is drawn as its median and
its 5-95% band over the seeds. Because the arms share their seeds (and every run its exogenous
market path), B - A is also read seed by seed: the paired difference's median and 5-95% range
tell an effect from seed noise. Every run's quarters table is kept, for the per-seed export.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from viz import sharing, workers
from viz.settings import Settings

BAND = (5.0, 95.0)  # percentiles of the fan band
SEED_CHOICES = (1, 5, 10, 20, 50)


@dataclass(frozen=True)
class Arm:
    """One side of a comparison: 'A' (the page's run) or 'B'."""

    key: str
    settings: Settings


@dataclass(eq=False)  # compared by identity: a finished copy must count as a change for the page
class Comparison:
    """Arms x seeds (seeds settings.seed .. settings.seed + n - 1 of arm A), and their runs."""

    arms: tuple[Arm, ...]
    n: int
    job: workers.Job | None = None
    tables: dict[tuple[str, int], pd.DataFrame] = field(default_factory=dict)

    @classmethod
    def of(cls, a: Settings, n: int, b: Settings | None = None) -> Comparison:
        arms = (Arm("A", a),) + ((Arm("B", replace(b, seed=a.seed)),) if b is not None else ())
        return cls(arms, n)

    @property
    def seeds(self) -> range:
        s = self.arms[0].settings.seed
        return range(s, s + self.n)

    @property
    def compared(self) -> bool:
        """Whether there is a B to compare with."""
        return len(self.arms) > 1

    def arm(self, key: str) -> Arm:
        return next(a for a in self.arms if a.key == key)

    def submit(self, owner: str) -> Comparison:
        """Send every (arm, seed) run to the workers (returns at once)."""
        runs = []
        for arm in self.arms:
            s = arm.settings
            for seed in self.seeds:
                runs.append(((arm.key, seed), (s.scenario, seed, s.horizon, s.model_kwargs())))
        self.job = workers.submit(owner, runs)
        return self

    def collect(self) -> Comparison:
        """A copy holding the job's results (a new object, so the page sees the change)."""
        out = Comparison(self.arms, self.n, self.job, dict(self.job.results) if self.job else {})
        return out

    @property
    def finished(self) -> bool:
        return len(self.tables) == len(self.arms) * self.n

    def describe(self) -> str:
        """What is compared, in a line: 'A: these settings; B: flow_multiplier = 7.25'."""
        a = self.arms[0].settings
        seeds = (
            f"seed {self.seeds.start}"
            if self.n == 1
            else f"{self.n} seeds ({self.seeds.start}-{self.seeds.stop - 1})"
        )
        if not self.compared:
            return f"{seeds} of this run's settings"
        changes = a.differences(self.arms[1].settings)
        return f"{seeds}, A: this run's settings; B: {'; '.join(changes) or 'the same settings'}"

    def series(self, key: str, name: str, scale: float = 1.0) -> np.ndarray | None:
        """Output `name` of arm `key`, one row per seed, divided by `scale`; None if not reported."""
        rows = [self.tables[(key, seed)] for seed in self.seeds if (key, seed) in self.tables]
        if not rows or name not in rows[0].columns:
            return None
        return np.array([r[name].to_numpy(float) for r in rows]) / scale

    def band(self, key: str, name: str, scale: float = 1.0) -> tuple[list, list, list] | None:
        """(5th percentile, median, 95th percentile) of output `name` per quarter in arm `key`."""
        a = self.series(key, name, scale)
        if a is None:
            return None
        lo, med, hi = np.nanpercentile(a, [BAND[0], 50.0, BAND[1]], axis=0)
        return lo.tolist(), med.tolist(), hi.tolist()

    def paired(self, name: str, quarter: int) -> tuple[float, float, float] | None:
        """B - A at `quarter`, seed by seed: (5th percentile, median, 95th percentile); None
        without a B or without the output."""
        if not self.compared:
            return None
        a, b = self.series("A", name), self.series("B", name)
        if a is None or b is None:
            return None
        d = b[:, quarter] - a[:, quarter]
        lo, med, hi = np.nanpercentile(d, [BAND[0], 50.0, BAND[1]])
        return float(lo), float(med), float(hi)

    def csv(self) -> str:
        """Every run's quarters table, one after the other: columns arm and seed, then the
        columns of quarters.csv, then the command that computes that run."""
        frames = []
        for arm in self.arms:
            for seed in self.seeds:
                table = self.tables.get((arm.key, seed))
                if table is None:
                    continue
                frame = table.copy()
                frame.insert(0, "seed", seed)
                frame.insert(0, "arm", arm.key)
                frame["command"] = sharing.command(replace(arm.settings, seed=seed))
                frames.append(frame)
        buffer = io.StringIO()
        pd.concat(frames, ignore_index=True).to_csv(buffer, index=False)
        return buffer.getvalue()

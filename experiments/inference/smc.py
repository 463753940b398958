"""The ABC-SMC run: pyabc's ABCSMC with the targets' error model, in a folder's SQLite history.

A calibration folder holds `abc.db` (pyabc's history: every finished generation's particles,
weights, statistics and temperature) and `calibration.json` (what the run calibrates: its
fingerprint, settings and priors). The same call on the same folder resumes: pyabc's
`ABCSMC.load` reads the history and the run goes on from the next generation, so a generation
that finished is never redone; one cut off is sampled again.

Schedule. Generation 0 samples the prior; each later one proposes from the previous generation
(pyabc's multivariate normal transition) and accepts a particle with probability
exp(log kernel / T) (StochasticAcceptor, distance.TargetKernel). The temperature T falls from
generation to generation (pyabc's Temperature: the lower of an acceptance-rate and an
exponential-decay proposal) and is 1 in the last one, where the posterior is exact under the
error model. The run stops at temperature 1, after `generations`, or at the budget: a generation
starts only while the simulations so far plus as many as the last generation took fit in
`budget` (generation 0 and the prior sample that sets its temperature always run; a generation
costs more than its predecessor only when its acceptance rate falls). A run stopped above
temperature 1 leaves a tempered (wider) posterior and says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyabc

from experiments.inference.distance import TargetKernel, observed
from experiments.inference.posterior import HISTORY, open_history, populations
from experiments.inference.priors import Prior, as_records, distribution
from experiments.inference.simulator import Simulator
from experiments.single_run import atomic_write
from experiments.tuning.runs import RunSettings
from experiments.tuning.targets import Target
from model.errors import InputError

STATE = "calibration.json"


@dataclass(frozen=True)
class Plan:
    """What an ABC calibration runs.

    targets, priors: what is fitted and the priors of the calibrated parameters;
    settings: scenario, quarters, participants, kept outputs and fixed overrides of every run;
    seeds_per_particle: model runs per particle (their statistics averaged);
    population: accepted particles per generation; generations: the most generations;
    budget: the most simulations (model runs x seeds are counted as particles, not runs).
    """

    targets: tuple[Target, ...]
    priors: tuple[Prior, ...]
    settings: RunSettings
    seeds_per_particle: int = 1
    population: int = 500
    generations: int = 12
    budget: int = 30_000

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.priors)

    def simulator(self, stream: str = "abc") -> Simulator:
        return Simulator(self.targets, self.settings, self.seeds_per_particle, stream, self.names)

    def describe(self) -> dict[str, Any]:
        """What determines the posterior (the stopping rules aside), as plain values."""
        s = self.settings
        return {
            "targets": [
                {
                    "name": t.name,
                    "statistic": t.statistic.text,
                    "observed": t.observed,
                    "tolerance": t.tolerance,
                    "weight": t.weight,
                    "kind": t.kind,
                }
                for t in self.targets
            ],
            "priors": as_records(list(self.priors)),
            "scenario": s.scenario,
            "quarters": s.quarters,
            "participants": s.participants,
            "fixed": dict(sorted(s.fixed.items())),
            "outputs": list(s.outputs),
            "seeds_per_particle": self.seeds_per_particle,
        }


def fingerprint(plan: Plan, code_version: str) -> str:
    """A digest of what the posterior depends on; a folder's history resumes only with the same.
    Population, generations and budget are left out: they may change between calls."""
    doc = {**plan.describe(), "code_version": code_version}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def read_state(out: Path) -> dict | None:
    """The folder's calibration.json (None: no ABC calibration there yet)."""
    path = Path(out) / STATE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def check_folder(out: Path, plan: Plan, code_version: str) -> str:
    """'new' or 'resume' for a folder, or InputError when it holds another calibration."""
    state = read_state(out)
    if state is None or not (Path(out) / HISTORY).is_file():
        return "new"
    if state.get("fingerprint") == fingerprint(plan, code_version):
        return "resume"
    if state.get("code_version") not in (None, code_version) and state.get("plan") == _plain(plan.describe()):
        raise InputError(
            f"holds a calibration made with model code {state.get('code_version')}, not this"
            f" checkout's {code_version}; its particles would mix two models",
            source=str(out),
            key="--out",
            allowed="a new folder, or --force to start over there",
        )
    raise InputError(
        "holds a calibration of other targets, priors or run settings;"
        " use a new --out (or the same arguments to resume)",
        source=str(out),
        key="--out",
        allowed="a new folder, the same arguments, or --force to start over there",
    )


def _plain(doc: dict) -> dict:
    return json.loads(json.dumps(doc, default=str))


class _Temperature(pyabc.Temperature):
    """pyabc's Temperature counting generations from the start of the calibration, not of this
    call, and remembering the temperatures of a resumed history (so it never rises again)."""

    def __init__(self, generations: int, done: dict[int, float]):
        super().__init__(enforce_exact_final_temperature=True)
        self.generations = generations
        self.temperatures = dict(done)

    def initialize(self, t, get_weighted_distances, get_all_records, max_nr_populations, acceptor_config):
        super().initialize(t, get_weighted_distances, get_all_records, self.generations, acceptor_config)


class _Events(logging.Handler):
    """pyabc's progress log lines, passed on to a callback instead of the terminal."""

    def __init__(self, callback: Callable[[str], None] | None):
        super().__init__(logging.INFO)
        self.callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        if self.callback is not None:
            # a progress display must never stop the calibration
            with contextlib.suppress(Exception):
                self.callback(record.getMessage())


@dataclass
class Outcome:
    """How a call ended: generations in the history, simulations, final temperature, why it stopped."""

    generations: int
    simulations: int
    temperature: float
    reason: str
    new_generations: int = 0
    populations: list[dict] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.temperature <= 1.0 + 1e-12


def _stop_reason(plan: Plan, rows: list[dict], simulations: int) -> str | None:
    """Why the run is finished (None: it is not)."""
    if rows and rows[-1]["temperature"] <= 1.0 + 1e-12:
        return "temperature 1 reached: the posterior is exact under the error model"
    if simulations >= plan.budget:
        return f"budget of {plan.budget:,} simulations reached"
    if len(rows) >= plan.generations:
        return f"{plan.generations} generations done"
    return None


def quiet_pyabc(callback: Callable[[str], None] | None = None) -> None:
    """Route pyabc's log lines to `callback` (and keep them off the terminal)."""
    log = logging.getLogger("ABC")
    log.handlers[:] = [_Events(callback)]
    log.setLevel(logging.INFO)
    log.propagate = False


def run(
    plan: Plan,
    out: Path,
    engine,
    *,
    code_version: str,
    meta: dict[str, Any] | None = None,
    on_event: Callable[[str], None] | None = None,
    simulator: Callable[[Any], dict[str, float]] | None = None,
) -> Outcome:
    """Run (or resume) the calibration in `out` until it stops; returns how it ended.

    engine: an experiments.inference.samplers.Engine; code_version: the model code fingerprint
    (a history made with other code is refused); meta: stored in calibration.json;
    simulator: what a particle runs (default: the model, `plan.simulator()`; tests pass a
    stand-in with a known posterior).
    """
    out = Path(out)
    mode = check_folder(out, plan, code_version)
    out.mkdir(parents=True, exist_ok=True)
    quiet_pyabc(on_event)
    db = out / HISTORY
    url = f"sqlite:///{db}"
    done: dict[int, float] = {}
    history = None
    if mode == "resume":
        history = open_history(out)
        if history.max_t < 0:  # stopped before its first generation: nothing worth keeping
            history = None
        else:
            done = {r["generation"]: r["temperature"] for r in populations(history)}
    if history is None:
        db.unlink(missing_ok=True)
    state = {
        "fingerprint": fingerprint(plan, code_version),
        "code_version": code_version,
        "plan": _plain(plan.describe()),
        **(meta or {}),
    }
    atomic_write(out / STATE, lambda p: p.write_text(json.dumps(state, indent=2, default=str) + "\n"))
    abc = pyabc.ABCSMC(
        simulator or plan.simulator(),
        distribution(list(plan.priors)),
        TargetKernel(list(plan.targets)),
        population_size=plan.population,
        sampler=engine.sampler,
        eps=_Temperature(plan.generations, done),
        acceptor=pyabc.StochasticAcceptor(),
    )
    if history is None:
        history = abc.new(url, observed(list(plan.targets)), meta_info={"fingerprint": state["fingerprint"]})
    else:
        history = abc.load(url, 1)
    before = len(populations(history))
    # One generation per call of pyabc's run, so that a call and a resumed call go the same way
    # (each starts from the history), and the budget is checked before a generation starts.
    while True:
        rows = populations(history)
        total = int(history.total_nr_simulations)
        reason = _stop_reason(plan, rows, total)
        if reason is None and rows and total + rows[-1]["simulations"] > plan.budget:
            reason = (
                f"budget of {plan.budget:,} simulations: the next generation (about"
                f" {rows[-1]['simulations']:,}, as many as the last) would exceed it"
            )
        if reason is not None:
            break
        abc.run(minimum_epsilon=1.0, max_nr_populations=1, max_total_nr_simulations=plan.budget)
        history = abc.history
    return Outcome(
        generations=len(rows),
        simulations=total,
        temperature=rows[-1]["temperature"] if rows else math.inf,
        reason=reason,
        new_generations=len(rows) - before,
        populations=rows,
    )

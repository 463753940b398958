"""One planned model run (`RunSpec`) and how its seed follows from names, never from order.

A run's seed is a pure function of the experiment name and a seed key (by default the
replicate number), so results do not depend on worker count, completion order or engine.
Python's `hash()` is salted per process and is never used.

A RunSpec carries what it runs, not where to find it: the validated scenario with the content
of every file it was built from (model/inputs.py), read once when the spec is made. Its input
files' digests are part of the run's identity (`as_record`: `inputs_digest`, `inputs_json`),
so a run of an edited file is another run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from model import inputs as I
from model import scenarios
from model.inputs import InputFile


@dataclass(frozen=True)
class RunSpec:
    """A single run: scenario, parameter overrides, seed, length, size and kept outputs.

    run_id: unique within a batch store (free text; file names never derive from it directly).
    scenario: a shipped scenario name or a scenario TOML path.
    params: declared-parameter overrides applied on top of the scenario.
    seed: the model seed (an int below 2**63).
    quarters: quarters simulated after quarter 0.
    participants: participant agents (None: the scenario's / declared default).
    outputs: output columns kept (None: all); `quarter` and `date` are always kept.
    loaded: the validated scenario with its input files' content (default: `scenario` loaded
        when the spec is made, on the client); workers run this, never the file.
    inputs: run-level input files consumed where the runs are planned (e.g. a posterior table
        the parameters were drawn from): recorded and part of the identity, not shipped with
        their content.
    drawn: the parameters in `params` drawn from a calibration's posterior (one particle; the
        posterior table is named in `inputs`); empty for a run at the given point.
    """

    run_id: str
    scenario: str
    params: dict = field(default_factory=dict)
    seed: int = 0
    quarters: int = 40
    participants: int | None = None
    outputs: tuple[str, ...] | None = None
    loaded: scenarios.Scenario | None = field(default=None, repr=False)
    inputs: tuple[InputFile, ...] = ()
    drawn: tuple[str, ...] = ()

    @property
    def draw(self) -> str:
        """How the parameters were chosen: "point" (the declared defaults and the experiment's
        design) or "posterior" (one particle of a calibration's posterior)."""
        return "posterior" if self.drawn else "point"

    def __post_init__(self) -> None:
        if self.loaded is None:  # read the files now, where they are (InputError if they are not)
            object.__setattr__(self, "loaded", scenarios.load(self.scenario))

    @property
    def all_inputs(self) -> tuple[InputFile, ...]:
        """Every input file of the run: its scenario's, then the run-level ones."""
        return (*self.loaded.inputs, *self.inputs)  # type: ignore[union-attr]

    def overrides(self) -> dict[str, Any]:
        """The parameter overrides the model is built with (`participants` included)."""
        out = dict(self.params)
        if self.participants is not None:
            out["n_participants"] = self.participants
        return out

    def as_record(self) -> dict[str, Any]:
        """The run's settings as plain values (stored in the catalogue; compared on resume)."""
        return {
            "run_id": self.run_id,
            "scenario": self.scenario,
            "params_json": json.dumps(self.params, sort_keys=True),
            "seed": int(self.seed),
            "quarters": int(self.quarters),
            "participants": None if self.participants is None else int(self.participants),
            "outputs_json": json.dumps(list(self.outputs) if self.outputs is not None else None),
            "inputs_digest": I.combined_digest(self.all_inputs),
            "inputs_json": json.dumps([f.ref() for f in self.all_inputs]),
            "drawn_json": json.dumps(list(self.drawn)),
        }

    def to_plain(self) -> dict[str, Any]:
        """The spec as plain values (no project classes): what a Dask task carries.

        The scenario's files travel with their content; run-level inputs as references.
        """
        return {
            "run_id": self.run_id,
            "scenario": self.scenario,
            "params": dict(self.params),
            "seed": int(self.seed),
            "quarters": int(self.quarters),
            "participants": self.participants,
            "outputs": self.outputs,
            "loaded": self.loaded.to_plain(),  # type: ignore[union-attr]
            "inputs": [f.ref() for f in self.inputs],
            "drawn": list(self.drawn),
        }

    @classmethod
    def from_plain(cls, plain: dict[str, Any]) -> RunSpec:
        """The spec `to_plain` described (on a worker: no file is read)."""
        return cls(
            **{k: v for k, v in plain.items() if k not in ("loaded", "inputs", "drawn")},
            loaded=scenarios.Scenario.from_plain(plain["loaded"]),
            inputs=tuple(InputFile.from_plain(f) for f in plain["inputs"]),
            drawn=tuple(plain.get("drawn", ())),
        )

    def for_worker(self) -> RunSpec:
        """The spec as a worker gets it: run-level inputs without their content."""
        if all(f.content is None for f in self.inputs):
            return self
        return replace(self, inputs=tuple(f.without_content() for f in self.inputs))


def derive_seed(*parts: str | int) -> int:
    """A 63-bit seed from names (e.g. experiment name and replicate), stable across machines.

    The parts are hashed with SHA-256 and fed to numpy's SeedSequence, which spreads the
    entropy over the seed's bits.
    """
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    entropy = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4)]
    hi, lo = np.random.SeedSequence(entropy).generate_state(2, dtype=np.uint32)
    return int((int(hi) << 32 | int(lo)) & (2**63 - 1))


def run_key(run_id: str) -> str:
    """A short, path-safe key of a run id (hex), used for file names instead of the id."""
    return hashlib.sha256(run_id.encode("utf-8")).hexdigest()[:20]

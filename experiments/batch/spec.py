"""One planned model run (`RunSpec`) and how its seed follows from names, never from order.

A run's seed is a pure function of the experiment name and a seed key (by default the
replicate number), so results do not depend on worker count, completion order or engine.
Python's `hash()` is salted per process and is never used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np


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
    """

    run_id: str
    scenario: str
    params: dict = field(default_factory=dict)
    seed: int = 0
    quarters: int = 40
    participants: int | None = None
    outputs: tuple[str, ...] | None = None

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
        }


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

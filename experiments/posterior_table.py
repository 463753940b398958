"""The posterior table: the plain file a Bayesian calibration exports and the rest of the project reads.

This module is the contract. It imports neither pyabc nor experiments.inference, so experiment
files, reports and discovery can read a posterior without them.

`posterior.parquet` holds one row per particle of the calibration's final generation:

| column | type | meaning |
|---|---|---|
| `particle` | int | 0..n-1, the particle's row |
| `weight` | float | its importance weight; weights are >= 0 and sum to 1 |
| one column per calibrated parameter, named as in model/parameters.py | float | the particle's value, in the declared unit |

and, in the Parquet schema's key-value metadata under `crypto401k.posterior`, a JSON document:

- `format`: "crypto401k-posterior/1";
- `parameters`: the calibrated parameter names (the table's value columns, in order);
- `priors`: per parameter {name, low, high, source}: a uniform prior on [low, high] and where
  that range comes from (the declaration, --params, or the target file's reason);
- `targets_file`, `targets_digest` (SHA-256 of the target file's bytes), `targets`: the targets;
- `code_version`: the model code fingerprint the simulations ran with
  (experiments.batch.runner.code_version);
- `run`: scenario, quarters, participants, fixed overrides, seeds per particle;
- `simulations`: model evaluations (particles tried) in total;
- `generations`: per generation {generation, temperature, particles, simulations,
  acceptance_rate}: the acceptance threshold of an ABC-SMC with a stochastic acceptor is its
  temperature (1 = the exact posterior under the targets' error model);
- `final_temperature`, `exact` (final temperature is 1), `stopped` (why the run ended),
  `effective_sample_size` (Kish: 1 / sum of squared weights);
- `created`, `command`, `pyabc` (the version that produced it).

A posterior-driven experiment draws particles by weight (`draw`) and runs each at its own seed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import inputs
from model.errors import InputError

FORMAT = "crypto401k-posterior/1"
METADATA_KEY = b"crypto401k.posterior"
FILE = "posterior.parquet"


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of normalised importance weights: 1 / sum w^2."""
    w = np.asarray(weights, float)
    w = w / w.sum()
    return float(1.0 / np.sum(w**2))


def write(path: Path, table: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Write the table with its metadata (atomically: a reader never sees half a file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from experiments.single_run import atomic_write

    check(table, meta, str(path))
    arrow = pa.Table.from_pandas(table.reset_index(drop=True), preserve_index=False)
    doc = {"format": FORMAT, **meta}
    arrow = arrow.replace_schema_metadata(
        {**(arrow.schema.metadata or {}), METADATA_KEY: json.dumps(doc, default=str).encode()}
    )
    atomic_write(Path(path), lambda p: pq.write_table(arrow, p))


def read(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table and its metadata, checked (InputError naming the file when it is not one)."""
    path = Path(path)
    if path.is_dir():
        path = path / FILE
    if not path.is_file():
        raise InputError("posterior table not found", source=str(path), allowed=f"a calibration's {FILE}")
    return read_bytes(path.read_bytes(), str(path))


def read_bytes(content: bytes, name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table and its metadata from a posterior.parquet's bytes (`name` in messages), checked."""
    import io

    import pyarrow.parquet as pq

    try:
        arrow = pq.read_table(io.BytesIO(content))
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise InputError(f"cannot read as Parquet ({exc})", source=name, allowed=f"a {FILE}") from None
    raw = (arrow.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise InputError("is not a posterior table (no crypto401k.posterior metadata)", source=name)
    meta = json.loads(raw)
    if meta.get("format") != FORMAT:
        raise InputError(f"posterior format {meta.get('format')!r}", source=name, allowed=FORMAT)
    table = arrow.to_pandas()
    check(table, meta, name)
    return table, meta


def check(table: pd.DataFrame, meta: dict[str, Any], src: str) -> None:
    """The table's columns and weights agree with the contract (InputError otherwise)."""
    names = list(meta.get("parameters", []))
    expected = ["particle", "weight", *names]
    if list(table.columns) != expected:
        raise InputError(f"columns {list(table.columns)}", source=src, allowed=", ".join(expected))
    w = table["weight"].to_numpy(float)
    if len(w) == 0 or not np.isfinite(w).all() or (w < 0).any() or abs(w.sum() - 1) > 1e-6:
        raise InputError("weights must be >= 0 and sum to 1", source=src, key="weight")
    for prior in meta.get("priors", []):
        v = table[prior["name"]].to_numpy(float)
        if not ((v >= prior["low"] - 1e-12) & (v <= prior["high"] + 1e-12)).all():
            raise InputError("values outside the prior range", source=src, key=prior["name"])


def draw(table: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """`n` particles drawn with replacement in proportion to their weights (seeded), as rows."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(table), size=n, replace=True, p=table["weight"].to_numpy(float))
    return table.iloc[idx].reset_index(drop=True)


def parameters(table: pd.DataFrame, meta: dict[str, Any]) -> list[str]:
    """The calibrated parameter columns."""
    return list(meta["parameters"])


# A posterior table is an input of the runs drawn from it (model/inputs.py): its digest is part
# of their identity and the store records it; experiments read it where the runs are planned.
inputs.register(inputs.Role("posterior", "a calibration's posterior table (posterior.parquet)"))

"""The posterior: the only reader of pyabc's history; it exports the plain posterior table.

Everything else in the project reads the exported `posterior.parquet`
(experiments/posterior_table.py), never the history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc

from experiments import posterior_table
from model.errors import InputError

HISTORY = "abc.db"


def open_history(out: Path):
    """The pyabc history in a calibration folder (InputError when there is none)."""
    db = Path(out) / HISTORY
    if not db.is_file():
        raise InputError("holds no ABC calibration (abc.db)", source=str(out))
    history = pyabc.History(f"sqlite:///{db}")
    history.id = 1
    return history


def populations(history) -> list[dict]:
    """Per finished generation: t, temperature, accepted particles, simulations, acceptance rate."""
    table = history.get_all_populations()
    rows = []
    for _, r in table[table["t"] >= 0].iterrows():
        rows.append(
            {
                "generation": int(r["t"]),
                "temperature": float(r["epsilon"]),
                "particles": int(r["particles"]),
                "simulations": int(r["samples"]),
                "acceptance_rate": float(r["particles"]) / max(int(r["samples"]), 1),
            }
        )
    return rows


def particles(history, names: list[str]) -> pd.DataFrame:
    """The final generation as the posterior table's rows: particle, weight, parameters."""
    frame, weights = history.get_distribution(m=0)
    w = np.asarray(weights, float)
    out = pd.DataFrame({"particle": np.arange(len(frame)), "weight": w / w.sum()})
    for name in names:
        out[name] = frame[name].to_numpy(float)
    return out


def statistics(history) -> pd.DataFrame:
    """The final generation's simulated statistics, one row per particle, with its weight (these
    were accepted: they lean towards the observed values, unlike the predictive check's)."""
    weights, stats = history.get_weighted_sum_stats()
    rows = pd.DataFrame([{k: float(np.asarray(v)) for k, v in s.items()} for s in stats])
    rows.insert(0, "weight", np.asarray(weights, float))
    return rows


def export(out: Path, names: list[str], meta: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Write OUT/posterior.parquet from the folder's history; returns the table and its metadata.

    meta: what the history does not know (targets file and digest, code version, priors, run
    settings, command); the generations, simulations, temperature and effective sample size
    are read here.
    """
    history = open_history(out)
    rows = populations(history)
    table = particles(history, names)
    final = rows[-1]["temperature"] if rows else float("inf")
    doc = {
        **meta,
        "parameters": list(names),
        "simulations": int(history.total_nr_simulations),
        "generations": rows,
        "final_temperature": final,
        "exact": bool(final <= 1.0 + 1e-12),
        "effective_sample_size": posterior_table.effective_sample_size(table["weight"].to_numpy()),
        "pyabc": pyabc.__version__,
    }
    posterior_table.write(Path(out) / posterior_table.FILE, table, doc)
    return table, doc

"""Files written by `sensitivity` and `calibrate`: tables (CSV), plots (PNG), the calibrated scenario.

Every file is written to a temporary name and renamed (experiments.single_run.atomic_write), so
an output folder never holds a half-written file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import optuna
import pandas as pd

from experiments.single_run import atomic_write
from model import parameters as P
from model import scenarios
from model.errors import InputError


def write_csv(path: Path, table: pd.DataFrame) -> None:
    """A table as CSV, atomically."""
    atomic_write(path, lambda p: table.to_csv(p, index=False))


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """A JSON document, atomically."""
    atomic_write(path, lambda p: p.write_text(json.dumps(doc, indent=2, default=str) + "\n"))


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


# --- sensitivity
def plot_morris(indices: pd.DataFrame, outcome: str, path: Path) -> None:
    """mu* (with its 95% interval) against sigma, the top 10 labelled; and ranked mu* bars."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 5.2))
    ax.errorbar(
        indices["mu_star"],
        indices["sigma"],
        xerr=indices["mu_star_conf"],
        fmt="o",
        color="#1f77b4",
        ecolor="#9ecae1",
        capsize=2,
    )
    for _, r in indices.head(10).iterrows():  # label the top 10; the rest crowd near the origin
        ax.annotate(
            r["parameter"], (r["mu_star"], r["sigma"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
        )
    lim = max(float(indices["mu_star"].max()), float(indices["sigma"].max()), 1e-12) * 1.1
    ax.plot([0, lim], [0, lim], ls=":", color="grey", lw=0.8, label="sigma = mu*")
    ax.set_xlabel("mu* (mean |elementary effect|, outcome units)")
    ax.set_ylabel("sigma (spread of effects: interaction, non-linearity)")
    ax.set_title(f"Morris screening: {outcome}")
    ax.legend(fontsize=8)
    t = indices.iloc[::-1]
    bx.barh(t["parameter"], t["mu_star"], xerr=t["mu_star_conf"], color="#1f77b4", ecolor="grey")
    bx.set_xlabel("mu* with 95% interval")
    bx.set_title("ranking")
    bx.tick_params(axis="y", labelsize=8)
    _save(fig, path)


def plot_sobol(indices: pd.DataFrame, outcome: str, path: Path) -> None:
    """S1 and ST bars with their 95% intervals, one pair per parameter."""
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(indices) + 2), 4.8))
    x = np.arange(len(indices))
    ax.bar(
        x - 0.2,
        indices["S1"],
        0.4,
        yerr=indices["S1_conf"],
        label="S1 (alone)",
        color="#1f77b4",
        ecolor="grey",
        capsize=2,
    )
    ax.bar(
        x + 0.2,
        indices["ST"],
        0.4,
        yerr=indices["ST_conf"],
        label="ST (with interactions)",
        color="#ff7f0e",
        ecolor="grey",
        capsize=2,
    )
    ax.set_xticks(x, indices["parameter"], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("share of outcome variance")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_title(f"Sobol indices: {outcome}")
    ax.legend(fontsize=8)
    _save(fig, path)


# --- calibration
def trials_table(study: optuna.Study) -> pd.DataFrame:
    """Every trial: number, state, loss, parameters (one column each)."""
    rows = []
    for t in study.trials:
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name,
                "loss": t.value,
                **{f"param_{k}": v for k, v in t.params.items()},
            }
        )
    return pd.DataFrame(rows)


def plot_loss_history(study: optuna.Study, path: Path) -> None:
    """Loss of each completed trial and the best so far (log scale)."""
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    if done:
        n = [t.number for t in done]
        v = np.array([t.value for t in done], float)
        ax.scatter(n, v, s=12, color="#9ecae1", label="trial")
        ax.step(n, np.minimum.accumulate(v), where="post", color="#d62728", label="best so far")
        if (v > 0).all():
            ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.set_ylabel("loss (weighted mean squared error, tolerances^2)")
    ax.set_title("Calibration loss history")
    ax.legend(fontsize=8)
    _save(fig, path)


def importances(study: optuna.Study) -> pd.DataFrame:
    """PED-ANOVA importance of each calibrated parameter for the loss: how much the parameter's
    distribution in the best trials differs from the rest (shares summing to 1; empty if too few
    trials). PED-ANOVA needs no extra dependency (optuna's fANOVA needs scikit-learn)."""
    try:
        imp = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.PedAnovaImportanceEvaluator()
        )
    except (RuntimeError, ValueError, ImportError):
        return pd.DataFrame(columns=["parameter", "importance"])
    return pd.DataFrame({"parameter": list(imp), "importance": list(imp.values())})


def plot_importance(table: pd.DataFrame, path: Path) -> None:
    """Horizontal bars of parameter importance (shares summing to 1)."""
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.45 * len(table) + 1.2)))
    if len(table):
        t = table.iloc[::-1]
        ax.barh(t["parameter"], t["importance"], color="#2ca02c")
    else:
        ax.text(0.5, 0.5, "too few completed trials", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("importance for the loss (PED-ANOVA share)")
    ax.set_title("Parameter importance")
    _save(fig, path)


def _toml_value(name: str, value: Any) -> str:
    p = P.get(name)
    if p.type is int:
        return str(int(value))
    if p.type is bool:
        return "true" if value else "false"
    v = float(value)
    return repr(float(f"{v:.4g}")) if v != 0 and math.isfinite(v) else repr(v)


def scenario_text(
    params: dict[str, Any], *, name: str, extends: str, header: list[str], description: str
) -> str:
    """A scenario TOML document that extends `extends` with `params` (4 significant digits)."""
    lines = [f"# {h}" if h else "#" for h in header]
    lines += [
        "[scenario]",
        f"name = {json.dumps(name)}",
        f"description = {json.dumps(description)}",
        f"extends = {json.dumps(extends)}",
        "",
        "[parameters]",
    ]
    for k in sorted(params):
        lines.append(f"{k} = {_toml_value(k, params[k])}")
    return "\n".join(lines) + "\n"


def write_scenario(path: Path, text: str) -> None:
    """Write a scenario file after checking that it loads (an unusable file is never left behind)."""
    tmp = path.parent / f".check-{path.name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.write_text(text)
        scenarios.load(tmp)
    except InputError as exc:
        raise InputError(f"the calibrated scenario does not load: {exc}", source=str(path)) from None
    finally:
        tmp.unlink(missing_ok=True)
    atomic_write(path, lambda p: p.write_text(text))

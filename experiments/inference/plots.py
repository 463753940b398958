"""Figures of a Bayesian calibration (PNG, written atomically): the posterior's KDE pair plot,
prior against posterior per parameter, the predictive check and the temperature schedule."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from experiments.inference.diagnostics import IDENTIFIED
from experiments.inference.priors import Prior
from experiments.single_run import atomic_write


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=100, format="png", bbox_inches="tight"))
    plt.close(fig)


def pairs(table: pd.DataFrame, priors: list[Prior], path: Path) -> None:
    """pyabc's KDE matrix of the weighted particles: marginals on the diagonal, pairs off it;
    axes span each prior's range."""
    from pyabc.visualization import plot_kde_matrix

    names = [p.name for p in priors]
    limits = {p.name: (p.low, p.high) for p in priors}
    axes = plot_kde_matrix(
        table[names], table["weight"].to_numpy(float), limits=limits, height=1.9, numx=40, numy=40
    )
    fig = np.asarray(axes).flat[0].figure
    fig.suptitle("Posterior (weighted KDE) over the prior ranges", y=1.02)
    _save(fig, path)


def marginals(table: pd.DataFrame, ident: pd.DataFrame, priors: list[Prior], path: Path) -> None:
    """Per parameter: the weighted posterior histogram over the uniform prior, with the 90% intervals."""
    n = len(priors)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.7 * rows), squeeze=False)
    w = table["weight"].to_numpy(float)
    by = ident.set_index("parameter")
    for ax, p in zip(axes.flat, priors, strict=False):
        x = table[p.name].to_numpy(float)
        ax.hist(x, bins=30, range=(p.low, p.high), weights=w, density=True, color="#1f77b4", alpha=0.7)
        ax.hlines(1 / p.width, p.low, p.high, color="grey", ls="--", lw=1, label="prior")
        r = by.loc[p.name]
        ax.axvspan(r["posterior_q05"], r["posterior_q95"], color="#1f77b4", alpha=0.12, label="90% posterior")
        ax.axvline(r["posterior_median"], color="#d62728", lw=1)
        flag = "" if r["contraction"] >= IDENTIFIED else " (not identified)"
        ax.set_title(f"{p.name}{flag}\ncontraction {r['contraction']:.2f}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    _save(fig, path)


def predictive(check: pd.DataFrame, path: Path) -> None:
    """Each target's observed value against its 90% predictive band (scaled to the band's width)."""
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(check) + 1.4))
    for i, r in enumerate(check.itertuples()):
        lo, hi = r.band_q05, r.band_q95
        width = max(hi - lo, 1e-12)
        if np.isfinite(lo):
            ax.plot([0, 1], [i, i], color="#9ecae1", lw=6, solid_capstyle="butt")
            ax.plot([(r.simulated_median - lo) / width], [i], "|", color="#1f77b4", ms=12)
            ax.plot(
                [(r.observed - lo) / width],
                [i],
                "o" if r.inside else "x",
                color="#d62728" if not r.inside else "black",
            )
    ax.set_yticks(
        range(len(check)),
        [f"{t} ({k})" for t, k in zip(check["target"], check["kind"], strict=True)],
        fontsize=7,
    )
    ax.axvline(0, color="grey", lw=0.5)
    ax.axvline(1, color="grey", lw=0.5)
    ax.set_xlabel(
        "position in the 90% predictive band (0 = 5% quantile, 1 = 95%); o observed inside, x outside"
    )
    ax.set_title("Posterior predictive check", fontsize=9)
    _save(fig, path)


def schedule(populations: list[dict], path: Path) -> None:
    """Temperature and acceptance rate per generation."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    g = [r["generation"] for r in populations]
    ax.semilogy(g, [r["temperature"] for r in populations], "o-", color="#d62728", label="temperature")
    ax.axhline(1, color="grey", ls=":", lw=0.8)
    ax.set_xlabel("generation")
    ax.set_ylabel("temperature (1 = exact posterior)")
    bx = ax.twinx()
    bx.plot(g, [r["acceptance_rate"] for r in populations], "s--", color="#1f77b4", label="acceptance rate")
    bx.set_ylabel("acceptance rate")
    ax.set_title("ABC-SMC schedule", fontsize=9)
    _save(fig, path)

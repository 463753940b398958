"""The targets' error model as pyabc's acceptance kernel: the same objective as the optuna fit.

Each target k says the observed value is the simulated statistic plus a normal error whose
standard deviation is its tolerance / sqrt(weight): its error e_k = (simulated - observed) /
tolerance counts one standard deviation per tolerance. A one-sided target ("upper": at most
observed, "lower": at least) has no error inside its bound, and the normal error outside it. A
statistic the run leaves undefined costs targets.MISSING_ERROR tolerances. So

    log kernel = -0.5 * sum_k w_k e_k^2 = -0.5 * (sum_k w_k) * loss,

with `loss` the optuna fit's objective (experiments.tuning.targets.loss). With pyabc's
StochasticAcceptor the accepted particles are then draws from the exact posterior under this
error model once the temperature reaches 1 (Wilkinson 2013); at a higher temperature the
kernel is flattened (log kernel / T) and the posterior is wider than the data warrant.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pyabc
from pyabc.distance import SCALE_LOG

from experiments.tuning.targets import Target, loss


def log_kernel(targets: list[Target], simulated: dict[str, float]) -> float:
    """-0.5 * sum_k w_k e_k^2: the log density of the error model, up to a constant (max 0)."""
    value, _ = loss(targets, simulated)
    return -0.5 * sum(t.weight for t in targets) * value


def observed(targets: list[Target]) -> dict[str, float]:
    """The observed statistics as pyabc's x_0."""
    return {t.name: float(t.observed) for t in targets}


class TargetKernel(pyabc.StochasticKernel):
    """pyabc's stochastic kernel of the targets' error model (log scale, maximum 0).

    The observed values are read from pyabc's x_0 at each call, so a history resumed from its
    database compares with what it was started with.
    """

    def __init__(self, targets: list[Target]):
        super().__init__(ret_scale=SCALE_LOG, keys=[t.name for t in targets], pdf_max=0.0)
        self.targets = list(targets)

    def __call__(self, x: dict, x_0: dict, t: int | None = None, par: dict | None = None) -> float:
        targets = [replace(tg, observed=float(x_0.get(tg.name, tg.observed))) for tg in self.targets]
        value = log_kernel(targets, {k: _number(v) for k, v in x.items()})
        return value if math.isfinite(value) else -math.inf

    def get_config(self) -> dict:
        return {"name": type(self).__name__, "targets": [t.name for t in self.targets]}


def _number(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan

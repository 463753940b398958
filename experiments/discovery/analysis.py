"""Scenario discovery over a batch store: PRIM boxes and feature scores (EMA Workbench).

For an outcome (experiments/discovery/outcome.py) every completed run is one case: its sampled
parameters are the inputs, "the outcome holds" the 0/1 output. PRIM (Friedman & Fisher 1999, as
used for scenario discovery by Bryant & Lempert 2010) peels the parameter space into a box where
the outcome is frequent. Terms, as in EMA Workbench:

* coverage: share of all runs where the outcome holds that fall inside the box;
* density: share of the runs inside the box where the outcome holds;
* mass: share of all runs inside the box;
* quasi-p value of a restriction: one-sided binomial test that the density with that
  restriction lifted is as high as with it (small: the restriction matters);
* reproducibility: share of PRIM runs on random halves of the data whose box at the same
  coverage (density) also restricts the parameter.

The box is chosen by a stated rule, so every restriction reported matters (Bryant & Lempert's
advice to drop restrictions that are not significant): take the densest box on PRIM's peeling
trajectory with coverage at least `min_coverage` and lift its restrictions with quasi-p >= 0.05
one at a time, least significant first (`drop_insignificant`); among all boxes so made and on the
trajectory, report the densest one with coverage at least `min_coverage` whose restrictions are
all significant (`choose_box`). Feature scores are extra-trees importances (Jaxa-Rozen & Kwakkel 2018) of the parameters for
the same 0/1 output. Everything is seeded, so the same store gives the same report.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.batch import store
from experiments.discovery.outcome import Evaluation, Outcome, columns_needed, describe_outcome, evaluate
from model.errors import InputError

SIGNIFICANCE = 0.05
SCENARIO_COLUMN = "scenario_name"  # EMA Workbench drops a column named "scenario"


def _ema():
    """EMA Workbench's PRIM and feature scoring, imported quietly and drawing off-screen."""
    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optional-backend notices (ipyparallel) at import
        from ema_workbench.analysis import feature_scoring, prim
        from ema_workbench.analysis.scenario_discovery_util import RuleInductionType
    return prim, feature_scoring, RuleInductionType


@dataclass
class StoreCases:
    """The completed runs of a store as cases: parameters per run and the per-quarter rows."""

    root: Path
    x: pd.DataFrame  # index run_id; one column per varied parameter (and scenario_name if several)
    columns: list[str]  # the store's `runs` columns
    con_rows: Callable[[list[str]], pd.DataFrame]  # run_id, quarter and those columns of every run
    scenarios: list[str]
    code_versions: list[str]
    participants: list[int]
    quarters: list[int]
    failed: int
    fixed: dict = field(default_factory=dict)  # parameters equal in every run


def load_cases(root: str | Path, scenario: str | None = None) -> StoreCases:
    """The store's completed runs (optionally one scenario's) as PRIM cases.

    Raises InputError if the folder is not a store, holds no completed run, the scenario is
    not in it, or no parameter varies between its runs.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(
            "no such folder", source=str(root), key="STORE", allowed="a folder written by `crypto401k batch`"
        )
    con = store.connect(root)
    try:
        cat = con.execute(
            "SELECT run_id, scenario, status, params_json, code_version, participants, quarters FROM catalogue"
        ).df()
        columns = [r[0] for r in con.execute("DESCRIBE runs").fetchall()]
    finally:
        con.close()
    ok = cat[cat["status"] == "ok"]
    failed = int((cat["status"] == "failed").sum())
    if ok.empty:
        raise InputError(
            "the store holds no completed run",
            source=str(root),
            allowed="a folder written by `crypto401k batch`",
        )
    names = sorted(ok["scenario"].unique())
    if scenario is not None:
        if scenario not in names:
            raise InputError(f"no runs of scenario '{scenario}'", key="--scenario", allowed=", ".join(names))
        ok = ok[ok["scenario"] == scenario]
        names = [scenario]
    params = pd.DataFrame(
        [json.loads(p) for p in ok["params_json"]], index=pd.Index(ok["run_id"], name="run_id")
    )
    params = params.drop(columns=[c for c in ("n_participants",) if c in params])
    varied = [c for c in params.columns if params[c].nunique(dropna=False) > 1]
    fixed = {c: params[c].iloc[0] for c in params.columns if c not in varied}
    x = params[varied].copy()
    for c in varied:
        if x[c].isna().any():
            raise InputError(
                f"parameter '{c}' is set in some runs only: the store mixes experiments",
                source=str(root),
                allowed="a store written by one experiment file (or --scenario to pick one)",
            )
        if pd.api.types.is_bool_dtype(x[c]) or x[c].map(type).eq(bool).all():
            x[c] = x[c].astype(bool).map({True: "true", False: "false"})
    if len(names) > 1:
        x[SCENARIO_COLUMN] = ok.set_index("run_id")["scenario"].reindex(x.index)
    if x.shape[1] == 0:
        raise InputError(
            "no parameter varies between the runs: scenario discovery needs sampled or gridded parameters",
            source=str(root),
            allowed="a store written by an experiment with [sample] or [grid]",
        )
    ids = sorted(x.index)

    def rows(cols: list[str]) -> pd.DataFrame:
        con = store.connect(root)
        try:
            select = ", ".join(f'"{c}"' for c in cols)  # names checked against DESCRIBE runs
            frame = con.execute(f"SELECT run_id, quarter, {select} FROM runs ORDER BY run_id, quarter").df()
        finally:
            con.close()
        return frame[frame["run_id"].isin(set(ids))]

    return StoreCases(
        root=root,
        x=x.loc[ids],
        columns=columns,
        con_rows=rows,
        scenarios=names,
        code_versions=sorted(ok["code_version"].dropna().unique()),
        participants=sorted({int(p) for p in ok["participants"].dropna()}),
        quarters=sorted({int(q) for q in ok["quarters"]}),
        failed=failed,
        fixed=fixed,
    )


@dataclass
class Finding:
    """What scenario discovery found for one outcome."""

    outcome: Outcome
    meaning: str  # the outcome in words, with the columns used
    evaluation: Evaluation
    n_runs: int
    n_true: int
    trajectory: pd.DataFrame | None = None  # id, coverage, density, mass, res_dim, n, k
    chosen: int | None = None
    rule: str = ""
    box: pd.DataFrame | None = None  # per restricted parameter: low, high, range_low, range_high, qp_*
    scores: pd.Series | None = None  # extra-trees feature scores, highest first
    prim_box: object = None  # EMA Workbench PrimBox (for its figures)
    notes: list[str] = field(default_factory=list)

    @property
    def base_rate(self) -> float:
        return self.n_true / self.n_runs if self.n_runs else float("nan")

    @property
    def stats(self) -> pd.Series | None:
        if self.trajectory is None or self.chosen is None:
            return None
        return self.trajectory.loc[self.chosen]


def _significant(qp: dict) -> bool:
    """Whether every restriction's quasi-p values (-1: that side is not restricted) are below 0.05."""
    return all(v < SIGNIFICANCE for pair in qp.values() for v in pair if v is not None and v >= 0)


def choose_box(trajectory: pd.DataFrame, min_coverage: float, eligible: list[bool] | None = None) -> int:
    """The trajectory index of the densest eligible box with coverage >= min_coverage (ties: higher coverage).

    The first box (no restriction, coverage 1) always qualifies, so there is always an answer.
    """
    cov, dens = trajectory["coverage"].to_numpy(), trajectory["density"].to_numpy()
    ok = eligible if eligible is not None else [True] * len(trajectory)
    pool = [i for i in range(len(trajectory)) if cov[i] >= min_coverage - 1e-12 and (ok[i] or i == 0)]
    return max(pool, key=lambda i: (round(dens[i], 12), cov[i]))


def drop_insignificant(prim_box, i: int) -> tuple[int, list[str]]:
    """Lift, one at a time, the restriction with the highest quasi-p >= 0.05 until all are significant.

    Each lift adds the wider box to the trajectory (EMA Workbench `drop_restriction`), so coverage
    can only grow. Returns the final box's trajectory index and the parameters freed, in order.
    """
    dropped = []
    while True:
        qp = prim_box.p_values[i]
        worst = {name: max(v for v in pair if v is not None) for name, pair in qp.items()}
        worst = {name: v for name, v in worst.items() if v >= SIGNIFICANCE}
        if not worst:
            return i, dropped
        name = max(worst, key=lambda n: (worst[n], n))
        prim_box.drop_restriction(uncertainty=name, i=i)
        i = len(prim_box.peeling_trajectory) - 1
        dropped.append(name)


def _box_table(prim_box, i: int, x: pd.DataFrame, resampled: pd.DataFrame | None) -> pd.DataFrame:
    lims, init = prim_box.box_lims[i], prim_box.box_lims[0]
    qp = prim_box.p_values[i]
    rows = []
    for name in x.columns:
        lo, hi = lims[name].iloc[0], lims[name].iloc[1]
        lo0, hi0 = init[name].iloc[0], init[name].iloc[1]
        if isinstance(lo, (set, frozenset)) or isinstance(lo0, (set, frozenset)):
            restricted = set(lo) != set(lo0)
            lo, hi, lo0, hi0 = ", ".join(sorted(map(str, lo))), "", ", ".join(sorted(map(str, lo0))), ""
        else:
            restricted = bool(lo > lo0 or hi < hi0)
        if not restricted:
            continue
        ql, qh = qp.get(name, [-1, -1])
        row = {
            "parameter": name,
            "low": lo,
            "high": hi,
            "range_low": lo0,
            "range_high": hi0,
            "qp_low": ql if ql is not None and ql >= 0 else np.nan,
            "qp_high": qh if qh is not None and qh >= 0 else np.nan,
        }
        if resampled is not None:
            row["reproduce_coverage_pct"] = resampled["reproduce coverage"].get(name, 0.0)
            row["reproduce_density_pct"] = resampled["reproduce density"].get(name, 0.0)
        rows.append(row)
    return pd.DataFrame(rows)


def discover(
    cases: StoreCases,
    outcome: Outcome,
    *,
    min_coverage: float = 0.5,
    box: int | None = None,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    resamples: int = 10,
    seed: int = 0,
) -> Finding:
    """PRIM box, its restrictions and significance, and feature scores for one outcome.

    box: a trajectory index to report instead of the rule's choice. An outcome that holds in
    every run or in none gives a Finding without a box (PRIM has nothing to separate).
    """
    needed = columns_needed(outcome, cases.columns)
    rows = cases.con_rows(needed)
    ev = evaluate(outcome, rows)
    y_series = ev.holds.reindex(cases.x.index)
    finding = Finding(
        outcome=outcome,
        meaning=describe_outcome(outcome, cases.columns),
        evaluation=ev,
        n_runs=len(y_series),
        n_true=int(y_series.sum()),
    )
    if finding.n_true in (0, finding.n_runs):
        which = "none" if finding.n_true == 0 else "every one"
        finding.notes.append(
            f"The outcome holds in {which} of the {finding.n_runs} runs: no region of the sampled"
            " parameter space separates runs where it holds from runs where it does not."
        )
        return finding
    prim, feature_scoring, rit = _ema()
    x = cases.x.reset_index(drop=True)
    # integer parameters as real numbers: EMA Workbench's pasting writes fractional limits into
    # integer columns, which pandas 3 refuses; a limit such as 2.5 on an integer reads "3 and up"
    numeric = [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c])]
    x[numeric] = x[numeric].astype(float)
    y = y_series.to_numpy(dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMA Workbench's pandas deprecation notices
        p = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min)
        pbox = p.find_box()
    traj = pbox.peeling_trajectory[["id", "coverage", "density", "mass", "res_dim", "n", "k"]].copy()
    traj = traj.astype({"id": int, "res_dim": int, "n": int, "k": int})
    peeled = len(traj)
    if box is not None:
        if not 0 <= box < peeled:
            raise InputError(
                f"box {box} is not on the peeling trajectory",
                key="--box",
                allowed=f"an integer from 0 to {peeled - 1}",
            )
        chosen, rule = box, f"trajectory point {box}, chosen with --box"
    else:
        candidate = choose_box(traj, min_coverage)
        _, dropped = drop_insignificant(pbox, candidate)
        traj = pbox.peeling_trajectory[["id", "coverage", "density", "mass", "res_dim", "n", "k"]].copy()
        traj = traj.astype({"id": int, "res_dim": int, "n": int, "k": int})
        chosen = choose_box(traj, min_coverage, eligible=[_significant(q) for q in pbox.p_values])
        rule = (
            f"rule: start from PRIM's densest box with coverage >= {min_coverage:.0%} (point {candidate})"
            + (
                f", lift its restrictions with quasi-p >= {SIGNIFICANCE} one by one, least significant"
                f" first ({', '.join(dropped)}),"
                if dropped
                else ","
            )
            + f" and report the densest box with coverage >= {min_coverage:.0%} whose restrictions"
            f" all have quasi-p < {SIGNIFICANCE}"
        )
    traj["stage"] = ["peeling and pasting" if i < peeled else "restriction lifted" for i in range(len(traj))]
    pbox.select(chosen)
    resampled = None
    if resamples > 0 and traj["res_dim"].iloc[chosen] > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            resampled = pbox.resample(chosen, iterations=resamples, p=0.5, rng=seed)
    # EMA's default max_features is round(d / 3), which is 0 for one or two parameters
    scores, _ = feature_scoring.get_ex_feature_scores(
        x, y, mode=rit.CLASSIFICATION, max_features=max(1, round(x.shape[1] / 3)), random_state=seed
    )
    finding.trajectory = traj
    finding.chosen = chosen
    finding.rule = rule
    finding.box = _box_table(pbox, chosen, x, resampled)
    finding.scores = scores.iloc[:, 0].rename("score")
    finding.scores.index.name = "parameter"
    finding.prim_box = pbox
    if not finding.box.empty and (finding.box[["qp_low", "qp_high"]].min(axis=1) >= SIGNIFICANCE).any():
        finding.notes.append("Some restrictions of the chosen box are not significant (quasi-p >= 0.05).")
    return finding

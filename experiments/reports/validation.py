"""The validation report behind `crypto401k validate`.

Evidence that the model reproduces its inputs and that its outputs have converged.

From fresh runs (only section 9 reads an earlier batch store) it writes `VALIDATION.md` and its plots
(`validation/*.png`) into the output folder:

1. static scenarios against the seed arithmetic (share x $8.7T: $87B at 1%, $435B at 5%);
2. the quarter-0 population against the calibration figures it was built from;
3. convergence in agent count: headline outputs at each population size with 95% confidence
   intervals, and the smallest size whose results stay within the replicate noise of the largest;
4. replicates needed for a given confidence-interval width on cumulative flow, with and without
   common random numbers (CRN) in paired comparisons;
5. the calibration fit table of the declared (calibrated) defaults;
6-8. the validity checks of experiments/reports/validity_checks.py: the Bass reduction, the
   volatility measures against synthetic flows, conservation and bounds;
9. the paired moat result, read from the moat experiment's batch store when one is given.

Sizes, replicates and quarters are fixed in a `Plan` (FULL for the committed report, QUICK for
the smoke test) and stated in the report. Runs are a plain sequential loop over
`experiments.single_run.simulate`; each (scenario, size, seed) is run once and reused.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from agents.participant.population import AGE_BANDS, VANGUARD_MEAN_BALANCE, VANGUARD_MEDIAN_BALANCE
from experiments.reports import validity_checks as checks
from experiments.reports.validity_checks import md_table
from experiments.single_run import atomic_write, simulate, versions
from model import parameters as P
from model import scenarios
from model.errors import InputError
from model.model import Crypto401kModel
from model.plan_sizes import ASSET_SHARE, PARTICIPANT_SHARE, PLAN_SHARE, SEGMENTS


@dataclass(frozen=True)
class Plan:
    """How much work the report does: sizes, replicates, quarters (all stated in the report)."""

    quarters: int = 40
    headline_quarters: tuple[int, ...] = (12, 40)
    sizes: tuple[int, ...] = (10_000, 20_000, 50_000, 100_000, 300_000)
    replicates: tuple[int, ...] = (24, 24, 16, 12, 8)  # per size, seeds 0..R-1
    paired_size: int = 20_000
    paired_replicates: int = 24
    paired_scenario: str = "crash"  # compared with baseline for the CRN section
    static_participants: int = 30_000  # the static arithmetic does not depend on the agent count
    static_replicates: int = 3
    population_participants: int = 300_000
    bass_participants: int = 40_000  # the reduced model's adoption curve
    volatility_paths: int = 40  # exogenous paths for the volatility-measure check
    conservation_participants: int = 5_000
    conservation_seeds: int = 3
    participants_per_employer: int = (
        50  # employers scale with participants, as in the default 100,000 / 2,000
    )
    tolerance: float = 1.5  # a size passes when its mean is within the noise of the largest size's and
    #                         its replicate SD is at most this multiple of the largest size's

    def __post_init__(self):
        if len(self.sizes) != len(self.replicates):
            raise ValueError("one replicate count per size")

    def employers(self, participants: int) -> int:
        """Employer agents for a run of `participants` (the plan keeps the default ratio)."""
        return max(1, participants // self.participants_per_employer)

    @property
    def headline(self) -> tuple[int, ...]:
        """Headline quarters that exist in a run of `quarters` quarters."""
        return tuple(q for q in self.headline_quarters if q <= self.quarters) or (self.quarters,)


FULL = Plan()
QUICK = Plan(
    quarters=6,
    headline_quarters=(3, 6),
    sizes=(1_000, 2_000, 4_000),
    replicates=(3, 3, 3),
    paired_size=2_000,
    paired_replicates=4,
    static_participants=2_000,
    static_replicates=2,
    population_participants=4_000,
    bass_participants=4_000,
    volatility_paths=4,
    conservation_participants=400,
    conservation_seeds=1,
    participants_per_employer=25,
)


B = 1e9
Z95 = 1.959964
# Balance rows of AGE_BANDS that Vanguard publishes; the others are interpolated there.
PUBLISHED_BANDS = {0, 1, 2, 5}
# Quarter-0 political figures (copied, with sources).
HOUSE_PRO_CRYPTO = (
    278 / 435
)  # 278 House members rated pro-crypto after the 2024 election (Stand With Crypto, Jan 2025)
# Senate: the GENIUS Act passed 68-30 (Jun 2025, roll call). The calibration sheet's "20 Senate members
# rated pro-crypto" (Stand With Crypto) contradicts that vote and is not used.
SENATE_PRO_CRYPTO = 68 / 100
GAO_UPPER = 0.01  # crypto "substantially less than 1%" of plans, participants, assets (GAO-25-106161, 2024)
HEADLINE_METRICS = ("adoption_rate", "cumulative_invested_usd", "moat_index")
CI_TARGETS_USD = (5e9, 10e9, 25e9)  # 95% CI half-widths asked of committed money


@dataclass
class Runs:
    """Every run's quarters table, keyed by (scenario, participants, seed); each run happens once."""

    plan: Plan
    log: Callable[[str], None] = print
    tables: dict[tuple[str, int, int], pd.DataFrame] = field(default_factory=dict)
    seconds: dict[int, list[float]] = field(default_factory=dict)

    def get(self, scenario: str, n: int, seed: int) -> pd.DataFrame:
        key = (scenario, n, seed)
        if key not in self.tables:
            overrides: dict[str, Any] = {"n_participants": n}
            overrides["n_employers"] = self.plan.employers(n)
            start = time.perf_counter()
            model, table = simulate(scenario, quarters=self.plan.quarters, seed=seed, overrides=overrides)
            del model
            self.seconds.setdefault(n, []).append(time.perf_counter() - start)
            self.tables[key] = table
        return self.tables[key]

    def values(self, scenario: str, n: int, seeds: range, column: str, quarter: int) -> np.ndarray:
        """`column` at `quarter` for each seed (NaN when the output does not exist)."""
        out = []
        for s in seeds:
            t = self.get(scenario, n, s)
            out.append(float(t[column].iloc[quarter]) if column in t.columns else math.nan)
        return np.array(out)


# --- statistics
def ci_half_width(x: np.ndarray) -> float:
    """95% confidence half-width of the mean of `x` (Student t)."""
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return math.nan
    return float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))


def replicates_for(sd: float, half_width: float) -> int:
    """Replicates whose 95% CI of the mean has at most `half_width` (normal approximation)."""
    if not math.isfinite(sd):
        return 0
    return max(2, math.ceil((Z95 * sd / half_width) ** 2))


# --- formatting
def _usd(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"${x / B:,.1f}B"


def _num(x: float, metric: str) -> str:
    if not math.isfinite(x):
        return "n/a"
    return _usd(x) if metric.endswith("_usd") else f"{x:.4f}"


def _pct(x: float, digits: int = 1) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.{digits}f}%"


def _save(fig, path: Path) -> None:
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, bbox_inches="tight", format="png"))
    plt.close(fig)


# --- 1. static scenarios
def static_section(runs: Runs, figs: dict) -> tuple[str, bool]:
    """The static claims' purchase (share x 401(k) assets at the order) as committed money."""
    plan = runs.plan
    names = [s for s in scenarios.available() if scenarios.load(s).overrides.get("static_allocation", 0) > 0]
    rows, ok = [], True
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in names:
        spec = scenarios.load(name)
        params = spec.parameters()
        share, assets = params["static_allocation"], params["total_401k_assets_usd"]
        claim = share * assets
        tabs = [runs.get(name, plan.static_participants, s) for s in range(plan.static_replicates)]
        first = tabs[0].iloc[1]
        committed = first["invested_usd"] - first["contributions_to_crypto_usd"]
        err = abs(committed - claim) / claim
        passed = err < 1e-6
        ok &= passed
        end = np.array([t["cumulative_invested_usd"].iloc[-1] for t in tabs])
        held = np.array([t["crypto_aum_usd"].iloc[-1] for t in tabs])
        impact = np.array([t["flow_price_impact"].iloc[1] for t in tabs])
        rows.append(
            [
                name,
                _pct(share),
                _usd(claim),
                _usd(committed),
                _pct(err, 4),
                _pct(float(np.median(impact))),
                _usd(float(np.median(end))),
                _usd(float(np.median(held))),
                "pass" if passed else "FAIL",
            ]
        )
        q = tabs[0]["quarter"]
        med = np.median(np.vstack([t["cumulative_invested_usd"] for t in tabs]), axis=0)
        (line,) = ax.plot(q, med / B, label=f"{name}: committed (median of {len(tabs)} seeds)")
        held_med = np.median(np.vstack([t["crypto_aum_usd"] for t in tabs]), axis=0)
        ax.plot(q, held_med / B, color=line.get_color(), ls="--", lw=1)
        ax.axhline(claim / B, color=line.get_color(), ls=":", lw=1)
    ax.set_xlabel("quarter (0 = 2025Q3)")
    ax.set_ylabel("$B")
    ax.set_title(
        "Static claims: money committed (solid), crypto held (dashed), share x $8.7T (dotted)", fontsize=9
    )
    ax.legend(fontsize=7)
    figs["static.png"] = fig
    text = (
        "Every participant buys a fixed share of the balance at the order and contributes that share"
        " thereafter, then holds (`static_allocation`, no behaviour). The purchase is an order executed"
        " over the first quarter's weeks at those weeks' prices, so the money committed to crypto in"
        " quarter 1 beyond that quarter's payroll contributions must equal the share of the $8.7T asset"
        " base (ICI, 31 Mar 2025): $87B at 1%, $435B at 5% (pass: within one in a million). The"
        " purchase moves the price (impact at quarter 1); later committed money grows with contributions"
        " while the crypto held follows the price and retirements. "
        f"{plan.static_participants:,} participants, {plan.quarters} quarters, {plan.static_replicates} seeds.\n\n"
        + md_table(
            [
                "scenario",
                "share",
                "seed arithmetic",
                "committed in quarter 1 (purchase)",
                "error",
                "price impact, quarter 1 (median)",
                f"committed by q{plan.quarters} (median)",
                f"crypto held, q{plan.quarters} (median)",
                "check",
            ],
            rows,
        )
        + "\n![static scenarios](validation/static.png)\n"
    )
    return text, ok


# --- 2. initial population
def population_section(runs: Runs, figs: dict) -> str:
    """The quarter-0 population against the figures it was calibrated to, side by side."""
    plan = runs.plan
    kw: dict[str, Any] = {"n_participants": plan.population_participants}
    kw["n_employers"] = plan.employers(plan.population_participants)
    m = Crypto401kModel("baseline", rng=0, **kw)
    pop, t0 = m.population, m.quarters_table().iloc[0]
    bal = pop.balance
    band_rows, model_mean, model_median, model_def = [], [], [], []
    for i, (lo, hi, share, mean, median, deferral, _salary) in enumerate(AGE_BANDS):
        sel = (pop.age >= lo) & (pop.age < hi)
        mm, md, dd = float(bal[sel].mean()), float(np.median(bal[sel])), float(pop.deferral[sel].mean())
        model_mean.append(mm)
        model_median.append(md)
        model_def.append(dd)
        label = "Vanguard HAS 2025" if i in PUBLISHED_BANDS else "interpolated"
        band_rows.append(
            [
                f"{lo:.0f}-{hi:.0f}",
                _pct(sel.mean()),
                _pct(share, 0),
                f"${mean:,.0f}",
                f"${mm:,.0f}",
                f"${median:,.0f}",
                f"${md:,.0f}",
                label,
                _pct(deferral),
                _pct(dd),
            ]
        )
    band_rows.append(
        [
            "all",
            "100%",
            "100%",
            f"${VANGUARD_MEAN_BALANCE:,.0f}",
            f"${bal.mean():,.0f}",
            f"${VANGUARD_MEDIAN_BALANCE:,.0f}",
            f"${np.median(bal):,.0f}",
            "Vanguard HAS 2025",
            "7.7%",
            _pct(pop.deferral.mean()),
        ]
    )
    segment = np.array([e.segment for e in m.employers])
    seg_of = segment[pop.employer]
    seg_rows = []
    for s, name in enumerate(SEGMENTS):
        seg_rows.append(
            [
                name,
                _pct(PLAN_SHARE[s], 2),
                _pct((segment == s).mean(), 2),
                _pct(PARTICIPANT_SHARE[s]),
                _pct((seg_of == s).mean()),
                _pct(ASSET_SHARE[s]),
                _pct(bal[seg_of == s].sum() / bal.sum()),
            ]
        )
    p = m.params
    totals = [
        [
            "401(k) assets",
            _usd(p["total_401k_assets_usd"]),
            _usd(t0["total_401k_assets_usd"]),
            "ICI, 31 Mar 2025",
        ],
        [
            "participants represented",
            f"{p['us_participants'] / 1e6:.0f}M",
            f"{pop.weight * pop.n / 1e6:.1f}M",
            "ICI, Mar 2026",
        ],
        [
            "plans offering crypto",
            f"< {_pct(GAO_UPPER, 0)}",
            _pct(t0["plans_offering_share"], 2),
            "GAO-25-106161 (2024)",
        ],
        [
            "participants holding crypto",
            f"< {_pct(GAO_UPPER, 0)}",
            _pct(t0["adoption_rate"], 3),
            "GAO-25-106161 (2024)",
        ],
        [
            "crypto share of 401(k) assets",
            f"< {_pct(GAO_UPPER, 0)}",
            _pct(t0["crypto_share_of_401k_assets"], 4),
            "GAO-25-106161 (2024)",
        ],
    ]
    if "pro_crypto_share_house" in t0:
        totals.append(
            [
                "pro-crypto share of the House",
                _pct(HOUSE_PRO_CRYPTO),
                _pct(t0["pro_crypto_share_house"]),
                "Stand With Crypto, Jan 2025 (278 of 435)",
            ]
        )
    else:
        totals.append(
            [
                "pro-crypto share of the House",
                _pct(HOUSE_PRO_CRYPTO),
                "not modelled yet (no politics module)",
                "Stand With Crypto, Jan 2025 (278 of 435)",
            ]
        )
    if "pro_crypto_share_senate" in t0:
        totals.append(
            [
                "pro-crypto share of the Senate",
                _pct(SENATE_PRO_CRYPTO),
                _pct(t0["pro_crypto_share_senate"]),
                "GENIUS Act, Senate 68-30 (Jun 2025), as a proxy for pro-crypto senators",
            ]
        )

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    x = np.arange(len(AGE_BANDS))
    labels = [f"{lo:.0f}-{hi:.0f}" for lo, hi, *_ in AGE_BANDS]
    ax = axes[0]
    ax.bar(x - 0.3, [b[3] / 1e3 for b in AGE_BANDS], 0.2, label="mean, figure", color="tab:blue", alpha=0.5)
    ax.bar(x - 0.1, np.array(model_mean) / 1e3, 0.2, label="mean, model", color="tab:blue")
    ax.bar(
        x + 0.1, [b[4] / 1e3 for b in AGE_BANDS], 0.2, label="median, figure", color="tab:orange", alpha=0.5
    )
    ax.bar(x + 0.3, np.array(model_median) / 1e3, 0.2, label="median, model", color="tab:orange")
    ax.set_xticks(x, labels)
    ax.set_xlabel("age band (45-64 figures interpolated)")
    ax.set_ylabel("balance, $ thousand")
    ax.set_title("Balances by age at quarter 0 (Vanguard HAS 2025)")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(x, [100 * b[5] for b in AGE_BANDS], "o--", label="Vanguard HAS 2025")
    ax.plot(x, 100 * np.array(model_def), "s-", label="model")
    ax.set_xticks(x, labels)
    ax.set_ylabel("deferral rate, % of salary")
    ax.set_title("Deferral rates by age at quarter 0")
    ax.legend(fontsize=8)
    figs["population.png"] = fig
    return (
        f"One baseline model at quarter 0 (2025Q3), {plan.population_participants:,} participants, "
        "seed 0, next to the figures the population is drawn from. Balances are drawn lognormal "
        "with each band's mean and median, multiplied by the plan-size segment's balance factor and "
        "then scaled so all balances add up to $8.7T; the segment factor and the scaling shift the "
        "band figures, so a band may differ from its source by a few to tens of percent while the "
        "total is exact.\n\n"
        + md_table(
            [
                "age band",
                "share, model",
                "share, assumed",
                "mean balance, figure",
                "mean, model",
                "median balance, figure",
                "median, model",
                "balance source",
                "deferral, figure",
                "deferral, model",
            ],
            band_rows,
        )
        + "\nPlan-size segments (PLANSPONSOR Recordkeeping Survey 2025; the mid segment is the "
        "remainder):\n\n"
        + md_table(
            [
                "segment",
                "plans, figure",
                "plans, model",
                "participants, figure",
                "participants, model",
                "assets, figure",
                "assets, model",
            ],
            seg_rows,
        )
        + "\nTotals and precedents at quarter 0:\n\n"
        + md_table(["quantity", "figure", "model", "source"], totals)
        + "\n![population at quarter 0](validation/population.png)\n"
    )


# --- 3. convergence in agent count
def convergence_section(runs: Runs, figs: dict) -> tuple[str, dict]:
    """Headline outputs by population size with CIs; the smallest size within the reference noise."""
    plan = runs.plan
    ref = max(plan.sizes)
    r_ref = plan.replicates[plan.sizes.index(ref)]
    for n, r in zip(plan.sizes, plan.replicates, strict=True):
        runs.log(f"convergence: {r} runs of {n:,} participants")
        for s in range(r):
            runs.get("baseline", n, s)
    metrics = [
        (m, q) for m in HEADLINE_METRICS for q in plan.headline if m in runs.get("baseline", ref, 0).columns
    ]
    rows, dev_rows, passes = [], [], {}
    by_quarter: dict[int, dict[int, bool]] = {q: {} for q in plan.headline}
    for n, r in zip(plan.sizes, plan.replicates, strict=True):
        cells = [f"{n:,}", str(r), f"{np.mean(runs.seconds.get(n, [math.nan])):.1f}"]
        dev_cells = [f"{n:,}"]
        ok_all = True
        for q in plan.headline:
            by_quarter[q][n] = True
        for metric, q in metrics:
            x = runs.values("baseline", n, range(r), metric, q)
            cells.append(f"{_num(x.mean(), metric)} ± {_num(ci_half_width(x), metric)}")
            y = runs.values("baseline", ref, range(r_ref), metric, q)
            noise = Z95 * math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
            gap = abs(x.mean() - y.mean())
            bias = gap / noise if noise > 0 else (0.0 if gap == 0 else math.inf)
            sd_y = y.std(ddof=1)
            spread = x.std(ddof=1) / sd_y if sd_y > 0 else (1.0 if x.std(ddof=1) == 0 else math.inf)
            ok = bias <= 1.0 and spread <= plan.tolerance
            ok_all &= ok
            by_quarter[q][n] &= ok
            dev_cells.append(f"{bias:.2f} / {spread:.2f}")
        passes[n] = ok_all
        dev_cells.append("yes" if ok_all else "no")
        rows.append(cells)
        dev_rows.append(dev_cells)
    smallest = _smallest_passing(plan.sizes, passes)
    smallest_by_quarter = {q: _smallest_passing(plan.sizes, by_quarter[q]) for q in plan.headline}
    default_n = P.PARAMETERS["n_participants"].default
    names = [f"{m} q{q}" for m, q in metrics]

    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 3.4), squeeze=False)
    for ax, (metric, q) in zip(axes[0], metrics, strict=True):
        scale = B if metric.endswith("_usd") else 1.0
        ref_x = runs.values("baseline", ref, range(r_ref), metric, q) / scale
        ax.axhspan(
            ref_x.mean() - ref_x.std(ddof=1),
            ref_x.mean() + ref_x.std(ddof=1),
            color="0.85",
            label=f"{ref:,}: mean ± replicate SD",
        )
        means = [
            runs.values("baseline", n, range(r), metric, q).mean() / scale
            for n, r in zip(plan.sizes, plan.replicates, strict=True)
        ]
        cis = [
            ci_half_width(runs.values("baseline", n, range(r), metric, q)) / scale
            for n, r in zip(plan.sizes, plan.replicates, strict=True)
        ]
        ax.errorbar(plan.sizes, means, yerr=cis, fmt="o-", capsize=3, label="mean, 95% CI")
        ax.set_xscale("log")
        ax.set_xlabel("participant agents")
        ax.set_title(f"{metric} at q{q}" + (" ($B)" if scale == B else ""), fontsize=9)
        if ax is axes[0][0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    figs["convergence.png"] = fig
    verdict = (
        f"**Smallest size whose results stay within the replicate noise of {ref:,}: "
        f"{smallest:,} participants**"
        if smallest
        else f"**No size below {ref:,} stays within its replicate noise**"
    )
    per_quarter = "; ".join(
        f"at quarter {q} alone: {f'{m:,}' if m else 'none below ' + f'{ref:,}'}"
        for q, m in smallest_by_quarter.items()
    )
    # Only a plan whose sizes bracket the default can speak for it.
    justified = smallest is not None and smallest <= default_n <= ref
    text = (
        f"Baseline scenario, {plan.quarters} quarters, seeds 0..R-1 at each size (R below); mean ± "
        "95% confidence half-width (Student t) of the headline outputs over seeds. A seed fixes the "
        "exogenous market path at every size, but not the diffusion path (participants' and "
        "employers' draws depend on the size), so sizes are compared as distributions over seeds. "
        f"The second table gives, per output, the gap between the mean at n and the mean at {ref:,} "
        "divided by the 95% noise of that difference (1.96 x sqrt(SE_n^2 + SE_ref^2); above 1 is a "
        f"detectable bias), then the replicate SD at n divided by the replicate SD at {ref:,} "
        "(agent-sampling noise inflates it). A size stays within the replicate noise of "
        f"{ref:,} when every gap ratio is at most 1 and every SD ratio at most {plan.tolerance}; the "
        "answer is the smallest size from which every larger size passes. With "
        f"{min(plan.replicates)}-{max(plan.replicates)} seeds the test only detects differences of the "
        "order of the confidence half-widths in the first table.\n\n"
        + md_table(["participants", "R", "seconds/run"] + names, rows)
        + "\n"
        + md_table(["participants"] + [f"{n}: gap / noise, SD ratio" for n in names] + ["passes"], dev_rows)
        + f"\n{verdict} ({per_quarter}). The declared default `n_participants` = {default_n:,} is "
        + (
            "justified by this result."
            if justified
            else "not covered by this plan's sizes."
            if default_n > ref
            else "NOT justified by this result: raise it or accept the noise."
        )
        + "\n\n![convergence](validation/convergence.png)\n"
    )
    return text, {
        "smallest": smallest,
        "per_quarter": per_quarter,
        "default": default_n,
        "justified": justified,
    }


def _smallest_passing(sizes: tuple[int, ...], passes: dict[int, bool]) -> int | None:
    """The smallest size from which every larger size passes (None if the largest but one fails)."""
    smallest = None
    for n in sorted(sizes, reverse=True):
        if not passes[n]:
            break
        smallest = n
    return smallest


# --- 4. replicates and common random numbers
def replicates_section(runs: Runs, figs: dict, findings: dict) -> str:
    """Replicates needed for a CI width on cumulative flow, alone and in paired comparisons."""
    plan = runs.plan
    n, r, other = plan.paired_size, plan.paired_replicates, plan.paired_scenario
    runs.log(f"replicates: {r} seeds x (baseline, {other}, no_401k) at {n:,} participants")
    seeds = range(r)
    q = plan.headline[-1]
    base = runs.values("baseline", n, seeds, "cumulative_invested_usd", q)
    alt = runs.values(other, n, seeds, "cumulative_invested_usd", q)
    sd_base, sd_alt = base.std(ddof=1), alt.std(ddof=1)
    sd_crn = (base - alt).std(ddof=1)
    sd_ind = math.sqrt(sd_base**2 + sd_alt**2)  # independent seeds: variances add
    sd_ind_emp = (base - np.roll(alt, 1)).std(ddof=1)  # seed s against seed s-1: an unpaired draw
    p_base = runs.values("baseline", n, seeds, "price_index", q)
    p_cf = runs.values("no_401k", n, seeds, "price_index", q)
    sdp_crn = (p_base - p_cf).std(ddof=1)
    sdp_ind = math.sqrt(p_base.var(ddof=1) + p_cf.var(ddof=1))
    rows = []
    for label, sd in (
        ("baseline alone", sd_base),
        (f"baseline - {other}, independent seeds", sd_ind),
        (f"baseline - {other}, same seeds (CRN)", sd_crn),
    ):
        rows.append([label, _usd(sd)] + [str(replicates_for(sd, w)) for w in CI_TARGETS_USD])
    price_rows = [
        ["baseline - no_401k, independent seeds", f"{sdp_ind:.4f}"]
        + [str(replicates_for(sdp_ind, w)) for w in (0.01, 0.005)],
        ["baseline - no_401k, same seeds (CRN)", f"{sdp_crn:.4f}"]
        + [str(replicates_for(sdp_crn, w)) for w in (0.01, 0.005)],
    ]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    reps = np.arange(2, 201)
    for label, sd in (
        ("baseline alone", sd_base),
        (f"paired vs {other}, independent", sd_ind),
        (f"paired vs {other}, CRN", sd_crn),
    ):
        ax.plot(reps, stats.t.ppf(0.975, reps - 1) * sd / np.sqrt(reps) / B, label=label)
    for w in CI_TARGETS_USD:
        ax.axhline(w / B, color="0.6", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("replicates")
    ax.set_ylabel(f"95% CI half-width, $B (committed money, q{q})")
    ax.set_title("Replicates needed, with and without common random numbers", fontsize=10)
    ax.legend(fontsize=8)
    figs["replicates.png"] = fig
    gain = sd_ind**2 / sd_crn**2 if sd_crn > 0 else math.inf
    gain_p = sdp_ind**2 / sdp_crn**2 if sdp_crn > 0 else math.inf
    findings.update(
        crn_gain_flow=gain,
        crn_gain_price=gain_p,
        sd_flow=sd_base,
        sd_flow_crn=sd_crn,
        replicates_10b=replicates_for(sd_base, 10e9),
        replicates_10b_crn=replicates_for(sd_crn, 10e9),
    )
    return (
        f"Money committed to crypto (`cumulative_invested_usd`) at quarter {q}, {n:,} participants, seeds 0..{r - 1}. The replicate "
        f"standard deviation (SD) of the quantity and the replicates needed for a 95% confidence "
        f"half-width of the mean of {', '.join(_usd(w) for w in CI_TARGETS_USD)} "
        "(R = (1.96 SD / half-width)^2). A paired comparison of two scenarios either runs them with "
        "independent seeds (variances add) or with the same seeds, so both share the exogenous "
        f"market path (common random numbers, CRN). Baseline mean {_usd(base.mean())}, "
        f"{other} mean {_usd(alt.mean())}; mean paired difference {_usd((base - alt).mean())}.\n\n"
        + md_table(["estimate", "SD"] + [f"R for ± {_usd(w)}" for w in CI_TARGETS_USD], rows)
        + f"\nCRN cut the variance of the difference by a factor of {gain:.1f} "
        f"(so {gain:.1f} times fewer replicates for the same width). The empirical SD of unpaired "
        f"differences (seed s against seed s-1) is {_usd(sd_ind_emp)}, close to the "
        f"{_usd(sd_ind)} assumed above.\n\n"
        f"The price effect of the 401(k) channel (price index at q{q}, baseline - no_401k) shows "
        f"CRN at its strongest, since the counterfactual differs only by the 401(k) flow: variance "
        f"cut by a factor of {gain_p:,.0f}.\n\n"
        + md_table(["estimate", "SD (price index)", "R for ± 0.01", "R for ± 0.005"], price_rows)
        + "\n![replicates](validation/replicates.png)\n"
    )


# --- 5. calibration fit
CALIBRATION_TARGETS = Path(__file__).resolve().parents[1] / "calibration_targets.toml"


SHIPPED_POSTERIOR = Path(__file__).resolve().parents[1] / "posterior"


def calibration_section(runs: Runs) -> str:
    """The declared defaults (the calibrated point) on the scenario the calibration fits, against
    the calibration targets; then the shipped posterior's predictive check, read from its folder
    (never re-run)."""
    from experiments.tuning.targets import load_targets

    targets = load_targets(CALIBRATION_TARGETS)
    plan = runs.plan
    n, r = plan.paired_size, min(plan.paired_replicates, 8)
    # the calibration fits what has happened since the order, so the point is checked there too
    scenario = "observed"
    runs.log(f"calibration fit: {r} {scenario} runs at {n:,} participants")
    base = [runs.get(scenario, n, s) for s in range(r)]
    calibrated = [p.name for p in P.PARAMETERS.values() if p.source.startswith("calibrated")]
    rows = []
    for t in targets:
        if t.statistic.max_quarter > plan.quarters:
            continue
        b = t.statistic.of_runs(base)
        bound = {"upper": "at most ", "lower": "at least "}.get(t.kind, "")
        rows.append(
            [
                t.name,
                f"`{t.statistic.text}`",
                f"{bound}{t.observed:.4g}",
                f"{b:.4g}",
                f"{t.error(b):+.2f}",
                f"{t.tolerance:.3g}",
                t.source,
            ]
        )
    text = (
        "The declared defaults of the calibrated parameters are the calibrated point"
        f" ({', '.join(f'`{c}`' for c in calibrated) or 'none yet'}; their source in the parameter tables"
        " names the calibration run); the headline experiments also run over the shipped Bayesian"
        " calibration's posterior (experiments/posterior/), whose predictive check follows. Targets from experiments/calibration_targets.toml; the"
        f" `{scenario}` scenario at the defaults, {n:,} participants, {r} seeds, statistics averaged over"
        " seeds; error in tolerances ((simulated - observed) / tolerance, 0 inside a bound).\n\n"
        + md_table(["target", "statistic", "observed", "simulated", "error", "tolerance", "source"], rows)
    )
    return text + "\n\n" + predictive_summary(SHIPPED_POSTERIOR / "predictive.csv")


def predictive_summary(path: Path) -> str:
    """The shipped posterior's predictive check (experiments/posterior/predictive.csv) as a table:
    each target's observed value against the 90% band of posterior draws with the targets'
    error model; a note when the file is absent."""
    if not path.is_file():
        return f"*No posterior predictive check: {path.name} not found in {path.parent}.*"
    import pandas as pd

    t = pd.read_csv(path)
    rows = [
        [
            r.target,
            f"`{r.statistic}`",
            {"upper": "at most ", "lower": "at least "}.get(r.kind, "") + f"{r.observed:.4g}",
            f"{r.simulated_median:.4g}",
            f"{r.band_q05:.4g} - {r.band_q95:.4g}",
            "yes" if r.inside else "**no**",
        ]
        for r in t.itertuples()
    ]
    inside = int(t["inside"].sum())
    return (
        f"Over the posterior ({int(t['draws'].max())} draws, one seed each; experiments/posterior/report.md"
        f" has the identification table and plots) {inside} of {len(t)} targets' observed values lie"
        " inside their 90% predictive band:\n\n"
        + md_table(["target", "statistic", "observed", "posterior median", "90% band", "inside"], rows)
    )


# --- the report
def build(
    plan: Plan = FULL, log: Callable[[str], None] = print, moat: tuple | None = None
) -> tuple[str, dict, dict]:
    """Run everything; the markdown, the figures by file name and the key findings.

    moat: the paired moat result of experiments/moat_resilience.toml's store, as read by
    `validity_checks.moat_result` (never re-run); None leaves a note on how to include it.
    """
    started = time.perf_counter()
    runs = Runs(plan, log)
    figs: dict = {}
    log("static scenarios")
    static_md, static_ok = static_section(runs, figs)
    log("initial population")
    pop_md = population_section(runs, figs)
    conv_md, conv = convergence_section(runs, figs)
    crn: dict = {}
    rep_md = replicates_section(runs, figs, crn)
    log("calibration fit")
    cal_md = calibration_section(runs)
    bass_md, bass_figs, bass_ok = checks.bass_section(log, plan.bass_participants)
    vol_md, vol_figs, vol_ok = checks.volatility_section(log, plan.volatility_paths)
    cons_md, cons_ok = checks.conservation_section(
        log, plan.conservation_participants, plan.conservation_seeds
    )
    figs.update(bass_figs)
    figs.update(vol_figs)
    moat_md = checks.moat_section(moat)
    minutes = (time.perf_counter() - started) / 60
    vers = ", ".join(f"{k} {v}" for k, v in versions().items())
    smallest = f"{conv['smallest']:,}" if conv["smallest"] else "none"
    sizes = ", ".join(f"{n:,} (R={r})" for n, r in zip(plan.sizes, plan.replicates, strict=True))
    md = (
        "# Validation report\n\n"
        "Generated by `crypto401k validate --out docs` (experiments/reports/validation.py) from fresh runs; "
        "do not edit by hand. The model itself is described in [ODD.md](ODD.md).\n\n"
        f"Plan: {plan.quarters} quarters; headline quarters {', '.join(map(str, plan.headline))}; "
        f"sizes and replicates {sizes}; paired comparisons {plan.paired_replicates} seeds at "
        f"{plan.paired_size:,} participants; employers "
        f"one per {plan.participants_per_employer} participants. "
        f"{len(runs.tables)} runs in {minutes:.1f} minutes (sequential, one process). {vers}.\n\n"
        + (
            ""
            if plan == FULL
            else "**Smoke-test plan (`--quick`): tiny sizes, not evidence about "
            "the model; the committed report uses the full plan.**\n\n"
        )
        + "Summary:\n"
        f"* static scenarios reproduce the seed arithmetic: {'yes' if static_ok else 'NO'};\n"
        f"* the diffusion, reduced to a Bass process, gives back the rates it was given: {'yes' if bass_ok else 'NO'};\n"
        f"* the volatility measures see synthetic dampening and amplification: {'yes' if vol_ok else 'NO'};\n"
        f"* units, the float, balances, the accounting identity and the no-401(k) shadow hold in every"
        f" shipped scenario and at the corners of the ranges: {'yes' if cons_ok else 'NO'};\n"
        f"* smallest participant count within the replicate noise of {max(plan.sizes):,}: "
        f"{smallest}"
        f" (default {conv['default']:,}: {'justified' if conv['justified'] else 'not justified'}; "
        f"{conv['per_quarter']});\n"
        f"* common random numbers cut the variance of a paired difference in committed money by a "
        f"factor of {crn['crn_gain_flow']:.1f} (baseline vs {plan.paired_scenario}) and of the "
        f"401(k) price effect (baseline vs no_401k) by a factor of {crn['crn_gain_price']:,.0f}.\n\n"
        "## 1. Static scenarios against the seed arithmetic\n\n"
        + static_md
        + "\n## 2. Initial population against the calibration figures\n\n"
        + pop_md
        + "\n## 3. Convergence in agent count\n\n"
        + conv_md
        + "\n## 4. Replicates and common random numbers\n\n"
        + rep_md
        + "\n## 5. Calibration fit\n\n"
        + cal_md
        + "\n## 6. The diffusion core against the Bass model\n\n"
        + bass_md
        + "\n## 7. Volatility measures that can see the effect\n\n"
        + vol_md
        + "\n## 8. Conservation and bounds\n\n"
        + cons_md
        + "\n## 9. The moat, paired on seeds\n\n"
        + moat_md
    )
    findings = {
        "static_ok": static_ok,
        "bass_ok": bass_ok,
        "volatility_ok": vol_ok,
        "conservation_ok": cons_ok,
        **conv,
        **crn,
        "runs": len(runs.tables),
        "minutes": minutes,
        "plan": asdict(plan),
    }
    return md, figs, findings


def write_report(
    out: Path, plan: Plan = FULL, log: Callable[[str], None] = print, moat: tuple | None = None
) -> dict:
    """Build the report and write out/VALIDATION.md and out/validation/*.png; the key findings.

    Everything is computed before anything is written, and each file is written atomically.
    """
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", source=str(out), key="--out")
    md, figs, findings = build(plan, log, moat)
    for name, fig in figs.items():
        _save(fig, out / "validation" / name)
    atomic_write(out / "VALIDATION.md", lambda p: p.write_text(md))
    return findings

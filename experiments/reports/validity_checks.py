"""The validity checks of the validation report: theory, measures and conservation.

* Bass reduction: the participants' diffusion, reduced to innovation and imitation only,
  recovers the Bass rates it was given (p = innovation_strength x cue, q = imitation_strength x
  the share who would ever want crypto);
* volatility measures: on the same exogenous paths, synthetic contrarian and trend-chasing
  flows and a same-week rebalancer, measured at the 1-, 4- and 8-quarter horizons and by max
  drawdown, show dampening and amplification where they happen;
* conservation and bounds: every shipped scenario and the corners of the declared ranges keep
  units conserved, holdings inside the float, no balance part negative, the accounting
  identity, and the no-401(k) shadow equal to the no_401k run.

Each check returns its markdown, its figures and a pass flag; tests/test_bass.py and
tests/test_market.py exercise the same functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy.optimize import least_squares

from model import parameters as P
from model import scenarios
from model.errors import InputError
from model.market import CryptoMarket, Orders
from model.model import Crypto401kModel

# --- Bass reduction
BASS_REDUCED = {
    "n_employers": 1,
    "initial_offering_share": 1.0,
    "initial_uptake": 0.0,
    "social_degree": 0,
    "attention_base": 0.0,
    "news_attention": 0.0,
    "manager_marketing_strength": 0.0,
    "education_rate": 1.0,
    "menu_review_rate": 0.0,
    "panic_sensitivity": 0.0,
    "extrapolation": 0.0,
    "peer_weight": 0.0,
    "fee_sensitivity": 0.0,
    "crypto_vol_annual": 0.0,
    "crypto_drift_annual": 0.0,
    "retirement_age": 80.0,
    "retirement_age_sd": 0.0,
    "fraud_rate": 0.0,
}


def bass_curve(
    innovation: float,
    imitation: float,
    affinity_mean: float,
    affinity_sd: float,
    quarters: int = 24,
    seed: int = 0,
    n: int = 40_000,
) -> tuple[np.ndarray, float]:
    """The reduced model's adoption curve (share of all participants holding) and the share who
    want crypto (utility above 0)."""
    m = Crypto401kModel(
        "baseline",
        rng=seed,
        n_participants=n,
        innovation_strength=innovation,
        imitation_strength=imitation,
        affinity_mean=affinity_mean,
        affinity_sd=affinity_sd,
        **BASS_REDUCED,
    )
    m.run(quarters)
    pop = m.population
    wants = float((pop.interest_by_employer * pop.n).sum() / pop.n)
    return m.quarters_table()["adoption_rate"].to_numpy(), wants


def fit_bass(adoption: np.ndarray, potential: float) -> tuple[float, float]:
    """(p, q) of the discrete Bass process F_t = F_{t-1} + (1 - F_{t-1})(1 - exp(-(p + q F_{t-1})))
    that best fits the adopters' share of the potential, per quarter."""
    share = adoption / potential

    def residuals(theta):
        p, q = theta
        f, out = share[0], []
        for t in range(1, len(share)):
            f = f + (1.0 - f) * -np.expm1(-(p + q * f))
            out.append(f - share[t])
        return np.array(out)

    return tuple(float(x) for x in least_squares(residuals, x0=[0.05, 0.3], bounds=([0, 0], [5, 20])).x)


def bass_section(log: Callable[[str], None], n: int) -> tuple[str, dict, bool]:
    """Given innovation and imitation rates against those recovered from the reduced model."""
    cases = [(0.02, 0.5, 5.0, 0.01), (0.05, 0.2, 5.0, 0.01), (0.01, 1.0, 5.0, 0.01), (0.02, 0.8, 0.0, 3.0)]
    rows, ok = [], True
    fig = Figure(figsize=(7, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for innovation, imitation, mean, sd in cases:
        log(f"Bass reduction: p = {innovation}, q = {imitation}")
        adoption, wants = bass_curve(innovation, imitation, mean, sd, quarters=32, n=n)
        p, q = fit_bass(adoption, wants)
        q_expected = imitation * wants
        good = abs(p / innovation - 1) < 0.15 and abs(q / q_expected - 1) < 0.15
        ok &= good
        rows.append(
            [
                f"{innovation:g}",
                f"{imitation:g}",
                f"{wants:.2f}",
                f"{q_expected:.3f}",
                f"{p:.4f}",
                f"{q:.3f}",
                "pass" if good else "FAIL",
            ]
        )
        ax.plot(adoption, "o", ms=3, label=f"model: p={innovation:g}, q x w={q_expected:.2f}")
        f, curve = adoption[0] / wants, [adoption[0]]
        for _ in range(1, len(adoption)):
            f = f + (1 - f) * -math.expm1(-(p + q * f))
            curve.append(f * wants)
        ax.plot(curve, "-", lw=1, color=ax.lines[-1].get_color())
    ax.set_xlabel("quarter")
    ax.set_ylabel("share of participants holding crypto")
    ax.set_title("Reduced model (dots) and the fitted discrete Bass curve (lines)", fontsize=10)
    ax.legend(fontsize=7)
    md = (
        "Reduced to a Bass process (one employer offering crypto from quarter 0, a fully mixed plan,"
        " no social contacts, no baseline or news attention, no marketing, education every quarter as a"
        " constant cue of 1, no panic and no price or fee feedback in choices, nobody retiring), a"
        " participant adopts when an attention event finds crypto attractive. The share F of adopters"
        " among those who ever want crypto (a share w of participants) then follows the discrete Bass"
        " process F_t = F_{t-1} + (1 - F_{t-1})(1 - exp(-(p + q F_{t-1}))), with p = innovation_strength"
        " x cue (per quarter) and q = imitation_strength x w: imitation reads the share of all coworkers"
        " holding. The table fits p and q by least squares to 32 quarters of the model"
        f" ({n:,} participants) and compares them with what was given (pass: within 15%). Annual rates"
        " are about four times these quarterly ones (Sultan, Farley & Lehmann 1990: mean p = 0.03 and"
        " q = 0.38 a year).\n\n"
        + md_table(
            [
                "innovation_strength",
                "imitation_strength",
                "share wanting w",
                "expected q (x w)",
                "fitted p",
                "fitted q",
                "check",
            ],
            rows,
        )
        + "\n![Bass reduction](validation/bass.png)\n"
    )
    return md, {"bass.png": fig}, ok


# --- volatility measures
def flow_path(
    seed: int, rule: str, strength: float = 0.02, quarters: int = 40, sleeve_share: float = 0.5
) -> CryptoMarket:
    """One exogenous path with a flow rule: 'none'; 'contrarian' (buys after a fall, sells after a
    rise, `strength` x market value per 25% quarterly return); 'trend' (the reverse); 'sleeve' (a
    fund holding 30% of the float rebalanced to `sleeve_share` at every week's price)."""
    m = CryptoMarket({**P.defaults(), "flow_multiplier": 4.5}, np.random.default_rng(seed))
    units = 0.3 * m.float_units
    m.hold_initial(units)
    sleeve = _Fund(sleeve_share, units, units) if rule == "sleeve" else None
    sign = {"none": 0.0, "contrarian": -1.0, "trend": 1.0, "sleeve": 0.0}[rule]
    for q in range(1, quarters + 1):
        m.draw(q)
        dollars = sign * strength * m.cap * float(np.clip(m.last_log_return / 0.25, -1.0, 1.0))
        if dollars >= 0:
            m.clear(Orders(buy_usd=dollars, sleeves=sleeve))
        else:
            m.clear(Orders(sell_units=min(-dollars / m.price, 0.9 * m.plan_units), sleeves=sleeve))
    return m


class _Fund:
    """A fund keeping `share` of its money in crypto at every week's price (a sleeve stand-in)."""

    def __init__(self, share: float, money: float, units: float):
        self.share, self.money, self.units = share, money, units

    def order(self):
        return self.share * self.money, (1.0 - self.share) * self.units

    def fill(self, price: float) -> None:
        total = self.money + self.units * price
        self.units = self.share * total / price
        self.money = total - self.units * price


def volatility_section(log: Callable[[str], None], paths: int = 40) -> tuple[str, dict, bool]:
    """Each measure on the same exogenous paths with no flow and with synthetic flows."""
    rules = ("none", "contrarian", "trend", "sleeve")
    measures = ("realized_vol", "return_vol_1q", "return_vol_4q", "return_vol_8q", "max_drawdown")
    values = {r: {m: [] for m in measures} for r in rules}
    log(f"volatility measures: {paths} exogenous paths x {len(rules)} flow rules")
    for seed in range(paths):
        for rule in rules:
            m = flow_path(seed, rule)
            v = values[rule]
            v["return_vol_1q"].append(m.return_volatility(1))
            v["return_vol_4q"].append(m.return_volatility(4))
            v["return_vol_8q"].append(m.return_volatility(8))
            v["max_drawdown"].append(m.max_drawdown)
            v["realized_vol"].append(m.realized_vol)
    rows = []
    for rule in rules[1:]:
        for meas in measures:
            d = np.array(values[rule][meas]) - np.array(values["none"][meas])
            rows.append(
                [
                    rule,
                    meas,
                    f"{np.median(values['none'][meas]):.3f}",
                    f"{np.median(values[rule][meas]):.3f}",
                    f"{np.median(d):+.3f}",
                    f"{(d < 0).mean():.0%}",
                ]
            )
    diff = {r: {m: np.array(values[r][m]) - np.array(values["none"][m]) for m in measures} for r in rules}
    ok = (
        (diff["contrarian"]["return_vol_4q"] < 0).mean() >= 0.9
        and (diff["trend"]["return_vol_4q"] > 0).mean() >= 0.9
        and (diff["sleeve"]["return_vol_1q"] < 0).mean() >= 0.9
        and (diff["sleeve"]["return_vol_4q"] < 0).mean() >= 0.9
    )
    fig = Figure(figsize=(8, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.2
    for i, rule in enumerate(rules[1:]):
        ax.bar(
            np.arange(len(measures)) + (i - 1) * width,
            [np.median(diff[rule][m]) for m in measures],
            width,
            label=rule,
        )
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(measures)), measures, fontsize=8)
    ax.set_ylabel("median change against no flow")
    ax.set_title("What each measure sees of synthetic flows, same exogenous paths", fontsize=10)
    ax.legend(fontsize=8)
    md = (
        f"{paths} exogenous market paths (the market's own random stream, default parameters, M = 4.5,"
        " the plans holding 30% of the float), each run with no 401(k) flow and with three synthetic"
        " flows: contrarian (buys after a fall and sells after a rise, 5% of market value per 25%"
        " quarterly return, reacting to last quarter), trend-chasing (the reverse) and a same-week"
        " rebalancer (a fund keeping half its money in crypto at every week's clearing price, like the"
        " default products' sleeves). Each cell is the median over paths; the last column the share of"
        " paths where the flow lowered the measure.\n\n"
        + md_table(
            ["flow", "measure", "no flow (median)", "with flow (median)", "change (median)", "paths lower"],
            rows,
        )
        + "\nThe measures see what the flows do: the contrarian flow lowers the volatility of annual and"
        " two-year returns (returns mean-revert) while, reacting a quarter late, it adds to the"
        " volatility of single quarters; trend-chasing raises volatility at every horizon; the same-week"
        " rebalancer lowers it at every horizon. `realized_vol` (the spread of a quarter's 13 weekly"
        " returns) barely moves under the lagged flows, whose quarter's orders are spread evenly over its"
        " weeks: it cannot see them, which is why the volatility claim is judged on `return_vol_1q`,"
        " `return_vol_4q`, `return_vol_8q`, max drawdown and recovery time."
        f" Check (contrarian and rebalancer lower, trend raises 4-quarter volatility on 90% of paths):"
        f" {'pass' if ok else 'FAIL'}.\n\n![volatility measures](validation/volatility_measures.png)\n"
    )
    return md, {"volatility_measures.png": fig}, ok


# --- conservation and bounds
CORNERS = {
    "momentum, volatility and impact at their maxima": {
        "momentum_feedback": 0.3,
        "crypto_vol_annual": 1.5,
        "flow_multiplier": 25.0,
    },
    "falling market, reversing demand": {
        "momentum_feedback": -0.3,
        "crypto_vol_annual": 1.5,
        "crypto_drift_annual": -0.5,
    },
    "rising market, largest sleeves": {
        "momentum_feedback": 0.3,
        "crypto_drift_annual": 0.5,
        "flow_multiplier": 25.0,
        "tdf_sleeve": 0.2,
    },
    "allocation and sleeve together": {
        "allocation_cap": 1.0,
        "target_allocation": 1.0,
        "tdf_sleeve": 0.2,
        "affinity_mean": 3.0,
    },
}


def _run_checked(scenario: str, seed: int, n: int, over: dict) -> dict:
    """One run, checked every quarter; the worst value of each check over the run."""
    m = Crypto401kModel(scenario, rng=seed, n_participants=n, n_employers=max(20, n // 40), **over)
    pop, market = m.population, m.market
    worst = {"units": 0.0, "float": 0.0, "balance": math.inf, "identity": 0.0}
    gap, peak = 0.0, 0.0
    for _ in range(scenarios.load(scenario).quarters):
        m.step()
        held = float((pop.units_active + pop.units_default).sum()) * pop.weight
        gap, peak = max(gap, abs(held - market.plan_units)), max(peak, market.plan_units)
        worst["float"] = max(worst["float"], market.holdings_share_of_float)
        parts = np.concatenate([pop.balance_other, pop.units_active, pop.units_default])
        worst["balance"] = min(worst["balance"], float(parts.min()))
    # Relative to the largest holdings of the run, as the identity gap is to the largest AUM: after
    # the plans sell everything, floating-point residue of sums of ~1e9 units stays in the market's
    # count (up to 1e-4 units, $0.0001 at the initial price), meaningless against a floor of 1 unit.
    worst["units"] = gap / max(peak, 1.0)
    t = m.quarters_table()
    explained = (
        t["contributions_to_crypto_usd"]
        + t["purchases_usd"]
        - t["sales_usd"]
        - t["withdrawals_crypto_usd"]
        + t["crypto_returns_usd"]
        - t["fraud_losses_usd"]
        - t["fees_paid_usd"]
    )
    gap = (t["crypto_aum_usd"].diff() - explained).iloc[1:].abs().max()
    worst["identity"] = float(gap / max(1.0, t["crypto_aum_usd"].abs().max()))
    worst["guards"] = market.guard_hits
    worst["price"] = (float(t["price_index"].min()), float(t["price_index"].max()))
    return worst


def conservation_section(log: Callable[[str], None], n: int, seeds: int) -> tuple[str, bool]:
    """Conservation and bounds over every shipped scenario and the corners of the declared ranges."""
    cases = [(name, {}) for name in scenarios.available()]
    cases += [(f"tdf_default, {label}", over) for label, over in CORNERS.items()]
    rows, ok = [], True
    for label, over in cases:
        scenario = label.split(",")[0]
        log(f"conservation: {label}")
        results = [_run_checked(scenario, s, n, over) for s in range(seeds)]
        units = max(r["units"] for r in results)
        share = max(r["float"] for r in results)
        low = min(r["balance"] for r in results)
        ident = max(r["identity"] for r in results)
        guards = sum(r["guards"] for r in results)
        lo_p = min(r["price"][0] for r in results)
        hi_p = max(r["price"][1] for r in results)
        good = units < 1e-9 and share < 1.0 and low >= 0.0 and ident < 1e-9 and (guards == 0 or over)
        ok &= good
        rows.append(
            [
                label,
                f"{units:.1e}",
                f"{share:.3f}",
                f"{low:.3g}",
                f"{ident:.1e}",
                str(guards),
                f"{lo_p:.3g} to {hi_p:.3g}",
                "pass" if good else "FAIL",
            ]
        )
    shadow = []
    for momentum in (0.0, 0.3):
        a = Crypto401kModel("static_5pct", rng=5, n_participants=n, momentum_feedback=momentum)
        b = Crypto401kModel("no_401k", rng=5, n_participants=n, momentum_feedback=momentum)
        a.run(40)
        b.run(40)
        same = np.array_equal(a.quarters_table()["price_index_no_401k"], b.quarters_table()["price_index"])
        ok &= same
        shadow.append([f"{momentum:g}", "identical bit for bit" if same else "DIFFERENT"])
    md = (
        f"Every shipped scenario at its declared parameters, and tdf_default at corners of the declared"
        f" ranges, {seeds} seeds each, {n:,} participants, full horizon, checked every quarter: the units"
        " the participants hold against the units the market counts (largest gap, relative to the run's"
        " largest holdings), the plans'"
        " holdings as a share of the tradable float (largest), the smallest balance part (non-crypto"
        " money and units, never negative), the accounting identity (largest gap relative to the largest"
        " AUM: change of AUM = contributions + purchases - sales - withdrawals + returns - fraud losses -"
        " fees), the weeks in which a numerical guard bound (never, at declared parameters) and the"
        " range of the price index.\n\n"
        + md_table(
            [
                "case",
                "units gap",
                "max share of float",
                "min balance part",
                "identity gap",
                "guard weeks",
                "price index range",
                "check",
            ],
            rows,
        )
        + "\nThe no-401(k) shadow price of static_5pct against a separate no_401k run on the same seed,"
        " with and without momentum in other demand:\n\n"
        + md_table(["momentum_feedback", "shadow vs no_401k price"], shadow)
    )
    return md, ok


# --- the paired moat result, read from the shipped experiment's store
def moat_result(store_dir) -> tuple:
    """The paired exposure effect, the channel table and (runs, participants, code version) of a
    moat store; an InputError if the folder is not a batch store or holds no runs paired on seeds
    with and without `exposure_in_politics`."""
    from experiments.batch import report, store

    try:
        con = store.connect(store_dir)
    except InputError as exc:
        raise InputError(exc.problem, source=exc.source, key="--moat-store", allowed=exc.allowed) from None
    try:
        runs = report.per_run(con)
        meta = con.execute(
            "SELECT count(*), any_value(participants), any_value(code_version) FROM catalogue"
            " WHERE status = 'ok'"
        ).fetchone()
    finally:
        con.close()
    effect = report.exposure_effect(runs) if len(runs) else pd.DataFrame()
    if effect.empty:
        raise InputError(
            "holds no runs paired on seeds with and without exposure_in_politics",
            source=str(store_dir),
            key="--moat-store",
            allowed="the store of `crypto401k batch experiments/moat_resilience.toml`",
        )
    return effect, report.channel(runs), meta


def moat_section(moat: tuple | None) -> str:
    """The moat experiment's paired result as `moat_result` read it from its batch store."""
    if moat is None:
        return (
            "Run `uv run crypto401k batch experiments/moat_resilience.toml --out results/moat_resilience`"
            " and regenerate this report with `--moat-store results/moat_resilience` to include the"
            " paired moat result.\n"
        )
    effect, chan, meta = moat
    rows = [
        [
            r["scenario"],
            str(r["pairs"]),
            f"{100 * r['lost_without']:.1f}% [{100 * r['lost_without_low']:.1f}, {100 * r['lost_without_high']:.1f}]",
            f"{100 * r['lost_with']:.1f}% [{100 * r['lost_with_low']:.1f}, {100 * r['lost_with_high']:.1f}]",
            f"{100 * r['difference']:+.1f} [{100 * r['difference_low']:+.1f}, {100 * r['difference_high']:+.1f}]",
            f"{r['saved']} / {r['lost_only_with']}",
        ]
        for _, r in effect.iterrows()
    ]
    moat = [
        [
            r["arm"],
            f"{r['moat_median']:.3f} [{r['moat_low']:.3f}, {r['moat_high']:.3f}]",
            f"{r['moat_p95']:.3f}",
        ]
        for _, r in chan.iterrows()
        if "true" in r["arm"]
    ]
    return (
        f"From the shipped experiment `moat_resilience` ({meta[0]:,} runs, {meta[1]:,} participants, code"
        f" version {meta[2]}): each scenario on the same seeds with voters' exposure reaching every political"
        " decision and without it. Chance of losing the 401(k) channel (the rule rescinded) within 40"
        " quarters, with 95% Wilson intervals; the difference with a bootstrap interval over pairs, in"
        " percentage points (positive: exposure protects the channel).\n\n"
        + md_table(
            [
                "scenario",
                "pairs",
                "lost without exposure",
                "lost with exposure",
                "difference (points)",
                "pairs saved / lost only with exposure",
            ],
            rows,
        )
        + "\nMoat index at quarter 40 with exposure (median [95% CI], 95th percentile):\n\n"
        + md_table(["arm", "median", "95th percentile"], moat)
    )


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"

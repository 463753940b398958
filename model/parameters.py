"""The one declaration of every model parameter: type, unit, default, allowed range, source.

The command line (`--set`), scenario files, the browser sliders, experiment sweeps,
sensitivity analysis, calibration and the ODD parameter tables all read `PARAMETERS`;
nothing else repeats a default or a range. Values are checked by a pydantic model generated
from the declaration (`section_model`), which the scenario, experiment and target file
readers reuse for their parameter sections.

Sources are named next to each figure. "assumption" marks a value chosen by the modellers
(to be tuned by `crypto401k calibrate`); "derived" says how it follows from a cited figure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from model.errors import InputError, did_you_mean, from_validation


@dataclass(frozen=True)
class Parameter:
    """One tunable input of the model."""

    name: str
    type: type  # int, float or bool
    default: Any
    unit: str
    low: float | None
    high: float | None
    source: str
    group: str
    doc: str
    behavioural: bool = False  # shown as a slider and screened first in sensitivity runs

    @property
    def allowed(self) -> str:
        """The allowed values as a user reads them."""
        if self.type is bool:
            return "true or false"
        kind = "an integer" if self.type is int else "a number"
        return f"{kind} from {_fmt(self.low)} to {_fmt(self.high)}"

    def check(self, value: Any, source: str | None = None) -> Any:
        """The value converted to this parameter's type, or an InputError naming the range."""
        return validate({self.name: value}, source)[self.name]

    def parse(self, text: str, source: str | None = None) -> Any:
        """A value typed on the command line (`--set name=value`), checked."""
        raw = text.strip()
        if self.type is bool:
            lowered = raw.lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            raise InputError(
                f"expected true or false, got {text!r}", source=source, key=self.name, allowed=self.allowed
            )
        try:
            number: float | int = int(raw) if self.type is int else float(raw.replace("_", ""))
        except ValueError:
            try:
                number = float(raw.replace("_", ""))
            except ValueError:
                raise InputError(
                    f"expected {self.allowed.split(' from')[0]}, got {text!r}",
                    source=source,
                    key=self.name,
                    allowed=self.allowed,
                ) from None
        return self.check(number, source)


def _fmt(x: float | None) -> str:
    if x is None:
        return "unbounded"
    if isinstance(x, float) and (abs(x) >= 1e6):
        return f"{x:.3g}"
    return f"{x:g}" if isinstance(x, float) else str(x)


_P = Parameter
# The source of the behavioural defaults fitted to the calibration targets.
CALIBRATED = (
    "calibrated: crypto401k calibrate on experiments/calibration_targets.toml (220 trials, 4 seeds"
    " x 12 quarters x 10,000 participants, loss 0.029; fit table in docs/VALIDATION.md)"
)
# fmt: off
# One parameter a few lines: name, type, default, unit, low, high, source, group, meaning.
_DECLARED = [
    # --- population: who is in the 401(k) system and how many real people an agent stands for
    _P("n_participants", int, 100_000, "agents", 1, 20_000_000,
       "model resolution; convergence in docs/VALIDATION.md", "population",
       "Number of participant agents; each stands for us_participants / n_participants people."),
    _P("us_participants", float, 70e6, "people", 1e6, 2e8,
       "ICI (Mar 2026): about 70 million active 401(k) participants", "population",
       "Real 401(k) participants represented; sets each agent's weight."),
    _P("total_401k_assets_usd", float, 8.7e12, "USD", 1e11, 5e13,
       "ICI quarterly retirement market data, 401(k) assets $8.7T on 31 Mar 2025", "population",
       "401(k) asset base at quarter 0; initial balances are scaled to add up to it."),
    _P("n_employers", int, 2_000, "agents", 1, 200_000,
       "model resolution", "population",
       "Number of employer (plan sponsor) agents; each stands for us_plans / n_employers plans."),
    _P("us_plans", float, 620_000.0, "plans", 1e3, 5e6,
       "EBSA Form 5500: 604,400 plans (2019), 624,158 filing plans (2021)", "population",
       "Real 401(k) plans represented."),
    _P("retirement_age", float, 65.0, "years", 50.0, 80.0,
       "assumption: retirement at ~65 (the traditional full retirement age)", "population",
       "Mean age at which a participant retires and the balance leaves the system (sd 2 years)."),
    _P("auto_enrol_share", float, 0.61, "share of plans", 0.0, 1.0,
       "Vanguard How America Saves 2025: 61% of plans auto-enrol", "population",
       "Share of employers that auto-enrol (their participants default into the target-date product)."),
    _P("default_fund_stay_share", float, 0.8, "share of participants", 0.0, 1.0,
       "Madrian & Shea (2001): about 80% of participants hired under automatic enrolment kept the"
       " default fund", "population",
       "Share of workers in auto-enrolling plans who stay fully in the plan's default product."),
    _P("voluntary_default_share", float, 0.4, "share of participants", 0.0, 1.0,
       "assumption, chosen with default_fund_stay_share so that about two thirds of participants are"
       " in a professionally managed default (Vanguard: 66% in 2023)", "population",
       "Share of workers in other plans who choose the default target-date/managed product."),
    _P("social_degree", int, 8, "contacts", 0, 64,
       "assumption", "population",
       "Social-network contacts per participant outside work."),
    _P("network_local_share", float, 0.7, "share of contacts", 0.0, 1.0,
       "assumption", "population",
       "Share of a participant's contacts drawn from the same congressional district."),
    _P("coworker_weight", float, 0.5, "share of peer influence", 0.0, 1.0,
       "assumption", "population",
       "Weight of coworkers (vs the social network) in the peer share a participant sees."),
    _P("wage_growth_annual", float, 0.03, "per year", -0.1, 0.2,
       "assumption: nominal wage growth ~3% a year (SSA average wage index, 2010s)", "population",
       "Growth of every participant's salary."),
    # --- participant behaviour: attention, adoption channels, allocation, panic
    _P("attention_base", float, 0.0268, "per quarter", 0.0, 1.0,
       CALIBRATED + "; target: 80% made no trade over 2003-04 (Mitchell, Mottola, Utkus &"
       " Yamaguchi 2006), 1 - 0.8^(1/8) = 0.028 a quarter", "behaviour",
       "Baseline hazard that a participant reviews the allocation in a quarter (inverse inertia).",
       behavioural=True),
    _P("innovation_strength", float, 0.0154, "per quarter per unit cue", 0.0, 2.0,
       CALIBRATED + "; the annual Bass innovation rate is about 4 x innovation_strength x the mean cue"
       " (Sultan, Farley & Lehmann 1990: mean p = 0.03 a year); tests/test_bass.py recovers the"
       " mapping", "behaviour",
       "Innovation channel: attention hazard added per unit external cue (plan newly offering,"
       " employer education, manager marketing).", behavioural=True),
    _P("imitation_strength", float, 0.4, "per quarter per unit peer share", 0.0, 5.0,
       "assumption; the annual Bass imitation rate is about 4 x imitation_strength x the share"
       " who would ever want crypto (Sultan, Farley & Lehmann 1990: mean q = 0.38 a year);"
       " tests/test_bass.py recovers the mapping", "behaviour",
       "Imitation channel: attention hazard added per unit share of peers holding crypto.",
       behavioural=True),
    _P("news_attention", float, 0.002, "per quarter per unit |return|", 0.0, 5.0,
       CALIBRATED, "behaviour",
       "Attention hazard added per unit absolute trailing crypto log return (large moves make news).",
       behavioural=True),
    _P("affinity_mean", float, -0.747, "utility", -5.0, 5.0,
       CALIBRATED + "; target: ~25% of participants would want crypto: 60% no interest"
       " ever (Gallup 2025), 45% of millennials want it in their 401(k) (Schwab 2022)",
       "behaviour", "Mean latent crypto affinity at age 40.", behavioural=True),
    _P("affinity_age_slope", float, -0.03, "utility per year of age", -0.5, 0.5,
       "assumption; younger savers are more interested (Schwab 2022: Gen Z 46%)", "behaviour",
       "Change of mean affinity per year of age above 40."),
    _P("affinity_sd", float, 1.0, "utility", 0.01, 5.0,
       "assumption", "behaviour", "Dispersion of crypto affinity across participants."),
    _P("extrapolation", float, 1.0, "utility per unit log return", 0.0, 10.0,
       "assumption", "behaviour",
       "Trend chasing: utility added per unit trailing 4-quarter crypto log return"
       " (scaled by each participant's own trait).", behavioural=True),
    _P("peer_weight", float, 0.8, "utility per peer share", 0.0, 10.0,
       "assumption", "behaviour", "Utility added per unit share of peers holding crypto.",
       behavioural=True),
    _P("fee_sensitivity", float, 0.5, "utility per 1% a year of fee", 0.0, 10.0,
       "assumption", "behaviour", "Utility lost per percentage point of annual product fee."),
    _P("safety_weight", float, 0.5, "utility per unit clarity", 0.0, 10.0,
       "assumption", "behaviour",
       "Utility added by perceived regulatory safety (rule clarity from 0 to 1).",
       behavioural=True),
    _P("loss_aversion_mean", float, 2.25, "ratio", 1.0, 10.0,
       "Tversky & Kahneman (1992): lambda = 2.25", "behaviour",
       "Mean loss-aversion coefficient (each participant draws 1 + lognormal excess).",
       behavioural=True),
    _P("panic_threshold", float, 0.35, "share of peak", 0.0, 1.0,
       "assumption; 95th-percentile max drawdown ~70% (Morgan Stanley 2025)", "behaviour",
       "Drawdown from the trailing 4-quarter peak beyond which holders may panic-sell."),
    _P("panic_sensitivity", float, 2.0, "per unit excess drawdown per unit loss aversion",
       0.0, 50.0, "assumption", "behaviour",
       "Hazard of cutting crypto to zero per unit drawdown beyond the threshold, times (lambda - 1).",
       behavioural=True),
    _P("target_allocation", float, 0.0191, "share of contributions and balance", 0.0, 1.0,
       CALIBRATED + "; advisor guidance 1-5% (Morgan Stanley 0-4%, BofA 1-4%, Fidelity 2-5%, 2025)",
       "behaviour", "Median allocation a participant who wants crypto chooses (before the plan cap).",
       behavioural=True),
    _P("move_balance_share", float, 0.5, "probability", 0.0, 1.0,
       "assumption; little reshuffling of balances (Agnew, Balduzzi & Sunden 2003)", "behaviour",
       "Probability that a participant who changes the allocation also moves the existing balance."),
    # --- employers (plan sponsors)
    _P("allocation_cap", float, 0.20, "share of contributions and balance", 0.0, 1.0,
       "Fidelity Digital Assets Account (Apr 2022): employer cap at most 20%", "employer",
       "Largest cap an employer sets on crypto; cautious employers set less (down to a quarter).",
       behavioural=True),
    _P("employer_caution_mean", float, 0.6, "0-1", 0.0, 1.0,
       "assumption; ~1/3 of interested plans paused after DOL CAR 2022-01 (ForUsAll)",
       "employer", "Mean fiduciary caution of employers.", behavioural=True),
    _P("menu_review_rate", float, 0.25, "per quarter", 0.0, 1.0,
       "assumption: plan committees review the menu about once a year", "employer",
       "Probability that an employer reviews its fund menu in a quarter."),
    _P("employer_base_logit", float, -4.0, "log-odds", -20.0, 20.0,
       "assumption; with the other weights gives GAO's 'substantially less than 1%' before the"
       " order", "employer", "Intercept of the add-crypto decision."),
    _P("clarity_weight", float, 3.0, "log-odds per unit clarity", 0.0, 20.0,
       "assumption", "employer", "Weight of regulatory clarity (safe harbour) in the add decision.",
       behavioural=True),
    _P("litigation_weight", float, 6.0, "log-odds per unit risk", 0.0, 50.0,
       "assumption", "employer", "Weight of perceived litigation risk in the add/drop decision."),
    _P("demand_weight", float, 4.0, "log-odds per unit share asking", 0.0, 50.0,
       "assumption", "employer", "Weight of the share of own participants who want crypto."),
    _P("peer_offer_weight", float, 3.0, "log-odds per unit peer share", 0.0, 50.0,
       "assumption", "employer", "Weight of the share of network peers offering crypto.",
       behavioural=True),
    _P("caution_weight", float, 3.0, "log-odds per unit caution", 0.0, 50.0,
       "assumption", "employer", "Weight of the employer's own caution against adding."),
    _P("drop_margin", float, 3.0, "log-odds", 0.0, 20.0,
       "assumption", "employer",
       "How far below the add threshold the score must fall before an offering plan drops crypto."),
    _P("education_rate", float, 0.3, "per quarter", 0.0, 1.0,
       "assumption", "employer",
       "Probability that an offering employer runs employee education in a quarter."),
    _P("initial_offering_share", float, 0.002, "share of plans", 0.0, 1.0,
       "GAO-25-106161 (2024): crypto 'substantially less than 1%' of plans", "employer",
       "Share of plans already offering a crypto option at quarter 0 (the 2022 precedents)."),
    _P("initial_uptake", float, 0.25, "share of interested participants", 0.0, 1.0,
       "assumption for the 2022-25 precedents (Fidelity, ForUsAll)", "employer",
       "Share of interested participants in plans already offering who hold crypto at quarter 0."),
    _P("lawsuit_rate", float, 0.3, "per quarter per unit excess drawdown", 0.0, 10.0,
       "assumption", "employer",
       "Chance an offering employer is sued per unit drawdown beyond 30% (or after a fraud)."),
    _P("litigation_memory", float, 0.7, "share kept per quarter", 0.0, 1.0,
       "assumption", "employer", "Share of perceived litigation risk carried to the next quarter."),
    # --- crypto market
    _P("crypto_market_cap_usd", float, 2.27e12, "USD", 1e10, 1e14,
       "derived: the asset is bitcoin (team decision: its price, float and volatility are"
       " bitcoin's); close of 30 Sep 2025, the end of quarter 0, $114,115 (Bitstamp, repository"
       " typedcypher/historical-bitcoin-prices@9f156d8) x ~19.92M coins in circulation (late 2025;"
       " 20M reached 9 Mar 2026, Glassnode). All crypto was ~$3.9T (press)", "market",
       "Market value of the crypto asset (bitcoin) at quarter 0; its supply in units."),
    _P("crypto_vol_annual", float, 0.52, "per year", 0.0, 1.5,
       "bitcoin ~54% a year in 2024 (iShares); ~55% planning assumption (Morgan Stanley 2025);"
       " the range reaches the most volatile years (~100-150%, 2011-13); 0 is a deterministic market",
       "market", "Annualised volatility of the exogenous crypto return."),
    _P("crypto_drift_annual", float, 0.08, "log return per year", -0.5, 0.5,
       "assumption; beyond +-0.5 a year (a factor of 150 either way in ten years) no path is"
       " defensible", "market", "Expected exogenous log return a year."),
    _P("tail_df", float, 4.0, "degrees of freedom", 2.1, 1000.0,
       "assumption (fat tails)", "market",
       "Student-t degrees of freedom of weekly exogenous returns; lower is fatter-tailed."),
    _P("flow_multiplier", float, 4.5, "USD of market value per USD of flow", 0.5, 25.0,
       "Glassnode ~4-5x for bitcoin; Gabaix & Koijen (2021) ~5 (3-8) for equities; analysts"
       " 3.3 (Woo) to ~25 (Lee). Left out: BofA's 118x (2021), at which the static 5% claim"
       " alone would multiply the price by about 10^7, and 0, a market of infinite depth that"
       " could sell the plans more than its float", "market",
       "Inelastic-market multiplier M: at quarter 0 a dollar of net 401(k) buying raises market"
       " value by M dollars; the impact grows as the plans' holdings approach the float.",
       behavioural=True),
    _P("tradable_float_share", float, 0.3, "share of supply", 0.05, 1.0,
       "assumption, of the order of bitcoin's liquid supply: about 70-75% is held by owners who"
       " rarely sell (Glassnode's illiquid supply, 2024-25)", "market",
       "Share of the crypto supply that trades at quarter 0; long-term holders hold the rest."),
    _P("lth_supply_response", float, 0.77, "per unit log impact", 0.0, 5.0,
       "derived: long-term holders' supply fell ~900,000 BTC of ~14.9M (6%) while the price rose"
       " ~67% (Dec 2023-Mar 2024, Glassnode as relayed by the press; 0.62 without the GBTC"
       " outflows in it); in 2025 -452,532 BTC (3%) for a rise of ~18% (Jul-Nov 2025) would give"
       " ~1.6. Assumption: long-term holders answer a rise lifted by the plans as any rise; 0"
       " fixes the float", "market",
       "Long-term holders' supply response: at a log price impact x of 401(k) flows they have"
       " sold a share 1 - (1 + eta x) exp(-eta x) of the illiquid supply (nothing for small"
       " moves, never more than they hold)."),
    _P("momentum_feedback", float, 0.0, "share of last quarter's return", -0.3, 0.3,
       "assumption (other demand may chase returns); crypto shows time-series momentum of this"
       " order (Liu & Tsyvinski 2021, RFS 34(6)); at 1 every return would repeat forever",
       "market",
       "Share of last quarter's total log return that other (non-401(k)) demand adds this quarter."),
    _P("balanced_return_annual", float, 0.06, "per year", -0.5, 0.5,
       "assumption: 60/40 balanced portfolio", "market",
       "Expected return of the non-crypto part of each balance."),
    _P("balanced_vol_annual", float, 0.11, "per year", 0.0, 1.0,
       "assumption: 60/40 balanced portfolio", "market",
       "Volatility of the non-crypto return."),
    # --- events and scenario switches
    _P("crash_quarter", int, -1, "quarter", -1, 400,
       "scenario switch (-1: none)", "events", "Quarter in which a scheduled crash starts."),
    _P("crash_depth", float, 0.0, "share of value lost", 0.0, 0.99,
       "past drawdowns ~85% (2013-15), ~84% (2017-18), ~77% (2021-22)", "events",
       "Exogenous drawdown of the scheduled crash, spread over crash_quarters."),
    _P("crash_quarters", int, 3, "quarters", 1, 40,
       "assumption (2021-22 drawdown took ~4 quarters)", "events",
       "Number of quarters over which the crash unfolds."),
    _P("channel_401k", bool, True, "switch", None, None,
       "scenario switch", "events",
       "Whether the 401(k) channel exists at all (false: the no_401k counterfactual)."),
    _P("static_allocation", float, 0.0, "share of balance and contributions", 0.0, 1.0,
       "seed arithmetic: 1% of $8.7T = $87B, 5% = $435B", "events",
       "If above 0, every participant instantly holds this share of balance at quarter 0 and"
       " contributes it thereafter, buy and hold, with no behaviour: the static claims."),
    # --- regulation
    _P("rule_proposed_quarter", int, 2, "quarter", -1, 400,
       "DOL proposed rule published 31 Mar 2026 (2026Q1; Federal Register doc. 2026-06178)", "regulation",
       "Quarter in which the DOL safe-harbour rule is proposed (-1: never)."),
    _P("rule_final_quarter", int, 5, "quarter", -1, 400,
       "final rule expected 'by early fall' 2026 (Groom Law, 21 Jan 2026): 2026Q4; not final by the"
       " last source (24 Jun 2026): the observed scenario draws its quarter (rule_final_spread)",
       "regulation",
       "Quarter in which the rule becomes final (-1: never)."),
    _P("rule_final_spread", int, 0, "quarters", 0, 40,
       "scenario switch (0: the rule is final in rule_final_quarter); the observed scenario uses 3:"
       " DOL's recent investment-duty rules became final 3-11 months after their comment periods"
       " closed, and this one's closed 1 Jun 2026 (model/scenarios/observed.toml)", "regulation",
       "Quarters after rule_final_quarter within which the final rule's quarter is drawn (uniform,"
       " from the run's regulation stream): an uncertain date, not an assumed one."),
    _P("clarity_order_only", float, 0.35, "0-1", 0.0, 1.0,
       "assumption: EO 14330 and CAR 2025-01 (DOL neutral) without a rule", "regulation",
       "Regulatory clarity employers perceive before any rule."),
    _P("clarity_proposed", float, 0.5, "0-1", 0.0, 1.0,
       "assumption, revised from 0.6 against what happened: the proposal (31 Mar 2026) is"
       " asset-neutral and process-based, advisers told sponsors to 'wait and see' (UBT, 24 Jun"
       " 2026; Sentinel, 17 Jun 2026) and crypto in plans stayed rare (Basic Capital, Dec 2025),"
       " so a proposal is halfway between the order alone (0.35) and a final rule", "regulation",
       "Clarity while the rule is proposed."),
    _P("clarity_final", float, 1.0, "0-1", 0.0, 1.0,
       "assumption: a final process-based safe harbour", "regulation",
       "Clarity once the rule is final."),
    _P("clarity_rescinded", float, 0.35, "0-1", 0.0, 1.0,
       "DOL CAR 2025-01 (28 May 2025): a rescission returns to the neutral pre-rule position, the"
       " clarity before the rule (clarity_order_only); hostile_turn uses 0.1, like CAR 2022-01's"
       " 'extreme care'", "regulation",
       "Clarity after a rule is rescinded."),
    # --- products: what asset managers start from (the fees they then set under competition)
    _P("product_fee", float, 0.0075, "share of assets a year", 0.0, 0.05,
       "Fidelity Digital Assets Account (2022): 0.75-0.90%", "products",
       "Fee of a spot bitcoin fund with a single seller (the 2022 401(k) precedent); the index"
       " fund and managed account cost 0.10 and 0.15 points more."),
    _P("tdf_sleeve", float, 0.0, "share of default-product assets", 0.0, 0.2,
       "scenario switch; tdf_default uses 1-3% (allocation guidance, BlackRock 1-2%)", "products",
       "Mean crypto sleeve a manager puts in its target-date/managed default product once ready"
       " (each manager: tdf_sleeve x (0.5 + appetite)); 0: no manager adds a sleeve."),
    # --- asset managers (recordkeepers and product providers)
    _P("n_managers", int, 8, "agents", 1, 50,
       "assumption: a few large recordkeepers serve most participants", "managers",
       "Number of asset-manager (recordkeeper) agents."),
    _P("recordkeeper_concentration", float, 1.0, "Zipf exponent", 0.0, 4.0,
       "assumption (concentrated recordkeeping market)", "managers",
       "Recordkeeping shares fall as 1 / rank^exponent (0: equal shares)."),
    _P("manager_refusal_share", float, 0.25, "share of managers", 0.0, 1.0,
       "assumption; e.g. Vanguard declined to offer spot bitcoin ETFs (Jan 2024, press)",
       "managers", "Share of managers that refuse crypto outright."),
    _P("manager_launch_threshold", float, 3.5, "readiness units", -10.0, 20.0,
       "assumption; with the weights below: one precedent seller at quarter 0, most willing"
       " managers selling once the rule is final", "managers",
       "Mean readiness a manager needs to launch its first product (each draws +-0.5 around it).",
       behavioural=True),
    _P("manager_demand_weight", float, 3.0, "readiness per unit share wanting", 0.0, 50.0,
       "assumption", "managers",
       "Weight of expected demand (share of its plans' participants wanting crypto)."),
    _P("manager_clarity_weight", float, 3.0, "readiness per unit clarity", 0.0, 50.0,
       "assumption", "managers", "Weight of regulatory clarity in launch/withdraw decisions.",
       behavioural=True),
    _P("manager_rival_weight", float, 1.0, "readiness per unit share", 0.0, 50.0,
       "assumption", "managers",
       "Weight of rivals' recordkeeping share already selling crypto (competitive pressure)."),
    _P("manager_risk_weight", float, 2.0, "readiness per unit risk", 0.0, 50.0,
       "assumption", "managers",
       "Weight of litigation climate and scandal salience against selling crypto."),
    _P("manager_hysteresis", float, 1.0, "readiness units", 0.0, 20.0,
       "assumption", "managers",
       "How far readiness must fall below a product's launch level before it may be withdrawn."),
    _P("manager_withdraw_rate", float, 0.35, "per quarter", 0.0, 1.0,
       "assumption: closing a fund takes a board decision and a 60-90 day notice to holders, so"
       " about three quarters on average", "managers",
       "Chance a quarter that a manager below its withdrawal level withdraws the product."),
    _P("fee_floor", float, 0.0020, "share of assets a year", 0.0, 0.05,
       "2024 spot bitcoin ETF fee war: 0.20-0.25% (IBIT 0.25%, ARKB 0.21%)", "managers",
       "Fee a spot fund converges to under many sellers (index +0.05, managed +0.15 points)."),
    _P("fee_competition", float, 1.0, "exponent", 0.0, 5.0,
       "assumption", "managers",
       "Competitive fee = floor + (ceiling - floor) / sellers^exponent."),
    _P("fee_adjust_speed", float, 0.5, "share per quarter", 0.0, 1.0,
       "assumption", "managers", "Share of the gap to the competitive fee closed each quarter."),
    _P("switching_cost", float, 1.5, "log-odds", 0.0, 20.0,
       "assumption", "managers",
       "Penalty on an employer's add decision when only another manager than its recordkeeper"
       " sells crypto."),
    _P("manager_marketing_strength", float, 0.3, "cue units", 0.0, 10.0,
       "assumption", "managers",
       "Attention cue per unit of (recordkeeping share x appetite) of managers selling crypto.",
       behavioural=True),
    _P("manager_lobbying_share", float, 0.1, "share of fee revenue", 0.0, 1.0,
       "assumption", "managers",
       "Share of crypto fee revenue a manager spends on lobbying (x (1 + 4 x crackdown threat))."),
    # --- politics: Congress, the administration, bills, elections
    _P("house_republican_seats", int, 220, "seats", 0, 435,
       "119th Congress (Jan 2025): 220 R, 215 D", "politics",
       "Republican House seats at quarter 0 (the most Republican-leaning districts)."),
    _P("senate_republican_seats", int, 53, "seats", 0, 100,
       "119th Congress (Jan 2025): 53 R, 47 D and independents", "politics",
       "Republican Senate seats at quarter 0."),
    _P("ideology_mean_r", float, 3.41, "log-odds", -10.0, 10.0,
       CALIBRATED + "; derived: FIT21 (House, 22 May 2024) Republicans 208-3; with ideology_mean_d gives ~278"
       " pro-crypto House members (Stand With Crypto, Jan 2025)", "politics",
       "Mean crypto ideology of Republican members (log-odds of voting against a crackdown)."),
    _P("ideology_mean_d", float, -0.9, "log-odds", -10.0, 10.0,
       CALIBRATED + "; derived: FIT21 Democrats 71-133 (35% pro), CLARITY 78 Democrats in favour", "politics",
       "Mean crypto ideology of Democratic members."),
    _P("ideology_sd", float, 1.06, "log-odds", 0.01, 10.0,
       CALIBRATED, "politics", "Spread of ideology within a party."),
    _P("stance_adjust_speed", float, 0.5, "share per quarter", 0.0, 1.0,
       "assumption", "politics", "Share of the gap to the target stance closed each quarter."),
    _P("reelection_concern_mean", float, 0.6, "0-1", 0.0, 1.0,
       "assumption", "politics", "Mean weight members give their constituents' pressure."),
    _P("votes_per_district", float, 350_000.0, "voters", 1e4, 2e6,
       "derived: about 152 million votes cast in Nov 2024 / 435 districts", "politics",
       "Votes cast per House district (a state: times its seats)."),
    _P("exposure_weight", float, 25.0, "log-odds per unit exposure per voter", 0.0, 200.0,
       "assumption", "politics",
       "Constituent pressure per unit of exposure per voter cast in the seat (the moat's strength).",
       behavioural=True),
    _P("exposure_half_stake_usd", float, 10_000.0, "USD", 1.0, 1e6,
       "assumption: exposure saturates in the dollars at stake (diminishing sensitivity, Kahneman"
       " & Tversky 1979); half-saturation near 7% of the average balance ($148,153, Vanguard 2025)",
       "politics",
       "Crypto held by a voter at which the voter's exposure is half its maximum."),
    _P("exposure_gain_weight", float, 1.0, "per unit quarterly return", 0.0, 10.0,
       "assumption: recent gains strengthen, losses weaken a holder's support (loss aversion)",
       "politics",
       "Exposure multiplies by max(0, 1 + weight x last quarter's return on the holding)."),
    _P("exposure_news_salience", float, 1.0, "per unit |log return|", 0.0, 10.0,
       "assumption: large price moves make the issue salient", "politics",
       "Salience of the issue added per unit absolute 4-quarter log return (1 when calm)."),
    _P("exposure_in_politics", bool, True, "switch", None, None,
       "scenario switch: false removes voters' crypto stake from every political decision (the"
       " moat experiment's counterfactual)", "politics",
       "Whether constituents' exposure reaches members' stances, elections and the administration."),
    _P("scandal_weight", float, 1.5, "log-odds per unit salience", 0.0, 20.0,
       "assumption", "politics", "Stance every member loses per unit scandal salience.",
       behavioural=True),
    _P("industry_lobbying_usd", float, 16e6, "USD per quarter", 0.0, 1e10,
       "derived: Fairshake PAC spent ~$130M+ in the 2024 cycle (OpenSecrets), ~$16M a quarter",
       "politics", "Crypto-industry lobbying and campaign money outside the 401(k) managers."),
    _P("lobbying_memory", float, 0.75, "share kept per quarter", 0.0, 0.99,
       "assumption", "politics", "Share of a member's lobbying stock carried to the next quarter."),
    _P("lobbying_ref_usd", float, 100_000.0, "USD", 1.0, 1e9,
       "assumption", "politics", "Lobbying stock at which the effect is lobbying_weight x ln 2."),
    _P("lobbying_weight", float, 0.3, "log-odds per unit ln(1 + stock/ref)", 0.0, 10.0,
       "assumption", "politics", "Stance bought by lobbying.", behavioural=True),
    _P("mood_sd", float, 0.5, "log-odds", 0.0, 10.0,
       "assumption", "politics",
       "Spread of a bill's national mood shock shared by every member's vote on it."),
    _P("crackdown_bill_rate", float, 0.02, "per quarter", 0.0, 5.0,
       "assumption", "politics",
       "Rate at which crackdown bills reach floor votes in calm times under a neutral administration."),
    _P("protection_bill_rate", float, 0.01, "per quarter", 0.0, 5.0,
       "assumption", "politics",
       "Rate at which bills codifying the safe harbour reach floor votes (neutral administration)."),
    _P("codify_response", float, 4.0, "ratio", 0.0, 50.0,
       "assumption: a rescission puts codifying the safe harbour on Congress's agenda", "politics",
       "While the rule stands rescinded, the protection bill rate multiplies by 1 + this."),
    _P("senate_cloture", int, 60, "votes", 51, 100,
       "Senate Rule XXII: 60 votes end debate on a bill (the filibuster); a scenario sets 51 for a"
       " bill passed by reconciliation or after the filibuster is abolished", "politics",
       "Senate votes a crackdown or protection bill needs."),
    _P("bill_crisis_sensitivity", float, 4.0, "per unit crisis", 0.0, 100.0,
       "assumption", "politics",
       "Crackdown rate multiplier per unit crisis (excess drawdown / 0.5 + scandal salience)."),
    _P("ban_share", float, 0.3, "share of crackdown bills", 0.0, 1.0,
       "assumption", "politics",
       "Share of crackdown bills that remove crypto from plans (the rest tighten the rule)."),
    _P("administration_stance_initial", float, 0.8, "-1 to +1", -1.0, 1.0,
       "EO 14330 (7 Aug 2025): a crypto-friendly administration", "politics",
       "Crypto stance of the administration at quarter 0."),
    _P("candidate_stance_r", float, 0.6, "-1 to +1", -1.0, 1.0,
       "assumption", "politics", "Mean crypto stance of Republican presidential candidates."),
    _P("candidate_stance_d", float, -0.2, "-1 to +1", -1.0, 1.0,
       "assumption", "politics", "Mean crypto stance of Democratic presidential candidates."),
    _P("candidate_stance_sd", float, 0.3, "-1 to +1", 0.0, 2.0,
       "assumption", "politics", "Spread of presidential candidates' crypto stances."),
    _P("rescind_threshold", float, -0.3, "-1 to +1", -1.0, 1.0,
       "assumption", "politics",
       "Administration stance at which a rescission is as likely as not (without voters' exposure)."),
    _P("rescind_spread", float, 0.1, "-1 to +1", 0.01, 1.0,
       "assumption", "politics",
       "Spread of the administration's rescission decision around the threshold (logistic scale)."),
    _P("rescission_exposure_weight", float, 10.0, "stance per unit exposure index", 0.0, 100.0,
       "assumption: voters who hold crypto in their plans punish a rescission", "politics",
       "Stance an administration gives up for each unit of national exposure before rescinding.",
       behavioural=True),
    _P("candidate_exposure_weight", float, 10.0, "stance per unit exposure index", 0.0, 100.0,
       "assumption: candidates court voters with a stake", "politics",
       "Pull of the national exposure index on both presidential candidates' crypto stances."),
    _P("rule_action_lag", int, 1, "quarters", 0, 16,
       "assumption (CAR 2025-01 rescinded the 2022 release in one stroke)", "politics",
       "Quarters after taking office before an administration acts on the rule."),
    _P("forced_turn_quarter", int, -1, "quarter", -1, 400,
       "scenario switch (-1: none); hostile_turn uses 13 (Nov 2028)", "politics",
       "Presidential election quarter whose winner is forced to forced_turn_stance."),
    _P("forced_turn_stance", float, -0.8, "-1 to +1", -1.0, 1.0,
       "scenario switch", "politics", "Stance of the administration forced by forced_turn_quarter."),
    _P("party_vote_weight", float, 2.0, "log-odds per unit party lean", 0.0, 20.0,
       "assumption", "politics", "Weight of party lean in a voter's choice."),
    _P("crypto_vote_weight", float, 1.0, "log-odds per unit interest x stance gap", 0.0, 20.0,
       "assumption", "politics",
       "Weight of a 401(k) crypto holder's interest in the candidates' crypto stance gap.",
       behavioural=True),
    _P("incumbency_advantage", float, 0.4, "log-odds", 0.0, 5.0,
       "assumption (House incumbents re-elected ~90%+)", "politics",
       "Vote advantage of an incumbent over a challenger."),
    _P("national_swing_sd", float, 0.03, "vote share", 0.0, 0.5,
       "assumption", "politics", "Spread of the national swing toward one party in an election."),
    _P("district_swing_sd", float, 0.05, "vote share", 0.0, 0.5,
       "assumption", "politics", "Spread of seat-level noise in a vote share."),
    _P("retirement_rate", float, 0.1, "share per election", 0.0, 1.0,
       "assumption (about 40-50 House members leave each cycle)", "politics",
       "Share of members up for election who retire (open seats)."),
    _P("replacement_pull", float, 0.5, "share", 0.0, 1.0,
       "assumption", "politics",
       "How far a new candidate's ideology is drawn toward the seat's preference."),
    # --- events: fraud at a custodian or product
    _P("fraud_quarter", int, -1, "quarter", -1, 400,
       "scenario switch (-1: none); fraud_scandal uses 6 (2027Q1)", "events",
       "Quarter in which a fraud at a crypto custodian or product comes to light."),
    _P("fraud_rate", float, 0.0, "per quarter", 0.0, 1.0,
       "scenario switch", "events", "Chance of a fraud in any quarter."),
    _P("fraud_loss_share", float, 0.3, "share of the manager's crypto AUM", 0.0, 1.0,
       "assumption; Ontario Teachers lost its whole US$95M FTX stake (Nov 2022)", "events",
       "Share of the crypto held in the victim manager's products that is destroyed."),
    _P("fraud_salience", float, 0.5, "salience units (attention hazard per quarter)", 0.0, 5.0,
       "assumption", "events",
       "Scandal salience added by a fraud: participants' attention hazard, lawsuits, stances."),
    _P("fraud_salience_memory", float, 0.6, "share kept per quarter", 0.0, 0.99,
       "assumption", "events", "Share of scandal salience carried to the next quarter."),
    _P("fraud_market_drop", float, 0.2, "share of market value", 0.0, 0.9,
       "FTX collapse (Nov 2022): crypto market down about a fifth within weeks (press)",
       "events", "One-quarter fall of the crypto market when a fraud comes to light."),
    # --- policy levers the order leaves open (retirement security)
    _P("glide_path_years", float, 0.0, "years", 0.0, 40.0,
       "policy lever (0: none); age_cap uses 15, like target-date glide paths cutting risk over"
       " the last 15-20 years", "policy",
       "Years before retirement over which the allowed crypto share falls linearly to 0 (the cap"
       " on choices and on balances).", behavioural=True),
    _P("sleeve_glide_years", float, 0.0, "years", 0.0, 40.0,
       "policy lever (0: none); tdf_glide uses 15", "policy",
       "Years before retirement over which a default product's crypto sleeve falls to 0.",
       behavioural=True),
    _P("risk_warning", bool, False, "switch", None, None,
       "policy lever: a mandatory risk warning before choosing crypto", "policy",
       "Whether participants see a mandatory risk warning (effects below)."),
    _P("warning_uptake_cut", float, 0.3, "utility", 0.0, 5.0,
       "assumption: disclosures change fund choices little (Beshears, Choi, Laibson & Madrian"
       " 2011)", "policy", "Utility a risk warning takes off holding crypto."),
    _P("warning_trend_cut", float, 0.3, "share of extrapolation", 0.0, 1.0,
       "assumption", "policy", "Share of trend chasing a risk warning removes."),
    _P("warning_drawdown_attention", float, 0.2, "per quarter per unit drawdown", 0.0, 5.0,
       "assumption", "policy",
       "Attention hazard a risk warning adds per unit drawdown (holders look at falls)."),
    # --- structure: constants of the mechanisms' form, declared so the ODD tables, sensitivity
    # analysis and calibration reach them like any other parameter (not sliders)
    _P("retirement_age_sd", float, 2.0, "years", 0.0, 10.0,
       "assumption: retirement ages spread around the mean", "structure",
       "Spread of the age at which each participant retires."),
    _P("late_retirement_mean_years", float, 3.0, "years", 0.25, 20.0,
       "assumption: workers past their drawn age keep working a while", "structure",
       "Mean extra working years (exponential) of a quarter-0 worker already past the drawn"
       " retirement age, so that they do not all retire at once."),
    _P("entry_age_min", float, 21.0, "years", 16.0, 40.0,
       "assumption", "structure", "Youngest age of a new worker entering the plans."),
    _P("entry_age_max", float, 30.0, "years", 16.0, 60.0,
       "assumption", "structure", "Oldest age of a new worker entering the plans."),
    _P("salary_sd", float, 0.5, "log dollars", 0.0, 2.0,
       "assumption, of the order of the within-age spread of earnings (BLS)", "structure",
       "Lognormal spread of salaries around the age band's median."),
    _P("deferral_sd", float, 0.35, "log share", 0.0, 2.0,
       "assumption", "structure",
       "Lognormal (mean-preserving) spread of deferral rates around the age band's mean."),
    _P("risk_target_sd", float, 0.5, "log share", 0.0, 2.0,
       "assumption: advisers' allocations spread over 1-5% (Bitwise/VettaFi 2026)", "structure",
       "Lognormal spread of participants' preferred crypto allocation around target_allocation."),
    _P("attentiveness_sd", float, 0.8, "log units", 0.0, 3.0,
       "assumption: a few participants trade often, most rarely (Mitchell et al. 2006: 80% no"
       " trade, 2.2% 6-50 trades over two years)", "structure",
       "Lognormal (mean one) spread of the attention hazard across participants."),
    _P("trend_trait_sd", float, 0.5, "log units", 0.0, 3.0,
       "assumption", "structure",
       "Lognormal (mean one) spread of trend chasing across participants."),
    _P("loss_aversion_sd", float, 0.5, "log units", 0.0, 3.0,
       "assumption", "structure",
       "Lognormal (mean one) spread of the excess of loss aversion over 1."),
    _P("party_lean_sd", float, 0.8, "lean units", 0.0, 5.0,
       "assumption", "structure",
       "Spread of a voter's party lean around the district's (before the tanh)."),
    _P("affinity_party_slope", float, 0.15, "utility per unit lean", -2.0, 2.0,
       "derived: 18% of conservatives vs 10% of Democrats own crypto (Gallup 2025)", "structure",
       "Crypto affinity added per unit Republican party lean."),
    _P("district_share_sd", float, 0.3, "log units", 0.0, 2.0,
       "assumption: 401(k) coverage varies with local income and employment", "structure",
       "Lognormal spread of congressional districts' shares of 401(k) participants."),
    _P("district_lean_sd", float, 0.6, "lean units", 0.0, 3.0,
       "assumption, of the order of the Cook PVI spread", "structure",
       "Spread of districts' partisan lean (positive: Republican)."),
    _P("seat_party_noise", float, 0.3, "lean units", 0.0, 3.0,
       "assumption", "structure",
       "Noise on a seat's lean when the quarter-0 parties are assigned by lean."),
    _P("plan_size_sd", float, 0.8, "log participants", 0.0, 3.0,
       "assumption", "structure",
       "Lognormal spread of plan sizes within a PLANSPONSOR segment."),
    _P("large_plan_auto_enrol_factor", float, 1.28, "ratio", 0.0, 5.0,
       "derived: 78% of plans with 1,000+ participants auto-enrol vs 61% of all plans"
       " (Vanguard How America Saves 2025): 0.78 / 0.61", "structure",
       "Auto-enrolment share of large plans relative to all plans."),
    _P("match_plan_share", float, 0.96, "share of plans", 0.0, 1.0,
       "Vanguard: 96% of plans make employer contributions (2024)", "structure",
       "Share of employers that match contributions."),
    _P("match_rate", float, 0.5, "USD per USD deferred", 0.0, 2.0,
       "Vanguard: most common formula 50% on the first 6% of pay", "structure",
       "Employer match per dollar deferred, up to match_cap."),
    _P("match_cap", float, 0.06, "share of salary", 0.0, 0.5,
       "Vanguard: most common formula 50% on the first 6% of pay", "structure",
       "Deferral share of salary the employer matches up to."),
    _P("cap_caution_cut", float, 0.75, "share of the cap", 0.0, 1.0,
       "assumption: the most cautious sponsors cap crypto at a quarter of allocation_cap",
       "structure", "Cap an employer sets = allocation_cap x (1 - cap_caution_cut x caution)."),
    _P("cautious_sponsor_threshold", float, 0.6, "0-1", 0.0, 1.0,
       "assumption", "structure",
       "Caution above which a sponsor prefers a professionally managed account when one is sold."),
    _P("n_industries", int, 10, "count", 1, 100,
       "assumption", "structure", "Industries employers belong to (peer-network neighbourhoods)."),
    _P("n_regions", int, 4, "count", 1, 50,
       "assumption: the four Census regions", "structure",
       "Regions employers belong to (peer-network neighbourhoods)."),
    _P("employer_network_degree", int, 6, "links", 2, 50,
       "assumption", "structure",
       "Peers of each employer in the Watts-Strogatz small world (even)."),
    _P("employer_network_rewire", float, 0.1, "probability", 0.0, 1.0,
       "assumption: a small world (Watts & Strogatz 1998)", "structure",
       "Chance that a peer link leaves the industry/region neighbourhood."),
    _P("lawsuit_memory_quarters", int, 8, "quarters", 1, 40,
       "assumption: fiduciary suits stay in the news about two years", "structure",
       "How long an employer (and its peers) remember a lawsuit against it."),
    _P("peer_lawsuit_weight", float, 0.5, "risk per unit share of peers sued", 0.0, 10.0,
       "assumption", "structure",
       "Litigation risk an employer adds per unit share of its peers sued recently."),
    _P("ordinary_drawdown", float, 0.3, "share of peak", 0.0, 1.0,
       "assumption: a 30% fall is ordinary for crypto (60-day volatility ~50%, Kaiko)",
       "structure",
       "Drawdown beyond which a fall counts as a crisis (lawsuits, crackdown bills)."),
    _P("crisis_drawdown_scale", float, 0.5, "share of peak", 0.01, 1.0,
       "assumption: an 80% fall (0.3 + 0.5) is a full crisis", "structure",
       "Excess drawdown that makes one unit of crisis (lawsuits, crackdown bills)."),
    _P("manager_appetite_weight", float, 2.0, "readiness per unit appetite", 0.0, 20.0,
       "assumption", "structure", "Readiness a manager's own crypto appetite adds."),
    _P("manager_threshold_sd", float, 0.5, "readiness units", 0.0, 5.0,
       "assumption", "structure",
       "Spread of managers' own launch thresholds around manager_launch_threshold."),
    _P("fee_markup_sd", float, 0.05, "share of the fee", 0.0, 0.15,
       "assumption", "structure",
       "Spread of managers' brand markups on the competitive fee (clipped to +-15%)."),
    _P("fraud_penalty", float, 2.0, "readiness units", 0.0, 20.0,
       "assumption", "structure",
       "Reputational penalty on the readiness of a manager whose products suffered a fraud."),
    _P("fraud_penalty_memory", float, 0.5, "share kept per quarter", 0.0, 1.0,
       "assumption: reputations recover by half each quarter", "structure",
       "Share of a manager's fraud penalty carried to the next quarter."),
    _P("lobbying_threat_factor", float, 4.0, "per unit threat", 0.0, 50.0,
       "assumption", "structure",
       "Managers' lobbying multiplies by 1 + factor x the chance a crackdown would pass."),
]
# fmt: on

PARAMETERS: dict[str, Parameter] = {p.name: p for p in _DECLARED}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(p.group for p in _DECLARED))


def defaults() -> dict[str, Any]:
    """Every parameter at its declared default."""
    return {name: p.default for name, p in PARAMETERS.items()}


def get(name: str, source: str | None = None) -> Parameter:
    """The declaration of `name`, or an InputError listing a close match."""
    try:
        return PARAMETERS[name]
    except KeyError:
        raise InputError(
            f"unknown parameter{did_you_mean(name, PARAMETERS)}",
            source=source,
            key=name,
            allowed="see `crypto401k params`",
        ) from None


# --- the pydantic model of the declaration
def _whole_number(value: Any) -> Any:
    """2.0 is accepted where an integer is declared (TOML and JSON writers emit it)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def field_type(p: Parameter) -> Any:
    """The pydantic type of a parameter's value: its declared type and allowed range, strict."""
    from typing import Annotated

    from pydantic import BeforeValidator, Field, StrictBool

    if p.type is bool:
        return StrictBool
    if p.type is int:
        return Annotated[int, BeforeValidator(_whole_number), Field(ge=p.low, le=p.high, strict=True)]
    return Annotated[float, Field(ge=p.low, le=p.high, allow_inf_nan=False, strict=True)]


@functools.cache
def section_model(
    wrap: Callable[[Any, Parameter], tuple[Any, dict]] | None = None, name: str = "Parameters"
) -> type:
    """A pydantic model of a table of parameters, every field optional and unknown names refused.

    wrap(type, p) -> (field type, extra Field arguments) turns a value's type into the field's,
    e.g. a list of values for an experiment's [grid]; by default a field holds one value.
    """
    from typing import ClassVar

    from pydantic import BaseModel, ConfigDict, Field, create_model

    class Section(BaseModel):
        model_config = ConfigDict(extra="forbid")
        UNKNOWN: ClassVar[str] = "unknown parameter"
        ALLOWED_KEYS: ClassVar[str] = "see `crypto401k params`"

    fields = {}
    for p in PARAMETERS.values():
        kind, extra = wrap(field_type(p), p) if wrap else (field_type(p), {"description": p.allowed})
        fields[p.name] = (kind, Field(default=None, **extra))
    return create_model(name, __base__=Section, **fields)


def validate(values: dict[str, Any], source: str | None = None, key: str | None = None) -> dict[str, Any]:
    """`values` checked against the declaration and converted to the declared types.

    Raises InputError naming the first unknown name, wrong type or out-of-range value (its key
    is the parameter name, prefixed with `key.` when given).
    """
    from pydantic import ValidationError

    model = section_model()
    try:
        checked = model.model_validate(values)
    except ValidationError as exc:
        raise from_validation(
            exc, model, source=source, key=lambda loc: f"{key}.{loc[0]}" if key else str(loc[0])
        ) from None
    return {name: getattr(checked, name) for name in values}


# Pairs that must be ordered, lower first: each value alone is in range, but not every pair is.
ORDERED = (("entry_age_min", "entry_age_max"),)


def inconsistency(values: dict[str, Any]) -> tuple[str, str] | None:
    """The first ordered pair (lower, upper) that `values` (a full parameter set) reverses, or None."""
    return next(((lo, hi) for lo, hi in ORDERED if values[lo] > values[hi]), None)


def check_consistent(values: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """`values` (a full parameter set), or an InputError naming a pair given in the wrong order."""
    pair = inconsistency(values)
    if pair is not None:
        lo, hi = pair
        raise InputError(
            f"{values[lo]:g} is above {hi} = {values[hi]:g}", source=source, key=lo, allowed=f"at most {hi}"
        )
    return values


def resolve(overrides: dict[str, Any] | None = None, source: str | None = None) -> dict[str, Any]:
    """The full parameter set: defaults updated by validated overrides."""
    out = defaults()
    out.update(validate(overrides or {}, source))
    return out


def parse_assignments(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """`["name=value", ...]` from the command line, checked against the declaration.

    A parameter given twice is refused rather than resolved silently by order.
    """
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise InputError(
                f"expected name=value, got {item!r}",
                key="--set",
                allowed="name=value with a declared parameter name",
            )
        name, text = (part.strip() for part in item.split("=", 1))
        value = get(name, "--set").parse(text, "--set")
        if name in out:
            raise InputError(
                f"set twice ({out[name]!r} and {value!r})",
                source="--set",
                key=name,
                allowed="each parameter once",
            )
        out[name] = value
    return out

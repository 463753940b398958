"""The stable output names (one row per quarter) and the reporters that read them from the model.

These names are the contract with the command line, experiment files, the batch store, the
reports and the browser app. Shares are shares of 1; dollars are US-scale (agent sums times the
agent weight). `quarter_outputs` only reads the model: the step keeps every running total in
`model.record` (model/record.py), so reading the outputs twice gives the same row and changes
nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from agents.participant import rule as rules
from model.calendar import quarter_to_date
from model.quantiles import order_statistics

if TYPE_CHECKING:
    import mesa

COHORTS = {"under35": (0.0, 35.0), "35_49": (35.0, 50.0), "50_64": (50.0, 65.0)}
SHORTFALL = 0.9  # a balance more than 10% below the no-crypto counterfactual
BEHIND = 0.95  # a holder more than 5% behind the no-crypto counterfactual
NEAR_RETIREMENT_YEARS = 10.0
AGES = {"under35": "under 35", "35_49": "aged 35-49", "50_64": "aged 50-64"}
HOLDER = (
    "holders: participants who hold crypto in the plan or have held it since the order (1 when"
    " there are none)"
)
SHADOW = ", their crypto valued at price_index_no_401k: what they would have if their plans' buying had not moved the price"


def _holder_outputs() -> dict[str, tuple[str, str]]:
    """The holders' retirement outputs: per cohort and at retirement, at the market's and at
    the shadow price."""
    out: dict[str, tuple[str, str]] = {}
    groups = [(f"_{c}", f"{HOLDER} {ages}") for c, ages in AGES.items()]
    groups.append(
        ("", "holders at the moment they retired, over everyone who retired so far (1 before anyone)")
    )
    for suffix, who in groups:
        prefix = "retiree_holder" if not suffix else "holder"
        for price, note in (("", ""), ("_at_shadow_price", SHADOW)):
            out[f"{prefix}_balance_ratio_median{suffix}{price}"] = (
                "ratio",
                f"median of balance / no-crypto counterfactual balance among {who}{note}",
            )
            out[f"{prefix}_balance_ratio_p5{suffix}{price}"] = (
                "ratio",
                f"5th percentile of balance / no-crypto counterfactual balance among {who}{note}",
            )
            out[f"{prefix}_share_behind_5pct{suffix}{price}"] = (
                "share of holders",
                f"share more than 5% below their no-crypto counterfactual among {who}{note} (0 without holders)",
            )
    return out


# name: (unit, meaning)
OUTPUTS: dict[str, tuple[str, str]] = {
    "quarter": ("quarter", "model quarter; 0 = 2025Q3, the quarter of EO 14330"),
    "date": ("YYYYQn", "calendar quarter"),
    # adoption
    "adoption_rate": ("share of participants", "participants holding any crypto (by choice or by default)"),
    "active_adoption_rate": ("share of participants", "participants holding crypto by their own choice"),
    "default_adoption_rate": (
        "share of participants",
        "participants holding crypto through a default product's sleeve",
    ),
    "plans_offering_share": (
        "share of plans",
        "plans whose menu has a crypto option or a default product with a crypto sleeve",
    ),
    "participants_offered_share": (
        "share of participants",
        "participants whose plan offers crypto in either way: a menu option, or a default product"
        " with a crypto sleeve (the plans of plans_offering_share)",
    ),
    "participants_with_option_share": (
        "share of participants",
        "participants whose plan menu has a crypto option they may choose (part of"
        " participants_offered_share)",
    ),
    # holdings and flows
    "crypto_aum_usd": ("USD", "crypto held in 401(k) accounts at quarter end"),
    "crypto_units_held": ("units", "crypto the plans hold, in units of the asset (1 unit = $1 at quarter 0)"),
    "holdings_share_of_float": (
        "share of 1",
        "the plans' units as a share of the tradable float now (never above 1)",
    ),
    "supply_response_units": (
        "units",
        "units long-term holders have sold into the market because 401(k) flows lifted the price:"
        " the tradable float's growth beyond its quarter-0 size",
    ),
    "invested_usd": (
        "USD per quarter",
        "new money committed to crypto: contributions + purchases - cost basis of the units sold"
        " (retirement withdrawals excluded); the figure comparable with '1% of $8.7T = $87B'",
    ),
    "cumulative_invested_usd": ("USD", "invested_usd summed from quarter 0"),
    "contributions_to_crypto_usd": (
        "USD per quarter",
        "payroll contributions into crypto (the active option and the default sleeve's share)",
    ),
    "purchases_usd": ("USD per quarter", "crypto bought with existing balances (moves, sleeve rebalancing)"),
    "sales_usd": (
        "USD per quarter",
        "crypto sold (panic, caps, plans dropping crypto, rebalancing), at the prices received",
    ),
    "withdrawals_crypto_usd": (
        "USD per quarter",
        "crypto paid out to people leaving the plans at retirement, at market value",
    ),
    "crypto_returns_usd": (
        "USD per quarter",
        "market gains (losses negative) on 401(k) crypto: appreciation",
    ),
    "realized_gains_usd": ("USD per quarter", "sales minus the cost basis of the units sold"),
    "fees_paid_usd": ("USD per quarter", "crypto product fees deducted from holders' balances"),
    "net_flow_usd": (
        "USD per quarter",
        "net 401(k) flow into the crypto market: contributions + purchases - sales - withdrawals",
    ),
    "cumulative_net_flow_usd": ("USD", "net flow summed from quarter 0"),
    "crypto_share_of_401k_assets": ("share of assets", "crypto_aum_usd / total_401k_assets_usd"),
    "total_401k_assets_usd": ("USD", "all 401(k) assets at quarter end"),
    # market
    "crypto_market_cap_usd": ("USD", "total crypto market value at quarter end"),
    "price_index": ("quarter 0 = 1", "crypto price index (USD per unit)"),
    "price_index_no_401k": (
        "quarter 0 = 1",
        "the price on the same exogenous path without any 401(k) order: exactly the no_401k run's price",
    ),
    "flow_price_impact": (
        "share of price",
        "price_index / price_index_no_401k - 1: price change attributable to 401(k) flow",
    ),
    "realized_vol": ("per year", "annualised volatility of the quarter's 13 weekly log returns"),
    "return_vol_1q": ("per year", "annualised volatility of 1-quarter log returns from quarter 0 to now"),
    "return_vol_4q": (
        "per year",
        "annualised volatility of overlapping 4-quarter log returns from quarter 0 to now (0 until two exist)",
    ),
    "return_vol_8q": (
        "per year",
        "annualised volatility of overlapping 8-quarter log returns from quarter 0 to now (0 until two exist)",
    ),
    "drawdown": ("share of 1", "fall of the price from its all-time weekly peak"),
    "max_drawdown": ("share of 1", "largest weekly-peak-to-trough fall so far"),
    "recovery_quarters": (
        "quarters",
        "quarters from the trough of the deepest quarter-end drawdown so far until the price regained"
        " its earlier peak (not yet regained: quarters since the trough)",
    ),
    # rules and products
    "rule_status": ("text", "DOL rule: order_only, proposed, final, rescinded or codified"),
    "channel_open": ("0 or 1", "1 while the 401(k) crypto channel is open (the rule is not rescinded)"),
    "clarity": ("0-1", "regulatory clarity employers and participants perceive"),
    "litigation_risk": ("0-1", "litigation climate plan sponsors read"),
    "products_offered": ("count", "crypto products on sale to plans"),
    "average_fee": (
        "share of assets a year",
        "unweighted mean annual fee of the crypto products on sale (0 when none is)",
    ),
    "asset_weighted_fee": (
        "share of assets a year",
        "annual fee holders pay, weighted by their crypto holdings (0 when nobody holds any)",
    ),
    # calibration moments (experiments/tuning): inertia, interest and chosen allocation sizes
    "annual_review_share": (
        "share of participants",
        "participants who would review their allocation at least once in a year at this quarter's"
        " attention hazards",
    ),
    "interest_share": (
        "share of participants",
        "participants whose utility of holding crypto is positive (would choose crypto if offered and attentive)",
    ),
    "mean_chosen_allocation": (
        "share of contributions and balance",
        "average crypto allocation of participants with an allocation above zero (0 when nobody has one)",
    ),
    # asset managers (model/product_market.py)
    "manager_crypto_aum_usd": (
        "USD",
        "crypto held in asset managers' products: menu options by seller, target-date sleeves by recordkeeper",
    ),
    "top_manager_share": ("share of 1", "largest manager's share of manager_crypto_aum_usd"),
    "managers_selling": ("count", "asset managers selling any crypto product"),
    "tdf_sleeves_offered": ("count", "managers whose target-date product has a crypto sleeve"),
    "marketing_cue": (
        "cue units",
        "attention cue participants in offering plans get from managers' marketing",
    ),
    "manager_lobbying_usd": ("USD per quarter", "asset managers' lobbying spend"),
    # events (model/events.py)
    "fraud": ("0 or 1", "a fraud at a custodian or product came to light this quarter"),
    "fraud_losses_usd": ("USD per quarter", "401(k) crypto destroyed by fraud, at the quarter-start price"),
    "scandal_salience": (
        "salience units",
        "news salience of scandals this quarter (attention hazard, lawsuits, stances)",
    ),
    # retirement security: each participant against the same person never holding crypto
    **{
        f"balance_ratio_{stat}_{cohort}": (
            "ratio",
            f"{label} of balance / no-crypto counterfactual balance among participants {ages}",
        )
        for cohort, ages in (("under35", "under 35"), ("35_49", "aged 35-49"), ("50_64", "aged 50-64"))
        for stat, label in (("median", "median"), ("p5", "5th percentile"))
    },
    "near_retirement_shortfall_share": (
        "share of participants",
        "participants within 10 years of their retirement age whose balance is more than 10% below"
        " their no-crypto counterfactual",
    ),
    "retiree_balance_ratio_median": (
        "ratio",
        "median balance / counterfactual at the moment of retirement, over everyone who retired so far (1 before anyone)",
    ),
    "retiree_balance_ratio_p5": ("ratio", "5th percentile of the same (1 before anyone retired)"),
    "retiree_shortfall_share": (
        "share of participants",
        "share of those who retired so far who left with more than 10% less than their counterfactual",
    ),
    **_holder_outputs(),
    "panic_sales_usd": (
        "USD per quarter",
        "proceeds of panic sales (holders selling everything after a drawdown)",
    ),
    "panic_cost_vs_holding_usd": (
        "USD",
        "value now of every unit sold in a panic so far minus what the sales raised (positive: holding would have been better)",
    ),
    "cumulative_fees_paid_usd": ("USD", "fees_paid_usd summed from quarter 0"),
    # politics (model/politics.py; definitions in the README)
    "moat_index": (
        "share of members",
        "net share of the 535 members whose expected vote on a standard crackdown flips to 'no'"
        " because of constituents' 401(k) crypto exposure",
    ),
    "moat_votes_house": (
        "votes",
        "expected House votes against a standard crackdown added by constituents' exposure",
    ),
    "crackdown_pass_probability": (
        "probability",
        "chance a standard crackdown bill introduced now becomes law (House majority, 60-vote Senate"
        " cloture, then signature or veto override)",
    ),
    "crackdown_pass_probability_no_exposure": (
        "probability",
        "the same with every member at the stance it would hold without constituents' exposure",
    ),
    "crackdown_congress_probability": (
        "probability",
        "chance a standard crackdown bill passes both chambers (before the administration acts)",
    ),
    "crackdown_votes_house": ("votes", "expected House votes for a standard crackdown bill (of 435)"),
    "pro_crypto_share_house": (
        "share of members",
        "House members more likely than not to vote against a crackdown",
    ),
    "pro_crypto_share_senate": (
        "share of members",
        "senators more likely than not to vote against a crackdown",
    ),
    "administration_stance": ("-1 to +1", "crypto stance of the administration (-1 hostile, +1 friendly)"),
    "voter_exposure": ("share of voters", "401(k) crypto holders as a share of votes cast nationally"),
    "exposure_index": (
        "exposure units per voter",
        "what voters nationally have at stake: mean over votes cast of each holder's saturating exposure"
        " (dollars held, recent gains, salience; 0 without holders)",
    ),
    "rescission_probability": (
        "probability",
        "chance the administration would rescind the rule if it acted now (0 for a friendly administration)",
    ),
    "popular_vote_r": (
        "share of votes",
        "Republican share of the last presidential popular vote (0 before one)",
    ),
    "electoral_votes_r": (
        "votes",
        "Republican electoral votes at the last presidential election (of 538; 0 before one)",
    ),
    "election": ("text", "'house' (House and a Senate third), 'presidential' (also the president) or ''"),
    "bill": ("text", "bills voted this quarter with their roll calls and results, or ''"),
    "crackdown_laws": ("count", "crackdown bills enacted so far"),
    "protection_laws": ("count", "protection bills enacted so far"),
    "members_replaced": ("count", "members of Congress replaced at this quarter's election"),
}


def quarter_outputs(model: mesa.Model) -> dict:
    """This quarter's value of every output, read from the model's state (changes nothing)."""
    pop, market, flows, record = model.population, model.market, model.flows, model.record
    w = pop.weight
    n = pop.n
    active = pop.units_active > 0.0
    default = pop.units_default > 0.0
    units = float((pop.units_active.sum() + pop.units_default.sum()) * w)
    crypto = units * market.price
    total = float(pop.balance.sum() * w)
    t = model.employer_table
    offers = t.offers | (model.products.sleeves(t) > 0)
    return {
        "quarter": model.quarter,
        "date": quarter_to_date(model.quarter),
        "adoption_rate": float((active | default).sum() / n),
        "active_adoption_rate": float(active.sum() / n),
        "default_adoption_rate": float(default.sum() / n),
        "plans_offering_share": float(offers.mean()) if len(offers) else 0.0,
        "participants_offered_share": float(model.offered_mask().mean()),
        "participants_with_option_share": float(model.option_mask().mean()),
        "crypto_aum_usd": crypto,
        "crypto_units_held": units,
        "holdings_share_of_float": float(market.holdings_share_of_float),
        "supply_response_units": float(market.float_units - market.float0),
        "invested_usd": float(flows.invested * w),
        "cumulative_invested_usd": float(record.cumulative_invested),
        "contributions_to_crypto_usd": float(flows.contributions * w),
        "purchases_usd": float(flows.purchases * w),
        "sales_usd": float(flows.sales * w),
        "withdrawals_crypto_usd": float(flows.withdrawals * w),
        "crypto_returns_usd": float(flows.returns * w),
        "realized_gains_usd": float(flows.realized_gains * w),
        "fees_paid_usd": float(flows.fees * w),
        "net_flow_usd": float(flows.net * w),
        "cumulative_net_flow_usd": float(record.cumulative_net_flow),
        "crypto_share_of_401k_assets": crypto / total if total > 0 else 0.0,
        "total_401k_assets_usd": total,
        "crypto_market_cap_usd": float(market.cap),
        "price_index": float(market.price_index),
        "price_index_no_401k": float(market.price_index_no_401k),
        "flow_price_impact": float(market.price_index / market.price_index_no_401k - 1.0),
        "realized_vol": float(market.realized_vol),
        "return_vol_1q": market.return_volatility(1),
        "return_vol_4q": market.return_volatility(4),
        "return_vol_8q": market.return_volatility(8),
        "drawdown": float(market.drawdown),
        "max_drawdown": float(market.max_drawdown),
        "recovery_quarters": market.recovery_quarters(),
        "rule_status": model.regulation.status,
        "channel_open": int(model.regulation.status != "rescinded"),
        "clarity": float(model.regulation.clarity),
        "litigation_risk": float(model.litigation.level),
        "products_offered": int(model.products.products_offered()),
        "average_fee": float(model.products.average_fee()),
        "asset_weighted_fee": _asset_weighted_fee(model),
        **_calibration_moments(model),
        **model.products.metrics(),
        **model.events.metrics(),
        **_retirement_security(model),
        **model.politics.metrics(),
    }


def _asset_weighted_fee(model: mesa.Model) -> float:
    """Annual fee holders pay, weighted by what they hold (share of assets a year)."""
    pop, view = model.population, model.employer_view
    e = pop.employer
    held = pop.units_active + pop.units_default
    total = float(held.sum())
    if total <= 0.0:
        return 0.0
    return float((pop.units_active * view.fee[e] + pop.units_default * view.sleeve_fee[e]).sum() / total)


def _calibration_moments(model: mesa.Model) -> dict:
    """Inertia, interest and allocation size, read from the participants' state (shares of 1)."""
    pop = model.population
    p_quarter = pop.attention  # this quarter's decision pass computed it, if one ran
    if p_quarter is None:
        p_quarter = rules.attention_probability(
            pop.attentiveness, model.employer_view.cue[pop.employer], pop.peer_share, model.market_view, pop.k
        )
    counts = pop.employer_count()
    chosen = pop.alloc[pop.alloc > 0.0]
    return {
        "annual_review_share": float(np.mean(1.0 - (1.0 - p_quarter) ** 4)),
        "interest_share": float((pop.interest_by_employer * counts).sum() / pop.n),
        "mean_chosen_allocation": float(chosen.mean()) if chosen.size else 0.0,
    }


def _retirement_security(model: mesa.Model) -> dict:
    """What holding crypto did to the savers: balance against the no-crypto counterfactual.

    A saver who never held crypto has a ratio of exactly 1 (the same money, the same returns),
    so the order statistics over everyone read the holders' ratios and count the rest.
    """
    pop, record = model.population, model.record
    age, held = pop.age, pop.held
    out = {}
    edges = [hi for _lo, hi in COHORTS.values()]  # cohorts are consecutive age bands from 0
    older = [age >= hi for hi in edges]
    cohort = sum(o.view(np.int8) for o in older)  # band index; len(COHORTS): older than all
    above = [len(age)] + [int(o.sum()) for o in older]
    size = [above[k] - above[k + 1] for k in range(len(edges))]
    holders = np.flatnonzero(held)
    by_cohort = cohort[holders]
    shadow = model.market.price_index_no_401k
    for k, name in enumerate(COHORTS):
        mine = holders[by_cohort == k]
        others = int(size[k]) - len(mine)
        ratio = pop.holder_ratios(mine)
        median, (p5,) = order_statistics(ratio, (5.0,), ones=others) if size[k] else (1.0, [1.0])
        out[f"balance_ratio_median_{name}"] = median
        out[f"balance_ratio_p5_{name}"] = p5
        out.update(_holders(ratio, f"_{name}", "holder"))
        out.update(_holders(pop.holder_ratios(mine, shadow), f"_{name}_at_shadow_price", "holder"))
    near = age >= pop.retire_age - NEAR_RETIREMENT_YEARS
    near_holders = np.flatnonzero(near & held)
    short = int((pop.holder_ratios(near_holders) < SHORTFALL).sum())
    out["near_retirement_shortfall_share"] = short / int(near.sum()) if near.any() else 0.0
    retired, never = record.retiree_ratios(), record.retirees_never_held
    count = len(retired) + never
    median, (p5,) = order_statistics(retired, (5.0,), ones=never) if count else (1.0, [1.0])
    out["retiree_balance_ratio_median"] = median
    out["retiree_balance_ratio_p5"] = p5
    out["retiree_shortfall_share"] = float((retired < SHORTFALL).sum() / count) if count else 0.0
    out.update(_holders(retired, "", "retiree_holder"))
    out.update(_holders(record.retiree_ratios(at_shadow_price=True), "_at_shadow_price", "retiree_holder"))
    out["panic_sales_usd"] = float(model.flows.panic_sales * pop.weight)
    out["panic_cost_vs_holding_usd"] = float(record.panic_units * model.market.price - record.panic_proceeds)
    out["cumulative_fees_paid_usd"] = float(record.cumulative_fees)
    return out


def _holders(ratio: np.ndarray, suffix: str, prefix: str) -> dict:
    """Median, 5th percentile and share more than 5% behind of holders' balance ratios."""
    if not len(ratio):
        median, p5, behind = 1.0, 1.0, 0.0
    else:
        median, (p5,) = order_statistics(ratio, (5.0,))
        behind = int((ratio < BEHIND).sum()) / len(ratio)
    return {
        f"{prefix}_balance_ratio_median{suffix}": median,
        f"{prefix}_balance_ratio_p5{suffix}": p5,
        f"{prefix}_share_behind_5pct{suffix}": behind,
    }


def read(model: mesa.Model, name: str):
    """The output `name` of the model's current quarter (Mesa model reporters call this)."""
    return model.record.row[name]

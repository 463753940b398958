"""The stable output names (one row per quarter) and how each is computed from the model.

These names are the contract with the command line, experiment files, the batch store, the
reports and the browser app. Shares are shares of 1; dollars are US-scale (agent sums times
the agent weight).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from agents.participant import rule as rules
from model.calendar import quarter_to_date

if TYPE_CHECKING:
    import mesa

# name: (unit, meaning)
OUTPUTS: dict[str, tuple[str, str]] = {
    "quarter": ("quarter", "model quarter; 0 = 2025Q3, the quarter of EO 14330"),
    "date": ("YYYYQn", "calendar quarter"),
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
    "participants_offered_share": ("share of participants", "participants whose plan offers crypto"),
    "crypto_aum_usd": ("USD", "crypto held in 401(k) accounts at quarter end"),
    "net_flow_usd": (
        "USD per quarter",
        "net 401(k) flow into crypto: contributions + purchases - sales - withdrawals",
    ),
    "cumulative_net_flow_usd": ("USD", "net flow summed from quarter 0"),
    "crypto_share_of_401k_assets": ("share of assets", "crypto_aum_usd / total_401k_assets_usd"),
    "total_401k_assets_usd": ("USD", "all 401(k) assets at quarter end"),
    "crypto_market_cap_usd": ("USD", "total crypto market value at quarter end"),
    "price_index": ("quarter 0 = 1", "crypto price index"),
    "price_index_no_401k": ("quarter 0 = 1", "the same exogenous path without any 401(k) flow"),
    "realized_vol": ("per year", "annualised volatility of the quarter's 13 weekly log returns"),
    "flow_price_impact": (
        "share of price",
        "price_index / price_index_no_401k - 1: price change attributable to 401(k) flow",
    ),
    "drawdown": ("share of 1", "fall of the price from its all-time weekly peak"),
    "max_drawdown": ("share of 1", "largest weekly-peak-to-trough fall so far"),
    "contributions_to_crypto_usd": (
        "USD per quarter",
        "payroll contributions into crypto (by choice and by default)",
    ),
    "purchases_usd": (
        "USD per quarter",
        "crypto bought by moving existing balances (reallocation, rebalancing)",
    ),
    "sales_usd": ("USD per quarter", "crypto sold (panic, plans dropping crypto, rebalancing)"),
    "withdrawals_usd": ("USD per quarter", "crypto of retiring participants, sold as balances leave"),
    "crypto_returns_usd": ("USD per quarter", "market gains (losses negative) on 401(k) crypto"),
    "rule_status": ("text", "DOL rule: order_only, proposed, final, rescinded or codified"),
    "clarity": ("0-1", "regulatory clarity employers and participants perceive"),
    "litigation_risk": ("0-1", "litigation climate plan sponsors read"),
    "products_offered": ("count", "crypto products on sale to plans"),
    "average_fee": (
        "share of assets a year",
        "mean annual fee of the crypto products on sale (0 when none is)",
    ),
    # calibration moments (experiments/tuning): inertia, interest and chosen allocation sizes
    "annual_review_share": (
        "share of participants",
        "participants who would review their allocation at least once in a year at this quarter's attention hazards",
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
    "fraud_losses_usd": (
        "USD per quarter",
        "401(k) crypto destroyed by fraud; crypto AUM change = contributions + purchases - sales + returns - withdrawals - fraud losses",
    ),
    "scandal_salience": (
        "salience units",
        "news salience of scandals this quarter (attention hazard, lawsuits, stances)",
    ),
    # politics (model/politics.py; definitions in docs/guide/politics.md)
    "moat_index": (
        "share of members",
        "net share of the 535 members whose expected vote on a standard crackdown flips to 'no' because of constituents' 401(k) crypto exposure",
    ),
    "moat_votes_house": (
        "votes",
        "expected House votes against a standard crackdown added by constituents' exposure",
    ),
    "crackdown_pass_probability": (
        "probability",
        "chance a standard crackdown bill introduced now becomes law (both chambers, then signature or veto override)",
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
    "election": ("text", "'house' (House and a Senate third), 'presidential' (also the president) or ''"),
    "bill": ("text", "bills voted this quarter with their roll calls and results, or ''"),
    "crackdown_laws": ("count", "crackdown bills enacted so far"),
    "protection_laws": ("count", "protection bills enacted so far"),
    "members_replaced": ("count", "members of Congress replaced at this quarter's election"),
}


def quarter_metrics(model: mesa.Model) -> dict:
    """This quarter's values of every output, computed once per quarter from the model's state."""
    pop, market, flows = model.population, model.market, model.flows
    w = pop.weight
    n = pop.n
    active = pop.crypto_active > 0.0
    default = pop.crypto_default > 0.0
    crypto = (pop.crypto_active.sum() + pop.crypto_default.sum()) * w
    total = pop.balance.sum() * w
    offers = np.array([e.offers_crypto or model.products.sleeve_for(e) > 0 for e in model.employers])
    offered_people = model.offered_mask()
    model.cumulative_flow += flows.net * w
    return {
        "quarter": model.quarter,
        "date": quarter_to_date(model.quarter),
        "adoption_rate": float((active | default).sum() / n),
        "active_adoption_rate": float(active.sum() / n),
        "default_adoption_rate": float(default.sum() / n),
        "plans_offering_share": float(offers.mean()) if len(offers) else 0.0,
        "participants_offered_share": float(offered_people.mean()),
        "crypto_aum_usd": float(crypto),
        "net_flow_usd": float(flows.net * w),
        "cumulative_net_flow_usd": float(model.cumulative_flow),
        "crypto_share_of_401k_assets": float(crypto / total) if total > 0 else 0.0,
        "total_401k_assets_usd": float(total),
        "crypto_market_cap_usd": float(market.cap),
        "price_index": float(market.price_index),
        "price_index_no_401k": float(market.price_index_no_401k),
        "realized_vol": float(market.realized_vol),
        "flow_price_impact": float(market.price_index / market.price_index_no_401k - 1.0),
        "drawdown": float(market.drawdown),
        "max_drawdown": float(market.max_drawdown),
        "contributions_to_crypto_usd": float(flows.contributions * w),
        "purchases_usd": float(flows.purchases * w),
        "sales_usd": float(flows.sales * w),
        "withdrawals_usd": float(flows.withdrawals * w),
        "crypto_returns_usd": float(flows.returns * w),
        "rule_status": model.regulation.status,
        "clarity": float(model.regulation.clarity),
        "litigation_risk": float(model.litigation.level),
        "products_offered": int(model.products.products_offered()),
        "average_fee": float(model.products.average_fee()),
        **_calibration_moments(model),
        **model.products.metrics(),
        **model.events.metrics(),
        **model.politics.metrics(),
    }


def _calibration_moments(model: mesa.Model) -> dict:
    """Inertia, interest and allocation size, read from the participants' state (shares of 1)."""
    pop = model.population
    p_quarter = rules.attention_probability(
        pop.attentiveness, model.employer_view.cue[pop.employer], pop.peer_share, model.market_view, pop.k
    )
    counts = np.bincount(pop.employer, minlength=len(pop.interest_by_employer))
    chosen = pop.alloc[pop.alloc > 0.0]
    return {
        "annual_review_share": float(np.mean(1.0 - (1.0 - p_quarter) ** 4)),
        "interest_share": float((pop.interest_by_employer * counts).sum() / pop.n),
        "mean_chosen_allocation": float(chosen.mean()) if chosen.size else 0.0,
    }


def _read(model: mesa.Model, name: str):
    return model.metrics[name]


def make_datacollector(names: list[str]) -> mesa.DataCollector:
    """A DataCollector with one model reporter per output name (picklable reporters)."""
    import mesa  # here, so that reading OUTPUTS (the command line) does not import Mesa

    return mesa.DataCollector(model_reporters={n: partial(_read, name=n) for n in names})

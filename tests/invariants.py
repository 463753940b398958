"""The model's invariants, checked by the property tests and the edge-case tests.

`check_state` checks the participants and the market after a quarter; `check_table` checks a
run's quarters table (see tests/test_properties.py for the list); `run_checked` runs a
scenario for its full horizon checking both.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from model import scenarios
from model.calendar import quarter_to_date
from model.model import Crypto401kModel
from model.outputs import OUTPUTS

REL_TOL = 1e-9
# Units whose values are shares of 1 (flow_price_impact, "share of price", can be negative).
SHARE_UNITS = (
    "share of participants",
    "share of plans",
    "share of assets",
    "share of 1",
    "0-1",
    "share of assets a year",
)
NON_NEGATIVE_FLOWS = ("contributions_to_crypto_usd", "purchases_usd", "sales_usd", "withdrawals_usd")
POSITIVE = ("total_401k_assets_usd", "crypto_market_cap_usd", "price_index", "price_index_no_401k")
SCHEDULED = ("order_only", "proposed", "final")


def check_state(model: Crypto401kModel) -> None:
    """The participants' and the market's state after a quarter: finite, non-negative, bounded."""
    pop, q = model.population, model.quarter
    for name in ("balance_other", "crypto_active", "crypto_default", "alloc", "salary", "age", "peer_share"):
        col = getattr(pop, name)
        assert np.isfinite(col).all(), f"quarter {q}: non-finite {name}"
    total = pop.balance
    tol = REL_TOL * np.maximum(total, 1.0)
    assert (pop.crypto_active >= 0).all(), f"quarter {q}: negative active crypto"
    assert (pop.crypto_default >= 0).all(), f"quarter {q}: negative default-product crypto"
    assert (pop.balance_other >= -tol).all(), (
        f"quarter {q}: negative non-crypto balance {pop.balance_other.min():.4g}"
    )
    assert ((pop.alloc >= 0) & (pop.alloc <= 1)).all(), f"quarter {q}: allocation outside [0, 1]"
    assert ((pop.peer_share >= 0) & (pop.peer_share <= 1 + 1e-12)).all(), f"quarter {q}: peer share"
    assert math.isfinite(model.market.cap) and model.market.cap > 0, f"quarter {q}: market value"


def check_table(table: pd.DataFrame, params: dict, scheduled_only: bool) -> None:
    """The quarters table: finite, bounded, accounting identities, monotone quantities."""
    numeric = table.select_dtypes("number")
    # An output documented as "empty when none" is missing on purpose (a blank CSV cell), not
    # a silent NaN; it may be empty, never infinite.
    may_be_empty = {n for n, (_u, meaning) in OUTPUTS.items() if "empty when" in meaning}
    bad = [
        c
        for c in numeric
        if not (
            np.isfinite(numeric[c].to_numpy(float)) | (c in may_be_empty) & numeric[c].isna().to_numpy()
        ).all()
    ]
    assert not bad, f"NaN or infinity in {bad}"
    n = len(table)
    assert table["quarter"].tolist() == list(range(n)), "quarters are not 0, 1, 2, ..."
    assert table["date"].tolist() == [quarter_to_date(q) for q in range(n)]
    for name, (unit, _meaning) in OUTPUTS.items():
        if name in table and unit in SHARE_UNITS:
            col = table[name]
            assert col.between(0.0, 1.0).all(), f"{name} outside [0, 1]: {col.min()}..{col.max()}"
    for name in NON_NEGATIVE_FLOWS + ("crypto_aum_usd", "realized_vol", "products_offered"):
        assert (table[name] >= 0).all(), f"negative {name}: {table[name].min()}"
    for name in POSITIVE:
        assert (table[name] > 0).all(), f"{name} not positive: {table[name].min()}"
    assert (table["flow_price_impact"] > -1).all()

    # Accounting: what flowed in and what the market did explains every change in AUM.
    flows = table[list(NON_NEGATIVE_FLOWS) + ["crypto_returns_usd"]]
    explained = (
        table["contributions_to_crypto_usd"]
        + table["purchases_usd"]
        - table["sales_usd"]
        + table["crypto_returns_usd"]
        - table["withdrawals_usd"]
    )
    if "fraud_losses_usd" in table:
        explained = explained - table["fraud_losses_usd"]
    scale = max(1.0, table["crypto_aum_usd"].abs().max(), flows.abs().to_numpy().max())
    change = table["crypto_aum_usd"].diff()
    gap = (change - explained).iloc[1:].abs()
    assert (gap <= REL_TOL * scale).all(), (
        f"AUM change not explained by flows at quarter {int(gap.idxmax())}: gap {gap.max():.6g}"
        f" on a scale of {scale:.6g}"
    )
    net = (
        table["contributions_to_crypto_usd"]
        + table["purchases_usd"]
        - table["sales_usd"]
        - table["withdrawals_usd"]
    )
    assert np.allclose(table["net_flow_usd"], net, rtol=REL_TOL, atol=REL_TOL * scale)
    assert np.allclose(
        table["cumulative_net_flow_usd"], table["net_flow_usd"].cumsum(), rtol=1e-9, atol=REL_TOL * scale * n
    )
    total = table["total_401k_assets_usd"]
    assert np.allclose(table["crypto_share_of_401k_assets"], table["crypto_aum_usd"] / total, rtol=1e-9)
    assert (
        table["adoption_rate"] + 1e-12
        >= np.maximum(table["active_adoption_rate"], table["default_adoption_rate"])
    ).all()
    assert (
        table["adoption_rate"] <= table["active_adoption_rate"] + table["default_adoption_rate"] + 1e-12
    ).all()

    # Monotone quantities.
    assert (table["max_drawdown"].diff().iloc[1:] >= 0).all(), "maximum drawdown fell"
    assert (table["max_drawdown"] + 1e-12 >= table["drawdown"]).all(), "drawdown above its maximum"
    if scheduled_only:
        rank = table["rule_status"].map(SCHEDULED.index)
        assert (rank.diff().iloc[1:] >= 0).all(), "the scheduled rule went backwards"

    if not params["channel_401k"]:
        assert (table["crypto_aum_usd"] == 0).all() and (table["net_flow_usd"] == 0).all()
        assert (table["flow_price_impact"] == 0).all()
    if params["flow_multiplier"] == 0:
        assert (table["flow_price_impact"] == 0).all()


def run_checked(scenario: str, seed: int, over: dict) -> pd.DataFrame:
    """Run `scenario` for its full horizon, checking the state every quarter; the checked table."""
    spec = scenarios.load(scenario)
    model = Crypto401kModel(spec, rng=seed, **over)
    check_state(model)
    for _ in range(spec.quarters):
        model.step()
        check_state(model)
    table = model.quarters_table()
    assert len(table) == spec.quarters + 1
    scheduled = model.politics is None or not model.regulation.overridden
    check_table(table, model.params, scheduled)
    return table

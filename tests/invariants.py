"""The model's invariants, checked by the property tests and the edge-case tests.

`check_state` checks the participants and the market after a quarter; `check_table` checks a
run's quarters table (see tests/test_properties.py for the list); `run_checked` runs a
scenario for its full horizon checking both.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

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
NON_NEGATIVE_FLOWS = (
    "contributions_to_crypto_usd",
    "purchases_usd",
    "sales_usd",
    "withdrawals_crypto_usd",
    "fees_paid_usd",
)
POSITIVE = ("total_401k_assets_usd", "crypto_market_cap_usd", "price_index", "price_index_no_401k")
SCHEDULED = ("order_only", "proposed", "final")


def check_state(model: Crypto401kModel) -> None:
    """The participants' and the market's state after a quarter: finite, non-negative, conserved."""
    pop, q = model.population, model.quarter
    columns = ("balance_other", "units_active", "units_default", "cost_active", "cost_default")
    for name in (*columns, "counterfactual", "alloc", "salary", "age", "peer_share"):
        col = getattr(pop, name)
        assert np.isfinite(col).all(), f"quarter {q}: non-finite {name}"
    for name in columns:
        col = getattr(pop, name)
        assert (col >= 0).all(), f"quarter {q}: negative {name} {col.min():.4g}"
    assert (pop.counterfactual > 0).all(), f"quarter {q}: counterfactual balance not positive"
    assert ((pop.alloc >= 0) & (pop.alloc <= 1)).all(), f"quarter {q}: allocation outside [0, 1]"
    assert ((pop.peer_share >= 0) & (pop.peer_share <= 1 + 1e-12)).all(), f"quarter {q}: peer share"
    market = model.market
    assert math.isfinite(market.cap) and market.cap > 0, f"quarter {q}: market value"
    held = float((pop.units_active + pop.units_default).sum()) * pop.weight
    assert held == pytest.approx(market.plan_units, rel=1e-9, abs=1e-9 * market.float_units), (
        f"quarter {q}: the participants hold {held:.6g} units, the market counts {market.plan_units:.6g}"
    )
    assert 0.0 <= market.plan_units < market.float_units, f"quarter {q}: holdings outside the float"


def check_accounting(table: pd.DataFrame) -> None:
    """Every quarter, what flowed and what the market did explains the change in crypto AUM:
    change = contributions + purchases - sales - withdrawals + returns - fraud losses - fees;
    net flow, invested money and their running sums agree with their parts."""
    n = len(table)
    # Accounting: what flowed in and what the market did explains every change in AUM.
    flows = table[list(NON_NEGATIVE_FLOWS) + ["crypto_returns_usd", "fraud_losses_usd"]]
    explained = (
        table["contributions_to_crypto_usd"]
        + table["purchases_usd"]
        - table["sales_usd"]
        - table["withdrawals_crypto_usd"]
        + table["crypto_returns_usd"]
        - table["fraud_losses_usd"]
        - table["fees_paid_usd"]
    )
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
        - table["withdrawals_crypto_usd"]
    )
    assert np.allclose(table["net_flow_usd"], net, rtol=REL_TOL, atol=REL_TOL * scale)
    assert np.allclose(
        table["cumulative_net_flow_usd"], table["net_flow_usd"].cumsum(), rtol=1e-9, atol=REL_TOL * scale * n
    )
    assert np.allclose(
        table["cumulative_invested_usd"], table["invested_usd"].cumsum(), rtol=1e-9, atol=REL_TOL * scale * n
    )


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

    check_accounting(table)
    assert (table["holdings_share_of_float"] < 1.0).all()
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
    scheduled = not model.regulation.overridden
    assert model.market.guard_hits == 0 or over, "a numerical guard bound in a shipped scenario"
    check_table(table, model.params, scheduled)
    return table

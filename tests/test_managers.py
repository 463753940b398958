"""Asset managers as recordkeepers and product providers (agents/asset_manager.py,
model/product_market.py) and the fraud event (model/events.py)."""

from __future__ import annotations

import numpy as np
import pytest
from invariants import check_accounting

from agents.asset_manager import AssetManager
from model.model import Crypto401kModel

SMALL = dict(n_participants=3000, n_employers=200)


def run(scenario="baseline", seed=0, quarters=12, **params):
    m = Crypto401kModel(scenario, rng=seed, **{**SMALL, **params})
    m.run(quarters)
    return m, m.quarters_table()


@pytest.fixture(scope="module")
def baseline():
    return run(seed=5, quarters=14)


def test_every_employer_has_a_recordkeeper_and_refusers_never_sell(baseline):
    m, _ = baseline
    managers = list(m.agents_by_type[AssetManager])
    assert len(managers) == m.params["n_managers"]
    assert all(e.recordkeeper in managers for e in m.employers)
    assert sum(x.refuses for x in managers) == round(m.params["manager_refusal_share"] * len(managers))
    assert all(not x.fees and x.sleeve == 0 for x in managers if x.refuses)


def test_the_2022_precedent_sells_at_quarter_0():
    m = Crypto401kModel(rng=0, **SMALL)
    selling = [x for x in m.products.managers if x.fees]
    assert len(selling) == 1
    assert selling[0].fees == {"spot_bitcoin_fund": m.params["product_fee"]}
    assert m.record.row["products_offered"] == 1 and m.record.row["average_fee"] == m.params["product_fee"]


def test_plans_offer_only_what_a_manager_sells(baseline):
    m, _ = baseline
    for e in m.employers:
        if e.offer is None:
            continue
        seller = m.products.managers[e.offer.manager]
        assert e.offer.product in seller.fees
        assert (seller is e.recordkeeper) != e.offer.switching


def test_a_prohibitive_switching_cost_keeps_plans_with_their_recordkeeper():
    m, _ = run(seed=1, switching_cost=20.0)
    offering = [e for e in m.employers if e.offer is not None]
    assert offering
    assert all(e.offer.manager == e.recordkeeper.index for e in offering)


def test_nobody_offers_crypto_when_every_manager_refuses():
    _, t = run(seed=2, quarters=8, manager_refusal_share=1.0)
    assert (t["products_offered"] == 0).all() and (t["plans_offering_share"] == 0).all()
    assert (t["adoption_rate"] == 0).all()


def test_fees_fall_with_the_number_of_sellers():
    m = Crypto401kModel(rng=0, **SMALL)
    pm = m.products
    fees = []
    for k in range(len(pm.managers)):
        for x in pm.managers:
            x.fees.pop("spot_bitcoin_fund", None)
        for x in pm.managers[: k + 1]:
            x.fees["spot_bitcoin_fund"] = 0.005
        fees.append(pm.competitive_fee("spot_bitcoin_fund"))
    assert fees[0] == pytest.approx(m.params["product_fee"])
    assert all(a > b for a, b in zip(fees, fees[1:], strict=False))
    assert m.params["fee_floor"] < fees[-1] < 0.0035  # toward the 0.20-0.25% ETF fee war


def test_products_and_fees_respond_to_competition():
    _, mono = run(seed=3, manager_refusal_share=0.875)  # only the 2022 precedent is willing
    _, many = run(seed=3, manager_refusal_share=0.0)
    assert mono["managers_selling"].max() == 1
    assert many["managers_selling"].iloc[-1] >= 5
    assert many["products_offered"].iloc[-1] > mono["products_offered"].iloc[-1]
    assert mono["average_fee"].iloc[-1] > many["average_fee"].iloc[-1] + 0.002
    assert many["average_fee"].iloc[-1] < 0.005


def test_manager_aum_adds_up_to_401k_crypto(baseline):
    _, t = baseline
    assert np.allclose(t["manager_crypto_aum_usd"], t["crypto_aum_usd"], rtol=1e-9, atol=1.0)
    assert ((t["top_manager_share"] >= 0) & (t["top_manager_share"] <= 1)).all()


def test_marketing_cue_comes_from_sellers():
    m, t = run(seed=4, quarters=8, manager_marketing_strength=0.0)
    assert (t["marketing_cue"] == 0).all()
    _, t2 = run(seed=4, quarters=8)
    assert (t2["marketing_cue"].iloc[6:] > 0).all()


def test_tdf_default_raises_default_holding_without_active_decisions():
    base, tb = run(seed=6, quarters=10)
    tdf, tt = run("tdf_default", seed=6, quarters=10)
    assert (tb["default_adoption_rate"] == 0).all()
    assert tt["default_adoption_rate"].iloc[-1] > 0.2
    assert tt["tdf_sleeves_offered"].iloc[-1] >= 1
    pop = tdf.population
    passive = (pop.crypto_default > 0) & (pop.alloc == 0)  # hold crypto, never chose any
    assert passive.mean() > 0.15
    sleeves = [x.sleeve for x in tdf.products.managers if x.sleeve > 0]
    assert all(0.01 <= s <= 0.03 for s in sleeves)


def test_fraud_books_losses_and_the_identity_still_holds():
    m, t = run("fraud_scandal", seed=7, quarters=9, tdf_sleeve=0.02)
    assert t["fraud"].tolist() == [1 if q == 6 else 0 for q in range(10)]
    assert t["fraud_losses_usd"].iloc[6] > 0 and (t["fraud_losses_usd"].drop(6) == 0).all()
    assert t["scandal_salience"].iloc[6] == pytest.approx(0.5)
    assert t["litigation_risk"].iloc[6] > t["litigation_risk"].iloc[5]
    check_accounting(t)

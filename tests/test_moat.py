"""A moat that measures what voters have at stake, and reaches the decisions that close the channel."""

from __future__ import annotations

import numpy as np

from model.geography import ELECTORAL_TOTAL, ELECTORAL_VOTES
from model.model import Crypto401kModel
from model.politics import EXPOSURE_WEIGHTS, bill_outcome, pass_probability

SMALL = {"n_participants": 4000, "n_employers": 150}


def run(scenario="baseline", quarters=8, seed=3, **params):
    m = Crypto401kModel(scenario, rng=seed, **{**SMALL, **params})
    m.run(quarters)
    return m, m.quarters_table()


# --- exposure is continuous in what is at stake
def test_exposure_grows_with_the_dollars_held_not_with_holding_any():
    exposure, moat = [], []
    for share in (1e-6, 1e-3, 0.05):
        _m, t = run("static_1pct", quarters=4, static_allocation=share)
        assert t["adoption_rate"].iloc[4] == 1.0
        exposure.append(t["exposure_index"].iloc[4])
        moat.append(t["moat_index"].iloc[4])
    # everyone holds in all three runs, yet a millionth of the balance is no stake at all
    assert exposure[0] < 2e-3 * exposure[1] < exposure[1] < exposure[2]
    assert moat[0] == 0.0 and moat[2] > moat[1]


def test_a_holders_exposure_saturates_and_follows_gains_and_losses():
    m, _ = run(quarters=2)
    pol, pop = m.politics, m.population
    for column in (pop.units_active, pop.units_default, pop.last_gain):
        column[:] = 0.0
    stakes = np.array([1e3, 1e4, 1e5, 1e6])
    pop.units_active[:4] = stakes / pop.price
    e = pol.exposure()[:4]
    salience = e[1] / 0.5  # the half-saturation stake ($10,000) gives half the maximum
    assert salience >= 1.0
    np.testing.assert_allclose(e, salience * stakes / (stakes + 1e4), rtol=1e-12)
    assert np.all(pol.exposure()[4:] == 0.0)  # no crypto, no stake
    pop.last_gain[:4] = -stakes / 2  # they lost a third of what they had: exposure x (1 - 1/3)
    np.testing.assert_allclose(pol.exposure()[:4], e * 2 / 3, rtol=1e-12)
    pop.last_gain[:4] = stakes / 3  # a gain of a half: exposure x 1.5
    np.testing.assert_allclose(pol.exposure()[:4], e * 1.5, rtol=1e-12)


def test_switching_exposure_off_removes_it_from_every_decision():
    _m, t = run("tdf_default", quarters=16, exposure_in_politics=False)
    assert (t["adoption_rate"].iloc[8:] > 0).all()
    assert (t["moat_index"] == 0).all()
    assert np.array_equal(t["crackdown_pass_probability"], t["crackdown_pass_probability_no_exposure"])
    # what voters have at stake is still measured: it just reaches no decision
    assert (t["exposure_index"].iloc[8:] > 0).all()


def test_the_switch_is_the_four_exposure_weights_at_zero():
    # hostile_turn to quarter 20: elections (voters' crypto vote), a presidential race (the
    # candidates' pull) and the administration's rescission decision all take place
    _m, off = run("hostile_turn", quarters=20, exposure_in_politics=False)
    _m, zero = run("hostile_turn", quarters=20, **dict.fromkeys(EXPOSURE_WEIGHTS, 0.0))
    _m, on = run("hostile_turn", quarters=20)
    assert off.equals(zero)
    assert not off.equals(on)


# --- exposure reaches the administration, the candidates and Congress
def test_what_voters_hold_makes_a_rescission_less_likely():
    m, _ = run("hostile_turn", quarters=2)
    pol = m.politics
    pol.administration = -0.8
    chances = []
    for index in (0.0, 0.02, 0.05, 0.1):
        pol.exposure_index = index
        chances.append(pol.rescission_probability())
    assert chances[0] > 0.95
    assert all(b < a for a, b in zip(chances, chances[1:], strict=False))
    assert chances[-1] < 0.05
    pol.administration = 0.5
    assert pol.rescission_probability() == 0.0  # a friendly administration never rescinds


def test_the_senate_filibuster_and_the_electoral_college():
    # 58 senators cannot end debate; by reconciliation (51) the same vote passes
    assert bill_outcome("crackdown_tighten", 300, 58, -0.5, cloture=60) == (
        False,
        "filibustered in the Senate",
    )
    assert bill_outcome("crackdown_tighten", 300, 58, -0.5, cloture=51) == (True, "signed")
    strong = np.full(100, -3.0)  # every senator favours the crackdown
    house = np.full(435, -3.0)
    assert pass_probability(house, strong[:59], "crackdown_tighten", None, 0.0, cloture=60) == 0.0
    assert ELECTORAL_TOTAL == 538 and ELECTORAL_VOTES.sum() == 535


def test_presidential_elections_count_electoral_votes_and_report_the_popular_vote():
    _m, t = run(quarters=13, seed=4)
    row = t.iloc[13]
    assert row["election"] == "presidential"
    assert 0 < row["electoral_votes_r"] <= 535 and 0.2 < row["popular_vote_r"] < 0.8
    assert (t["electoral_votes_r"].iloc[:13] == 0).all() and (t["popular_vote_r"].iloc[:13] == 0).all()


def test_congress_answers_a_rescission_with_a_codifying_bill():
    # After the rescission an overwhelmingly pro-crypto Congress codifies the safe harbour over
    # the hostile administration's veto; without the response, bills stay rare.
    m, _ = run(
        "hostile_turn",
        quarters=15,
        seed=3,
        protection_bill_rate=0.02,
        crackdown_bill_rate=0.0,
        codify_response=20.0,
    )
    assert m.regulation.status == "rescinded"
    for member in m.politics.members:
        member.ideology = 10.0
        member.stance = member.shadow = 10.0
    m.run(12)
    bills = [b for b in m.quarters_table()["bill"].iloc[16:] if b]
    assert m.regulation.status == "codified"
    assert any("protection" in b and "veto overridden" in b for b in bills)

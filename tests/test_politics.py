"""Congress, bills, elections, the administration and the moat metrics (model/politics.py)."""

from __future__ import annotations

import numpy as np
import pytest

from model import calendar
from model.model import Crypto401kModel
from model.politics import (
    HOUSE,
    SENATE,
    at_least,
    bill_outcome,
    chamber_passes,
    next_election,
    pass_probability,
)

SMALL = dict(n_participants=3000, n_employers=200)


def small(scenario="baseline", seed=0, **params):
    return Crypto401kModel(scenario, rng=seed, **{**SMALL, **params})


@pytest.fixture(scope="module")
def baseline40():
    m = small(seed=1)
    m.run(40)
    return m, m.quarters_table()


# --- counting votes and combining chambers (hand-made cases)
def test_chamber_majorities_and_two_thirds():
    assert chamber_passes(218, 435) and not chamber_passes(217, 435)
    assert chamber_passes(51, 100) and not chamber_passes(50, 100)  # a tie fails
    assert chamber_passes(2, 3) and not chamber_passes(1, 3)
    assert chamber_passes(290, 435, two_thirds=True) and not chamber_passes(289, 435, two_thirds=True)
    assert chamber_passes(67, 100, two_thirds=True) and not chamber_passes(66, 100, two_thirds=True)


@pytest.mark.parametrize(
    "kind, hy, sy, admin, expected",
    [
        ("crackdown_tighten", 218, 51, -0.5, (True, "signed")),
        ("crackdown_tighten", 217, 90, -0.5, (False, "failed in the House")),
        ("crackdown_tighten", 400, 50, -0.5, (False, "failed in the Senate")),
        ("crackdown_tighten", 250, 60, 0.5, (False, "vetoed")),  # friendly administration vetoes
        ("crackdown_ban", 290, 67, 0.5, (True, "veto overridden")),
        ("crackdown_ban", 290, 66, 0.5, (False, "vetoed")),
        ("protection", 218, 51, 0.0, (True, "signed")),  # a neutral administration signs protection
        ("protection", 300, 70, -0.1, (True, "veto overridden")),
        ("protection", 280, 70, -0.1, (False, "vetoed")),
    ],
)
def test_bill_outcome_combines_chambers_and_the_veto(kind, hy, sy, admin, expected):
    assert bill_outcome(kind, hy, sy, admin) == expected


def test_small_chambers_count_like_the_real_ones():
    assert bill_outcome("protection", 2, 2, 1.0, house_members=3, senate_members=3) == (True, "signed")
    assert bill_outcome("protection", 2, 1, 1.0, house_members=3, senate_members=3)[0] is False


def test_pass_probability_extremes_and_veto():
    pro, anti = np.full(HOUSE, 12.0), np.full(HOUSE, -12.0)
    assert pass_probability(pro, pro[:SENATE], "crackdown_tighten", -1.0, 0.0) < 1e-9
    assert pass_probability(anti, anti[:SENATE], "crackdown_tighten", -1.0, 0.0) > 1 - 1e-9
    # a friendly administration vetoes; overriding needs two thirds, which unanimity gives
    assert pass_probability(anti, anti[:SENATE], "crackdown_tighten", 1.0, 0.5) > 0.99
    # a bare crackdown majority (about 55% yes) passes Congress but cannot override a veto
    lean = np.where(np.arange(HOUSE) < 0.55 * HOUSE, -12.0, 12.0)
    senate = np.where(np.arange(SENATE) < 56, -12.0, 12.0)
    assert pass_probability(lean, senate, "crackdown_tighten", None, 0.0) > 0.99
    assert pass_probability(lean, senate, "crackdown_tighten", 1.0, 0.0) < 1e-6


def test_at_least_is_exact_for_certain_votes_and_centred_for_coins():
    assert at_least(np.ones(5), 5) == 1.0 and at_least(np.ones(5), 6) == 0.0
    assert abs(float(at_least(np.full(435, 0.5), 218)) - 0.5) < 0.03


def test_members_vote_and_a_passed_crackdown_is_enacted():
    m = small()
    m.run(2)
    pol = m.politics
    for member in pol.members:
        member.stance = 10.0
    pol.administration = -0.8
    record = pol.vote_on("crackdown_tighten", m.quarter)
    assert "failed in the House" in record and pol.crackdown_laws == 0
    for member in pol.members:
        member.stance = -10.0
    record = pol.vote_on("crackdown_ban", m.quarter)
    assert record.endswith("signed") and pol.law == "crackdown"
    assert m.regulation.status == "rescinded" and m.products.banned
    assert (m.products.available(m.employer_table).kind < 0).all()  # nothing for sale to any plan


# --- elections
def test_elections_happen_in_the_right_quarters(baseline40):
    m, t = baseline40
    house = [q for q in range(41) if calendar.is_house_election(q)]
    assert house == [5, 13, 21, 29, 37]
    assert [q for q in range(41) if calendar.is_presidential_election(q)] == [13, 29]
    expected = ["presidential" if q in (13, 29) else "house" if q in house else "" for q in range(41)]
    assert t["election"].tolist() == expected
    replaced = t["members_replaced"]
    assert (replaced[t["election"] == ""] == 0).all() and (replaced[t["election"] != ""] > 0).all()
    assert calendar.quarter_to_date(5) == "2026Q4" and calendar.quarter_to_date(13) == "2028Q4"


def test_one_senate_class_per_election_and_full_chambers(baseline40):
    m, _ = baseline40
    pol = m.politics
    assert len(pol.members) == HOUSE + SENATE
    assert sorted(x.seat for x in pol.members[:HOUSE]) == list(range(HOUSE))
    assert np.bincount([x.seat for x in pol.members[HOUSE:]]).tolist() == [2] * 50
    senators = pol.members[HOUSE:]
    classes = np.bincount([x.senate_class for x in senators])
    assert sorted(classes.tolist()) == [33, 33, 34]
    for x in senators:  # a senator elected at the quarter-q election belongs to the class up then
        if x.elected > 0:
            assert next_election(x.elected, x.senate_class) == x.elected
    assert next_election(0) == 5 and next_election(6) == 13


def test_administration_changes_only_after_a_presidential_election(baseline40):
    _, t = baseline40
    changes = t.index[t["administration_stance"].diff().fillna(0) != 0].tolist()
    assert set(changes) <= {14, 30}  # inaugurations follow the 2028Q4 and 2032Q4 elections


# --- calibration at quarter 0
def test_quarter0_congress_matches_the_recorded_votes():
    """Tolerance: 278 pro-crypto House members (Stand With Crypto, Jan 2025) within the calibration
    target's tolerance (a share of 0.05: 22 members); a standard
    crackdown fails in the House by a margin of the order of FIT21 (279-136) and GENIUS (308-122);
    the Senate about as pro-crypto as the GENIUS vote (68-30)."""
    for seed in range(4):
        r = small(seed=seed).record.row
        assert abs(r["pro_crypto_share_house"] - 278 / HOUSE) <= 0.05
        assert 115 <= r["crackdown_votes_house"] <= 180
        assert 0.58 <= r["pro_crypto_share_senate"] <= 0.78
        assert r["crackdown_congress_probability"] < 0.05
        assert r["moat_index"] == 0.0


# --- the moat
def test_no_exposure_no_moat():
    m = small("no_401k", seed=2)
    m.run(16)
    t = m.quarters_table()
    assert (t["moat_index"] == 0).all()
    assert t["moat_votes_house"].abs().max() < 1e-9
    assert np.allclose(t["crackdown_pass_probability"], t["crackdown_pass_probability_no_exposure"])


def test_more_exposure_gives_a_higher_moat_across_seeds():
    for seed in range(3):
        low, high = small(seed=seed), small(seed=seed, tdf_sleeve=0.03)
        low.run(10)
        high.run(10)
        a, b = low.quarters_table().iloc[6:], high.quarters_table().iloc[6:]
        assert b["voter_exposure"].mean() > a["voter_exposure"].mean()
        assert b["exposure_index"].mean() > a["exposure_index"].mean()
        assert b["moat_index"].mean() > a["moat_index"].mean() + 0.01
        assert b["moat_votes_house"].mean() > a["moat_votes_house"].mean()


# --- the administration and the rule
def test_hostile_turn_rescinds_the_rule_and_plans_stop_adding():
    m = small("hostile_turn", seed=3, protection_bill_rate=0.0)
    m.run(22)
    t = m.quarters_table()
    assert (14, "rescinded") not in [(q, s) for q, s, _ in m.regulation.history]
    assert (15, "rescinded", "the administration rescinds the rule") in m.regulation.history
    assert t["administration_stance"].iloc[14] == -0.8
    after = t.iloc[15:]
    assert (after["rule_status"] == "rescinded").all() and (after["clarity"] == 0.1).all()
    assert (after["plans_offering_share"].diff().dropna() <= 0).all()
    assert not any(e.offered_since is not None and e.offered_since >= 15 for e in m.employers)


def test_a_codified_safe_harbour_survives_a_hostile_turn():
    m = small("hostile_turn", seed=3, protection_bill_rate=0.0, crackdown_bill_rate=0.0)
    m.run(8)
    for member in m.politics.members:
        member.stance = 10.0
    assert m.politics.vote_on("protection", m.quarter).endswith("signed")
    m.run(10)
    assert m.regulation.status == "codified"


def test_scandal_lowers_stances_and_is_deterministic():
    a = small("fraud_scandal", seed=4, tdf_sleeve=0.02)
    b = small("fraud_scandal", seed=4, tdf_sleeve=0.02)
    quiet = small(seed=4, tdf_sleeve=0.02)
    for m in (a, b, quiet):
        m.run(7)
    ta, tb, tq = a.quarters_table(), b.quarters_table(), quiet.quarters_table()
    assert ta.equals(tb)
    assert ta["pro_crypto_share_house"].iloc[6] < tq["pro_crypto_share_house"].iloc[6]

"""The employer's quarterly decisions, written once and run for any set of employers in one pass.

Each quarter an employer reviews its menu with probability `menu_review_rate`. Its score
(log-odds) for offering crypto is

    s = employer_base_logit + clarity_weight x clarity - litigation_weight x perceived_litigation
        + demand_weight x share of own participants wanting crypto
        + peer_offer_weight x share of network peers offering - caution_weight x caution

A non-offering employer whose recordkeeper (or, at a switching cost `switching_cost` taken off
s, another manager) sells a product adds it with probability logistic(s) and sets a cap of
allocation_cap x (1 - cap_caution_cut x caution); an offering employer drops it with
probability logistic(-s - drop_margin), and otherwise a review may move it to what its
recordkeeper sells now. Offers follow products the same quarter: when the product on the menu
is withdrawn, the plan maps to what it can buy now (its recordkeeper's product or another
manager's), or drops the option when nothing is sold, and the crypto holdings are then sold
into the plan's other funds. Offering employers run employee education with probability
`education_rate`; after a large drawdown or a scandal they may be sued.

Order within a quarter: employers review one after another in index order, each seeing the
menus of the peers that reviewed before it this quarter as they are now and those of the later
ones as they were at the start of the quarter (so one employer's addition reaches a later
peer the same quarter). `review_menus` reproduces that order exactly while computing every
score term in bulk; only the reviewers' peer shares are counted one by one. Random numbers are
drawn from the employers' stream in the same order as one call per employer would draw them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import expit as logistic

from agents.employer.table import Employers


class Available(NamedTuple):
    """What each employer could put on its menu now (per employer; kind -1: nothing)."""

    kind: np.ndarray  # index into agents.asset_manager.MENU
    fee: np.ndarray  # share of assets a year
    manager: np.ndarray  # seller's index
    switching: np.ndarray  # bool: the seller is not the plan's recordkeeper


def score_base(t: Employers, quarter: int, params: dict, clarity: float, litigation: float, demand):
    """The terms of the offer score that no peer decision this quarter can change (log-odds):
    employer_base_logit + clarity_weight x clarity - litigation_weight x perceived litigation
    + demand_weight x demand, per employer."""
    p = params
    perceived = t.perceived_litigation(quarter, litigation, p)
    return (
        p["employer_base_logit"]
        + p["clarity_weight"] * clarity
        - p["litigation_weight"] * perceived
        + p["demand_weight"] * np.asarray(demand, float)
    )


def offer_scores(t: Employers, base: np.ndarray, params: dict) -> np.ndarray:
    """Every employer's full offer score (log-odds) with its peers' menus as they are now."""
    count = t.peer_counts()
    share = np.divide(t.peer_sum(t.offers), count, out=np.zeros(t.n), where=count > 0)
    return base + params["peer_offer_weight"] * share - params["caution_weight"] * t.caution


def start_offering(t: Employers, rows, avail: Available, quarter: int, params: dict, newly: bool) -> None:
    """Put what is available on the menus of `rows`, with each sponsor's cap (share of
    contributions and balance); `newly`: participants hear of it as news this quarter."""
    rows = np.asarray(rows, np.int64)
    t.offer_kind[rows] = avail.kind[rows]
    t.offer_fee[rows] = avail.fee[rows]
    t.offer_manager[rows] = avail.manager[rows]
    t.offer_switching[rows] = avail.switching[rows]
    t.cap[rows] = params["allocation_cap"] * (1.0 - params["cap_caution_cut"] * t.caution[rows])
    t.offered_since[rows] = quarter
    t.newly_offered[rows] = newly


def drop(t: Employers, rows) -> None:
    """Take crypto off the menus of `rows`: participants' crypto is mapped into other funds."""
    t.offer_kind[rows] = -1
    t.offer_fee[rows] = 0.0
    t.offer_manager[rows] = -1
    t.offer_switching[rows] = False
    t.cap[rows] = 0.0
    t.offered_since[rows] = -1


def _move(t: Employers, i: int, avail: Available) -> None:
    t.offer_kind[i] = avail.kind[i]
    t.offer_fee[i] = avail.fee[i]
    t.offer_manager[i] = avail.manager[i]
    t.offer_switching[i] = avail.switching[i]


def _start(t: Employers, i: int, avail: Available, quarter: int, cap: float) -> None:
    """start_offering for one employer (scalar writes: the review loop's hot path)."""
    _move(t, i, avail)
    t.cap[i] = cap
    t.offered_since[i] = quarter
    t.newly_offered[i] = True


def review_menus(
    t: Employers,
    rows,
    quarter: int,
    params: dict,
    avail: Available,
    fee_now: np.ndarray,
    base: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """The menu reviews of `rows` (increasing employer indices) for this quarter.

    avail: what each employer can buy now (asked before its offer follows its product);
    fee_now: today's fee of the product on each menu (NaN once withdrawn or when none);
    base: `score_base` per employer.
    """
    p = params
    rows = np.asarray(rows, np.int64)
    t.newly_offered[rows] = False
    if not p["channel_401k"] or not len(rows):
        return
    start = t.offers  # the menus at the start of the pass (a new array)
    # Offers follow products: today's fee, or what the plan can buy now, or no option at all.
    offering = t.offer_kind[rows] >= 0
    gone = offering & np.isnan(fee_now[rows])
    kept = rows[offering & ~gone]
    t.offer_fee[kept] = fee_now[kept]
    for_sale = avail.kind[rows] >= 0
    moved = rows[gone & for_sale]
    t.offer_kind[moved], t.offer_fee[moved] = avail.kind[moved], avail.fee[moved]
    t.offer_manager[moved], t.offer_switching[moved] = avail.manager[moved], avail.switching[moved]
    dropped = gone & ~for_sale
    drop(t, rows[dropped])
    active = rows[~dropped]
    # Every remaining employer draws whether it reviews; a reviewer with something to decide
    # draws once more. Draw ahead, find how many one-per-employer calls would have used, and
    # leave the stream exactly there.
    decides = ((t.offer_kind[active] >= 0) | (avail.kind[active] >= 0)).tolist()
    state = rng.bit_generator.state
    draws = rng.random(2 * len(active)).tolist()
    rate = p["menu_review_rate"]
    reviewers: list[tuple[int, float]] = []
    used = 0
    for k, i in enumerate(active.tolist()):
        d1 = draws[used]
        used += 1
        if d1 < rate and decides[k]:
            reviewers.append((i, draws[used]))
            used += 1
    rng.bit_generator.state = state
    rng.random(used)
    if not reviewers:
        return
    # A reviewer counts its peers offering: those before it as they are now, the later ones as
    # they were at the start. Start from the start-of-quarter count and add each change (a drop
    # when a product went, an addition or a drop on review) to the later peers of who changed.
    count = t.peer_counts().tolist()
    on = t.peer_sum(start).astype(np.int64)
    later = (t.peer_idx > t.peer_owner) & np.isin(t.peer_owner, rows[dropped])
    on -= np.bincount(t.peer_idx[later], minlength=t.n)
    on_l, base_l, caution = on.tolist(), base.tolist(), t.caution.tolist()
    pw, cw = p["peer_offer_weight"], p["caution_weight"]
    switching_cost, margin = p["switching_cost"], p["drop_margin"]
    cap_of = (p["allocation_cap"] * (1.0 - p["cap_caution_cut"] * t.caution)).tolist()  # as start_offering
    for i, d2 in reviewers:
        share = on_l[i] / count[i] if count[i] else 0.0
        score = base_l[i] + pw * share - cw * caution[i]
        change = 0
        if t.offer_kind[i] < 0:  # a reviewer without an option has one for sale (else it does not draw)
            if avail.switching[i]:
                score -= switching_cost
            if d2 < logistic(score):
                _start(t, i, avail, quarter, cap_of[i])
                change = 1
        elif d2 < logistic(-score - margin):
            drop(t, [i])
            change = -1
        elif avail.kind[i] >= 0:
            _move(t, i, avail)  # a review may move the plan to its recordkeeper's product
        if change:
            for j in t.peers_of(i).tolist():
                if j > i:
                    on_l[j] += change


def educate(t: Employers, rows, params: dict, rng: np.random.Generator) -> None:
    """Whether each offering employer in `rows` runs employee education this quarter."""
    rows = np.asarray(rows, np.int64)
    offering = rows[t.offer_kind[rows] >= 0]
    t.educating[rows] = False
    t.educating[offering] = rng.random(len(offering)) < params["education_rate"]


def face_lawsuits(t: Employers, rows, chance: float, quarter: int, rng: np.random.Generator) -> int:
    """Which offering employers in `rows` are sued this quarter (chance each); how many."""
    rows = np.asarray(rows, np.int64)
    offering = rows[t.offer_kind[rows] >= 0]
    if chance <= 0.0 or not len(offering):
        return 0
    sued = offering[rng.random(len(offering)) < chance]
    t.sued_quarter[sued] = quarter
    return len(sued)

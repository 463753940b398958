"""The inspector: what the page shows about one participant, employer, member of Congress or
congressional district, now and over the quarters.

Districts, members (by seat) and employers have their whole history from quarter 0: the page
model records their state every quarter (`Records`). A participant is followed as a person
from the quarter they are chosen (their row goes to an entrant when they retire; the
inspector then says so rather than switching to someone else). Dollars are US dollars at US
scale unless the label says 'per person' (written by viz/money.py); shares are shown in
percent. Each series over the quarters carries its unit, and the inspector draws series of
different units on separate panels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.calendar import quarter_to_date
from model.geography import STATES
from viz.districts import cartogram
from viz.money import money

KINDS = ("participant", "employer", "member", "district")
PARTY = {1: "R", -1: "D"}


@dataclass
class Records:
    """Per-quarter state of every district, member seat and employer (index = quarter)."""

    district_crypto_usd: list[np.ndarray] = field(default_factory=list)  # 435, US scale
    district_holders: list[np.ndarray] = field(default_factory=list)  # people holding crypto
    stance: list[np.ndarray] = field(default_factory=list)  # by slot (House 0-434, Senate)
    shadow: list[np.ndarray] = field(default_factory=list)  # the stance without exposure
    offers: list[np.ndarray] = field(default_factory=list)  # employer offers crypto

    def record(self, model) -> None:
        """Add the model's current quarter."""
        pop = model.population
        crypto = pop.crypto_active + pop.crypto_default
        self.district_crypto_usd.append(np.bincount(pop.district, weights=crypto, minlength=435) * pop.weight)
        self.district_holders.append(
            np.bincount(pop.district, weights=(crypto > 0).astype(float), minlength=435) * pop.weight
        )
        members = model.politics.members
        self.stance.append(np.array([m.stance for m in members]))
        self.shadow.append(np.array([m.shadow for m in members]))
        self.offers.append(np.array([e.offers_crypto for e in model.employers], bool))


def pool_size(model, kind: str) -> int:
    """How many agents of `kind` the user can choose from (indexes 0 to size - 1)."""
    if kind == "participant":
        return model.population.n
    if kind == "employer":
        return len(model.employers)
    if kind == "member":
        return len(model.politics.members)
    if kind == "district":
        return 435
    raise ValueError(f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}")


def check_index(model, kind: str, index: Any) -> int:
    """The index typed by the user as an int, or ValueError naming the allowed range."""
    size = pool_size(model, kind)
    try:
        i = int(str(index).strip())
    except ValueError:
        raise ValueError(f"{kind}: {index!r} is not a whole number; allowed: 0 to {size - 1}") from None
    if not 0 <= i < size:
        raise ValueError(f"{kind} {i} does not exist; allowed: 0 to {size - 1}")
    return i


def interesting_participant(model, after: int = -1) -> int:
    """A participant worth inspecting: the next crypto holder after row `after` (wrapping), else
    the next participant whose plan offers crypto, else the next row."""
    pop = model.population
    holds = (pop.crypto_active + pop.crypto_default) > 0
    for mask in (holds, model.offered_mask()):
        rows = np.flatnonzero(mask)
        if rows.size:
            later = rows[rows > after]
            return int(later[0] if later.size else rows[0])
    return (after + 1) % pop.n


def seat_name(member) -> str:
    """'CA-12' for a House member, 'CA senator' for a senator."""
    if member.chamber == "house":
        return cartogram().names[member.seat]
    return f"{STATES[member.seat]} senator"


def participant(model, row: int):
    """The participant agent in `row` now (the one place the page reaches a participant's
    handle; the row goes to someone else when they retire)."""
    return model.participant(row)


class Follower:
    """One participant followed as a person: a snapshot per quarter since they were chosen."""

    def __init__(self, model, row: int):
        self.row = row
        self.agent = participant(model, row)
        self.history: list[dict[str, Any]] = []
        self.record(model)

    def record(self, model) -> None:
        a = self.agent
        if self.history and self.history[-1]["quarter"] == model.quarter:
            return
        if a.row is None:
            self.history.append({"quarter": model.quarter, "retired": True, "left": a.left_quarter})
            return
        balance = a.balance
        crypto = a.crypto_active + a.crypto_default
        self.history.append(
            {
                "quarter": model.quarter,
                "age": a.age,
                "balance": balance,
                "crypto": crypto,
                "crypto_share": crypto / balance if balance > 0 else 0.0,
                "alloc": a.alloc,
                "peer_share": a.peer_share,
                "offered": bool(model.offered_mask()[a.row]),
            }
        )


@dataclass
class Inspection:
    """What the inspector shows: a title, rows of (label, value now), series over quarters."""

    title: str
    rows: list[tuple[str, str]]
    quarters: list[int]
    series: dict[str, list[float | None]]  # label -> values per quarter (same length as quarters)
    unit: str = ""  # the unit of every series not named in `units`
    note: str = ""
    units: dict[str, str] = field(default_factory=dict)  # label -> unit, where it differs

    def unit_of(self, label: str) -> str:
        return self.units.get(label, self.unit)


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def inspect(model, kind: str, index: int, follower: Follower | None = None) -> Inspection:
    """What the inspector shows about agent `index` of `kind` at the model's current quarter."""
    rec: Records = model.records
    quarters = list(range(len(rec.stance)))
    if kind == "district":
        return _district(model, index, rec, quarters)
    if kind == "member":
        return _member(model, index, rec, quarters)
    if kind == "employer":
        return _employer(model, index, rec, quarters)
    if kind == "participant":
        return _participant(model, index, follower)
    raise ValueError(f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}")


def _district(model, d: int, rec: Records, quarters: list[int]) -> Inspection:
    pop = model.population
    people = float((pop.district == d).sum() * pop.weight)
    crypto = float(rec.district_crypto_usd[-1][d])
    holders = float(rec.district_holders[-1][d])
    voters = model.params["votes_per_district"]
    m = model.politics.members[d]
    rows = [
        ("state", STATES[int(model.geography.district_state[d])]),
        ("401(k) participants", f"{people:,.0f}"),
        ("holding crypto", f"{holders:,.0f} ({_pct(holders / people) if people else '0%'})"),
        ("crypto held", money(crypto)),
        ("crypto per voter", money(crypto / voters)),
        ("voters' holders share", _pct(holders / voters)),
        ("member", f"{PARTY.get(m.party, '?')}, member id {m.unique_id}"),
        ("member's stance", f"{m.stance:+.2f} log-odds ({'pro' if m.stance > 0 else 'anti'}-crypto)"),
        ("support from exposure", f"{m.stance - m.shadow:+.2f} log-odds"),
    ]
    return Inspection(
        title=f"District {cartogram().names[d]}",
        rows=rows,
        quarters=quarters,
        series={
            "crypto held": [float(x[d]) / 1e6 for x in rec.district_crypto_usd],
            "member's stance": [float(x[d]) for x in rec.stance],
        },
        units={"crypto held": "$M", "member's stance": "log-odds"},
        note="member's stance in log-odds of voting against a crackdown (> 0: pro-crypto)",
    )


def _member(model, slot: int, rec: Records, quarters: list[int]) -> Inspection:
    m = model.politics.members[slot]
    rows = [
        ("seat", seat_name(m)),
        ("chamber", m.chamber),
        ("party", {1: "Republican", -1: "Democratic"}.get(m.party, str(m.party))),
        ("member id", str(m.unique_id)),
        ("in office since", quarter_to_date(m.elected)),
        ("stance", f"{m.stance:+.2f} log-odds ({'pro' if m.stance > 0 else 'anti'}-crypto)"),
        ("stance without exposure", f"{m.shadow:+.2f} log-odds"),
        ("support from exposure", f"{m.stance - m.shadow:+.2f} log-odds"),
        ("ideology", f"{m.ideology:+.2f} log-odds"),
        ("re-election concern", f"{m.concern:.2f}"),
        ("lobbying received", money(m.lobbying)),
    ]
    return Inspection(
        title=f"Member for {seat_name(m)}",
        rows=rows,
        quarters=quarters,
        series={
            "stance": [float(x[slot]) for x in rec.stance],
            "without exposure": [float(x[slot]) for x in rec.shadow],
        },
        unit="log-odds",
        note="the seat's member over time (a new member after an election); > 0: pro-crypto",
    )


def _employer(model, e: int, rec: Records, quarters: list[int]) -> Inspection:
    emp = list(model.employers)[e]
    peers = [p.index for p in emp.peers]
    rows = [
        ("plan", f"{('small', 'mid-size', 'large')[emp.segment]}, {emp.plan_participants:,.0f} participants"),
        ("offers crypto", "yes" if emp.offers_crypto else "no"),
        ("since", "-" if emp.offered_since is None else quarter_to_date(emp.offered_since)),
        ("cap", _pct(emp.cap) if emp.offers_crypto else "-"),
        ("caution", f"{emp.caution:.2f}"),
        ("auto-enrols", "yes" if emp.auto_enrol else "no"),
        ("peers offering", f"{sum(rec.offers[-1][peers])} of {len(peers)}"),
        ("perceived litigation", f"{emp.perceived_litigation():.3f}"),
        ("offer score", f"{emp.offer_score():+.2f} log-odds"),
        ("last sued", "-" if emp.sued_quarter is None else quarter_to_date(emp.sued_quarter)),
    ]
    return Inspection(
        title=f"Employer {e}",
        rows=rows,
        quarters=quarters,
        series={
            "offers crypto (100% = yes)": [100.0 * float(x[e]) for x in rec.offers],
            "peers offering": [100.0 * float(x[peers].mean()) if peers else 0.0 for x in rec.offers],
        },
        unit="%",
    )


def _participant(model, row: int, f: Follower | None) -> Inspection:
    if f is None or f.row != row:
        f = Follower(model, row)
    hist = [h for h in f.history if not h.get("retired")]
    a = f.agent
    last = f.history[-1]
    if last.get("retired"):
        rows = [("status", f"retired in {quarter_to_date(last['left'])}; the row is someone else now")]
    else:
        rows = [
            ("age", f"{a.age:.1f}"),
            ("district", cartogram().names[int(model.population.district[row])]),
            ("employer", str(a.employer)),
            ("salary", f"{money(a.salary)} a year"),
            ("balance", money(last["balance"]) + " per person"),
            ("crypto", f"{money(last['crypto'])} ({_pct(last['crypto_share'])} of balance)"),
            ("plan offers crypto", "yes" if last["offered"] else "no"),
            (
                "holds crypto",
                {"active": "by own choice", "default": "through the default product"}.get(a.state, "no"),
            ),
            ("chosen allocation", _pct(a.alloc)),
            ("in the default product", "yes" if a.in_default else "no"),
            ("peers holding", _pct(a.peer_share)),
            ("crypto affinity", f"{a.affinity:+.2f}"),
            ("loss aversion", f"{a.loss_aversion:.2f}"),
        ]
    return Inspection(
        title=f"Participant {row} (agent {a.unique_id})",
        rows=rows,
        quarters=[h["quarter"] for h in hist],
        series={
            "crypto share of balance": [100 * h["crypto_share"] for h in hist],
            "chosen allocation": [100 * h["alloc"] for h in hist],
            "peers holding": [100 * h["peer_share"] for h in hist],
        },
        unit="%",
        note=f"followed since {quarter_to_date(f.history[0]['quarter'])}",
    )

"""Congress as columns: one row per seat (slot), whoever holds it now.

Slots 0-434 are the House by district, 435-534 the Senate (two per state): the order of roll
calls. When a member leaves (defeated or retired at an election) the new member takes the slot
with a new `ident`; the table logs departures so old handles can say when their member left.
Stances are log-odds of voting against a standard crackdown bill (> 0: pro-crypto); the shadow
stance follows the same rule without constituents' exposure.
"""

from __future__ import annotations

import numpy as np

from agents.rows import Departures

HOUSE, SENATE = 435, 100


class Members:
    """Every member of Congress as columns (row = slot)."""

    def __init__(self, seat, party, ideology, concern, senate_class, quarter: int):
        n = len(seat)
        self.n = n
        self.ident = np.arange(n, dtype=np.int64)  # the member's number (new members count on)
        self.next_ident = n
        self.departures = Departures()
        self.house = np.arange(n) < HOUSE  # fixed per slot
        self.seat = np.asarray(seat, np.int64)  # district (House) or state (Senate) index
        self.party = np.asarray(party, np.int64)  # +1 Republican, -1 Democratic
        self.senate_class = np.asarray(senate_class, np.int64)  # 0-2 for senators, -1 in the House
        self.ideology = np.asarray(ideology, float)  # own crypto leaning, log-odds
        self.ideology_exposure = np.zeros(n)  # part of the ideology brought from constituents' exposure
        self.concern = np.asarray(concern, float)  # re-election concern, 0-1
        self.lobbying = np.zeros(n)  # lobbying received, USD (decaying stock)
        self.elected = np.full(n, quarter, np.int64)
        self.stance = self.ideology.copy()
        self.shadow = self.ideology.copy()

    def replace(self, slots, party, ideology, ideology_exposure, concern, quarter: int) -> None:
        """New members take `slots` (lobbying starts at 0); the old ones are logged as gone."""
        slots = np.asarray(slots, np.int64)
        self.departures.add(quarter, self.ident[slots])
        self.ident[slots] = self.next_ident + np.arange(len(slots))
        self.next_ident += len(slots)
        self.party[slots] = party
        self.ideology[slots] = ideology
        self.ideology_exposure[slots] = ideology_exposure
        self.concern[slots] = concern
        self.lobbying[slots] = 0.0
        self.elected[slots] = quarter

"""Politician: a House member or senator whose crypto stance moves with constituents and money.

A thin Mesa agent over its seat's row of Congress's columns (agents/politician/table.py), made
when first asked for (agents/rows.py); the rule (agents/politician/rule.py) is written once and
run for all members in one pass by the model, or for this member alone by its verbs. State:
chamber, seat (district 0-434 or state 0-49), party (+1 Republican, -1 Democratic), ideology
toward crypto, current stance and shadow stance, re-election concern (0-1) and the lobbying
received (a stock in USD). Stances are log-odds of voting against a standard crackdown bill:
stance > 0 is a pro-crypto member.
"""

from __future__ import annotations

from agents.politician import rule
from agents.politician.table import HOUSE
from agents.rows import Column, RowAgent


class Politician(RowAgent):
    """One member of Congress."""

    TABLE = "member_table"
    KIND = "member of Congress"

    seat = Column()  # district (House) or state (Senate) index
    party = Column()  # +1 Republican, -1 Democratic
    senate_class = Column()  # 0-2 for senators: which third is up with which House election
    ideology = Column()  # own crypto leaning, log-odds
    ideology_exposure = Column()  # part of the ideology brought from constituents' exposure
    concern = Column()  # re-election concern, 0-1
    lobbying = Column()  # lobbying received, USD (decaying stock)
    elected = Column()  # quarter the member took the seat (0: the quarter-0 Congress)
    stance = Column()  # log-odds of voting against a standard crackdown
    shadow = Column()  # the same without constituents' exposure

    @property
    def slot(self) -> int:
        """0-434 the House by district, 435-534 the Senate: the order of roll calls."""
        return self.current_row()

    @property
    def chamber(self) -> str:
        """'house' or 'senate'."""
        return "house" if self.slot < HOUSE else "senate"

    @property
    def politics(self):
        """The Congress this member sits in (model/politics.py)."""
        return self.model.politics

    @property
    def pro_crypto(self) -> bool:
        """Would vote against a standard crackdown (more likely than not)."""
        return self.stance > 0.0

    def update_stance(self) -> None:
        """Move the stance (and its shadow) part of the way to this quarter's targets."""
        self.politics.update_stances([self.slot])

    def settle(self) -> None:
        """Take the targets at once (a member starting a term, or the quarter-0 Congress)."""
        self.politics.settle([self.slot])

    def vote(self, kind: str, shock: float, u: float) -> bool:
        """Yes or no on a bill of `kind`, given the bill's national mood and a uniform draw."""
        return u < float(rule.yes_probability(self.stance, kind, shock))

    def step(self) -> None:
        """A member's quarter: the stance update (the model runs it for all members at once)."""
        self.update_stance()

    def __repr__(self) -> str:
        party = "R" if self.party > 0 else "D"
        return f"<Politician {self.chamber} seat {self.seat} {party} stance {self.stance:+.2f}>"

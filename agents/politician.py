"""Politician: a House member or senator whose crypto stance moves with constituents and money.

State: chamber, seat (district 0-434 or state 0-49), party (+1 Republican, -1 Democratic),
ideology toward crypto, current stance and a shadow stance, re-election concern (0-1) and the
lobbying received (a stock in USD). Stances are log-odds of voting against a standard
crackdown bill: stance > 0 is a pro-crypto member.

Each quarter (`update_stance`) the stance moves a share `stance_adjust_speed` of the way to

    target = ideology + lobbying_weight x ln(1 + lobbying / lobbying_ref_usd)
             - scandal_weight x scandal salience
             + concern x proximity x constituent pressure

where constituent pressure (model/politics.py) grows with the share of the seat's voters and of
its 401(k) dollars held in crypto and with their last-quarter gains (losses lower it), and
proximity rises from 0.5 to 1 as the member's next election nears. The shadow stance follows
the same rule without the constituent terms (and without the part of the ideology a member
elected since brought from the constituents' exposure): the difference between stance and
shadow is the support the exposure adds, which the moat index counts.

A vote (`vote`) is yes with probability logistic(direction x stance - severity + shock), the
direction being -1 for a crackdown and +1 for a protection bill, and the shock the bill's
common national mood (positive = anti-crypto, drawn once per bill).
"""

from __future__ import annotations

import mesa
import numpy as np

# bill kind: (direction of a pro-crypto member's yes, severity in log-odds). A crackdown that
# removes crypto from plans asks more of members than one that tightens the rule; codifying a
# safe harbour asks members to act, not just to block (assumptions).
BILLS: dict[str, tuple[int, float]] = {
    "crackdown_tighten": (-1, 0.0),
    "crackdown_ban": (-1, 0.5),
    "protection": (+1, 0.5),
}
STANDARD_CRACKDOWN = "crackdown_tighten"


def yes_probability(stance, kind: str, shock=0.0):
    """Chance of voting yes on a bill of `kind` (elementwise over stances, log-odds)."""
    direction, severity = BILLS[kind]
    x = direction * np.asarray(stance) - severity - direction * shock
    with np.errstate(over="ignore"):  # exp(-x) = inf for x << 0 gives the right limit, 0
        return 1.0 / (1.0 + np.exp(-x))


class Politician(mesa.Agent):
    """One member of Congress."""

    def __init__(
        self,
        model,
        politics,
        chamber: str,
        seat: int,
        party: int,
        ideology: float,
        concern: float,
        ideology_exposure: float = 0.0,
        senate_class: int = -1,
        lobbying: float = 0.0,
        slot: int = 0,
    ):
        super().__init__(model)
        self.slot = slot  # 0-434 the House by district, 435-534 the Senate: the order of roll calls
        self.politics = politics  # the Congress this member sits in (model/politics.py)
        self.chamber = chamber  # "house" or "senate"
        self.seat = seat  # district (House) or state (Senate) index
        self.party = party  # +1 Republican, -1 Democratic
        self.senate_class = senate_class  # 0-2 for senators: which third is up with which House election
        self.ideology = ideology  # own crypto leaning, log-odds
        self.ideology_exposure = ideology_exposure  # part of the ideology brought from constituents' exposure
        self.concern = concern  # re-election concern, 0-1
        self.lobbying = lobbying  # lobbying received, USD (decaying stock)
        self.elected = model.quarter
        self.stance = ideology
        self.shadow = ideology - ideology_exposure
        self.settle()

    def _targets(self) -> tuple[float, float]:
        """(target without constituents' exposure, target with it), log-odds."""
        pol = self.politics
        base = (
            self.ideology - self.ideology_exposure + pol.lobbying_effect(self.lobbying) - pol.scandal_term()
        )
        exposure = self.ideology_exposure + self.concern * pol.proximity(self) * pol.pressure_of(self)
        return base, base + exposure

    def update_stance(self) -> None:
        """Move the stance (and its shadow) part of the way to this quarter's targets."""
        speed = self.model.params["stance_adjust_speed"]
        base, full = self._targets()
        self.stance += speed * (full - self.stance)
        self.shadow += speed * (base - self.shadow)

    def settle(self) -> None:
        """Take the targets at once (a member starting a term, or the quarter-0 Congress)."""
        self.shadow, self.stance = self._targets()

    @property
    def pro_crypto(self) -> bool:
        """Would vote against a standard crackdown (more likely than not)."""
        return self.stance > 0.0

    def vote(self, kind: str, shock: float, u: float) -> bool:
        """Yes or no on a bill of `kind`, given the bill's national mood and a uniform draw."""
        return u < float(yes_probability(self.stance, kind, shock))

    def __repr__(self) -> str:
        party = "R" if self.party > 0 else "D"
        return f"<Politician {self.chamber} seat {self.seat} {party} stance {self.stance:+.2f}>"

"""The member's stance and vote, written once and run for any set of members in one pass.

Each quarter the stance moves a share `stance_adjust_speed` of the way to

    target = ideology + lobbying_weight x ln(1 + lobbying / lobbying_ref_usd)
             - scandal_weight x scandal salience
             + concern x proximity x constituent pressure

where constituent pressure (model/politics.py) grows with what the seat's voters hold in crypto
and with their last-quarter gains (losses lower it), and proximity rises from 0.5 to 1 as the
member's next election nears. The shadow stance follows the same rule without the constituent
terms (and without the part of the ideology a member elected since brought from the
constituents' exposure): the difference between stance and shadow is the support the exposure
adds, which the moat index counts.

A vote is yes with probability logistic(direction x stance - severity + shock), the direction
being -1 for a crackdown and +1 for a protection bill, and the shock the bill's common national
mood (positive = anti-crypto, drawn once per bill).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import expit

from agents.politician.table import Members

# bill kind: (direction of a pro-crypto member's yes, severity in log-odds). A crackdown that
# removes crypto from plans asks more of members than one that tightens the rule; codifying a
# safe harbour asks members to act, not just to block (assumptions).
BILLS: dict[str, tuple[int, float]] = {
    "crackdown_tighten": (-1, 0.0),
    "crackdown_ban": (-1, 0.5),
    "protection": (+1, 0.5),
}
STANDARD_CRACKDOWN = "crackdown_tighten"


class Pull(NamedTuple):
    """What moves the members of `rows` this quarter (per member unless said)."""

    lobbying_effect: np.ndarray  # stance bought by each member's lobbying stock, log-odds
    scandal: float  # stance every member loses to scandal salience, log-odds
    proximity: np.ndarray  # weight of re-election, 0.5 just after an election to 1 in its quarter
    pressure: np.ndarray  # constituent pressure on each member's seat, log-odds


def yes_probability(stance, kind: str, shock=0.0):
    """Chance of voting yes on a bill of `kind` (elementwise over stances, log-odds)."""
    direction, severity = BILLS[kind]
    return expit(direction * np.asarray(stance) - severity - direction * shock)


def targets(t: Members, rows, pull: Pull) -> tuple[np.ndarray, np.ndarray]:
    """(target without constituents' exposure, target with it) of `rows`, log-odds."""
    base = t.ideology[rows] - t.ideology_exposure[rows] + pull.lobbying_effect - pull.scandal
    exposure = t.ideology_exposure[rows] + t.concern[rows] * pull.proximity * pull.pressure
    return base, base + exposure


def update_stances(t: Members, rows, pull: Pull, speed: float) -> None:
    """Move the stances (and shadows) of `rows` a share `speed` of the way to their targets."""
    base, full = targets(t, rows, pull)
    t.stance[rows] += speed * (full - t.stance[rows])
    t.shadow[rows] += speed * (base - t.shadow[rows])


def settle(t: Members, rows, pull: Pull) -> None:
    """Take the targets at once (members starting a term, or the quarter-0 Congress)."""
    t.shadow[rows], t.stance[rows] = targets(t, rows, pull)


def votes(t: Members, rows, kind: str, shock: float, u: np.ndarray) -> np.ndarray:
    """Yes (True) or no of `rows` on a bill of `kind`, given its national mood and uniforms."""
    return u < yes_probability(t.stance[rows], kind, shock)

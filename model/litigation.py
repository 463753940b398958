"""The litigation climate plan sponsors read: it rises after crashes, scandals and lawsuits.

A crisis is the part of a drawdown beyond what is ordinary for crypto, in units of
`crisis_drawdown_scale`, plus scandal salience:

    crisis_t = max(0, drawdown_t - ordinary_drawdown) / crisis_drawdown_scale + scandal_t

(a 30% fall is ordinary, an 80% fall or a fraud is a full crisis; crackdown bills read the same
measure, model/politics.py). The climate is

    level_t = memory x level_{t-1} + (1 - memory) x min(1, crisis_t + share of offering plans sued_t),

all shares of 1.
"""

from __future__ import annotations


class LitigationClimate:
    """Perceived risk (0-1) that offering crypto brings a fiduciary lawsuit."""

    def __init__(self, params: dict):
        self.memory = params["litigation_memory"]
        self.ordinary = params["ordinary_drawdown"]
        self.scale = params["crisis_drawdown_scale"]
        self.level = 0.0
        self.sued_share = 0.0

    def excess_drawdown(self, drawdown: float) -> float:
        """Drawdown beyond what is ordinary for crypto (share of 1)."""
        return max(0.0, drawdown - self.ordinary)

    def crisis(self, drawdown: float, scandal: float) -> float:
        """How much of a crisis a drawdown (share of 1) and scandal salience make (crisis units)."""
        return self.excess_drawdown(drawdown) / self.scale + scandal

    def update(self, drawdown: float, scandal: float, sued_share: float) -> None:
        """Fold this quarter's drawdown, scandal salience and lawsuits into the level."""
        shock = min(1.0, self.crisis(drawdown, scandal) + sued_share)
        self.sued_share = sued_share
        self.level = self.memory * self.level + (1.0 - self.memory) * shock

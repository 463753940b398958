"""The litigation climate plan sponsors read: it rises after crashes, scandals and lawsuits.

level_t = memory x level_{t-1} + (1 - memory) x shock_t, with
shock_t = min(1, max(0, drawdown - 0.3) / 0.5 + scandal_t + share of offering plans sued_t),
all shares of 1. A 30% fall is ordinary for crypto (60-day volatility ~50%); an 80% fall, or
a fraud, saturates the shock.
"""

from __future__ import annotations

ORDINARY_DRAWDOWN = 0.3


class LitigationClimate:
    """Perceived risk (0-1) that offering crypto brings a fiduciary lawsuit."""

    def __init__(self, params: dict):
        self.memory = params["litigation_memory"]
        self.level = 0.0
        self.sued_share = 0.0

    def excess_drawdown(self, drawdown: float) -> float:
        """Drawdown beyond what is ordinary for crypto (share of 1)."""
        return max(0.0, drawdown - ORDINARY_DRAWDOWN)

    def update(self, drawdown: float, scandal: float, sued_share: float) -> None:
        """Fold this quarter's drawdown, scandal salience and lawsuits into the level."""
        shock = min(1.0, self.excess_drawdown(drawdown) / 0.5 + scandal + sued_share)
        self.sued_share = sued_share
        self.level = self.memory * self.level + (1.0 - self.memory) * shock

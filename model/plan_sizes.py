"""Heavy-tailed 401(k) plan sizes by segment.

PLANSPONSOR Recordkeeping Survey 2025: plans under $10M are 93.1% of plans with 20.8% of
participants and 9.8% of assets (~26 participants each); plans over $200M are 0.55% of plans
with 54.3% of participants and 71.4% of assets (~11,248 participants each). The middle segment
is the remainder: 6.35% of plans, 24.9% of participants, 18.8% of assets (~526 participants
each, derived from 72.2M participants in 604,400 plans, EBSA Form 5500 2019).
Within a segment, plan sizes are lognormal (sd `plan_size_sd`) around the segment mean.
"""

from __future__ import annotations

import numpy as np

SEGMENTS = ("small", "mid", "large")
PLAN_SHARE = np.array([0.931, 0.0635, 0.0055])
PARTICIPANT_SHARE = np.array([0.208, 0.249, 0.543])
ASSET_SHARE = np.array([0.098, 0.188, 0.714])
MEAN_PARTICIPANTS = np.array([26.0, 526.0, 11_248.0])
# Balance level of a segment's participants relative to the average participant.
BALANCE_FACTOR = ASSET_SHARE / PARTICIPANT_SHARE


def draw_plans(n: int, sigma: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Segment index and real participant count of `n` plans.

    Plans are drawn stratified so that every segment's plan share is met as closely as `n`
    allows (at least one large plan when n >= 3), then each gets a lognormal size.
    """
    counts = np.floor(PLAN_SHARE * n).astype(int)
    if n >= 3:
        counts = np.maximum(counts, 1)
    counts[0] = n - counts[1:].sum()
    if counts[0] < 0:  # tiny n: keep what fits, largest segments first
        counts = np.array([0, max(0, n - 1), min(1, n)])
    segment = np.repeat(np.arange(3), counts)
    size = MEAN_PARTICIPANTS[segment] * np.exp(sigma * rng.standard_normal(n) - 0.5 * sigma**2)
    return segment, np.maximum(size, 1.0)


def participant_weights(segment: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Chance that a participant works at each plan, so segments hold their participant shares."""
    w = np.zeros(len(size))
    for s in range(3):
        mask = segment == s
        if mask.any():
            w[mask] = PARTICIPANT_SHARE[s] * size[mask] / size[mask].sum()
    return w / w.sum()

"""Medians and percentiles of large arrays from one partition, equal bit for bit to numpy's.

The retirement-security outputs read several order statistics of the same population every
quarter; `np.median` and `np.percentile` would each partition the whole array. `order_statistics`
partitions once for all the ranks asked for and then applies numpy's own formulas: the median is
the mean of the middle one or two values, a percentile interpolates linearly between the two
ranks around (n - 1) x q / 100, as `np.percentile`'s default ("linear", Hyndman & Fan's 7th)
computes it. tests/test_quantiles.py checks the equality.
"""

from __future__ import annotations

import math

import numpy as np


def _ranks(n: int, q: float) -> tuple[int, int, float]:
    """(lower rank, upper rank, weight of the upper) of the q-th percentile of n values."""
    virtual = (n - 1) * (q / 100.0)
    lo = math.floor(virtual)
    if virtual >= n - 1:
        return n - 1, n - 1, 1.0
    return lo, lo + 1, virtual - lo


def order_statistics(x: np.ndarray, percentiles: tuple[float, ...] = ()) -> tuple[float, list[float]]:
    """(median, [each percentile in `percentiles`]) of a non-empty array without NaN."""
    n = len(x)
    half = n // 2
    ranks = [_ranks(n, q) for q in percentiles]
    kth = {half} | ({half - 1} if n % 2 == 0 else set())
    for lo, hi, _ in ranks:
        kth |= {lo, hi}
    part = np.partition(x, sorted(kth))
    median = float((part[half - 1] + part[half]) / 2.0) if n % 2 == 0 else float(part[half])
    out = []
    for lo, hi, t in ranks:
        a, b = part[lo], part[hi]
        diff = b - a
        out.append(float(b - diff * (1.0 - t)) if t >= 0.5 else float(a + diff * t))
    return median, out

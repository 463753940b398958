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


def order_statistics(
    x: np.ndarray, percentiles: tuple[float, ...] = (), ones: int = 0
) -> tuple[float, list[float]]:
    """(median, [each percentile in `percentiles`]) of the values `x` together with `ones`
    more values equal to exactly 1.0 (without NaN; at least one value in all).

    Most savers never held crypto and their balance ratio is exactly 1: passing them as a count
    instead of an array makes the cost grow with the holders only.
    """
    n = len(x) + ones
    half = n // 2
    ranks = [_ranks(n, q) for q in percentiles]
    wanted = {half} | ({half - 1} if n % 2 == 0 else set())
    for lo, hi, _ in ranks:
        wanted |= {lo, hi}
    value = _ranked(np.asarray(x, float), sorted(wanted), ones)
    median = float((value[half - 1] + value[half]) / 2.0) if n % 2 == 0 else float(value[half])
    out = []
    for lo, hi, t in ranks:
        a, b = value[lo], value[hi]
        diff = b - a
        out.append(float(b - diff * (1.0 - t)) if t >= 0.5 else float(a + diff * t))
    return median, out


def _ranked(x: np.ndarray, ranks: list[int], ones: int) -> dict[int, np.float64]:
    """The values at `ranks` (0 = smallest) of x merged with `ones` values of 1.0."""
    if not ones:
        part = np.partition(x, ranks)
        return {r: part[r] for r in ranks}
    below = int((x < 1.0).sum())
    equal = int((x == 1.0).sum()) + ones
    # sorted merge: x's values below 1, then every 1, then x's values above 1
    need = sorted({r if r < below else r - ones for r in ranks if not below <= r < below + equal})
    part = np.partition(x, need) if need else x
    one = np.float64(1.0)
    return {r: (part[r] if r < below else one if r < below + equal else part[r - ones]) for r in ranks}

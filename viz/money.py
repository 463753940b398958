"""Money as the page writes it, everywhere: one rule, read by the Python views and by the charts.

`money(x)` writes US dollars as "-$0.29B" would be written: the sign before the dollar sign
(never "$-0.29B"), the unit chosen by size (T, B, M, k, whole dollars, cents below $1) with the
decimals the rule gives it, and no sign on an amount that rounds to zero. The rule (`SCALES`)
is data: viz/widgets.py sends it to every chart, whose browser code (viz/chart.vue) applies the
same rule to tooltips and axis labels, so a number reads the same in a monitor, the inspector,
a tooltip and an axis (tests/test_app_browser.py compares the two on the same numbers).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

# (smallest amount, divisor, suffix, decimals), largest first; the first row the amount reaches
# is used, and one row up when rounding would write 1,000 of a unit that has a larger one.
SCALES: tuple[tuple[float, float, str, int], ...] = (
    (1e12, 1e12, "T", 2),
    (1e9, 1e9, "B", 2),
    (1e6, 1e6, "M", 1),
    (1e3, 1e3, "k", 1),
    (1.0, 1.0, "", 0),
    (0.0, 1.0, "", 2),
)


def money(x: float, trim: bool = False) -> str:
    """US dollars `x` as text: "$72.30B", "-$290.4M", "$45.2k", "$950", "$0.42".

    trim=True drops trailing zeros of the decimals ("$1k", "$2.5B"): for axis labels, whose
    round ticks would otherwise read "$1.0k".
    """
    x = float(x)
    if not math.isfinite(x):
        return "–"
    size = abs(x)
    if size == 0:
        return "$0"
    i = next(k for k, row in enumerate(SCALES) if size >= row[0])
    number = _rounded(size, i)
    if number >= 1000 and i > 0:  # 999.96M is written $1.00B
        i -= 1
        number = _rounded(size, i)
    _at, _divisor, suffix, decimals = SCALES[i]
    text = f"{number:,.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    sign = "-" if x < 0 and number != 0 else ""
    return f"{sign}${text}{suffix}"


def _rounded(size: float, row: int) -> Decimal:
    """`size` in the row's unit, rounded half up on its exact binary value (JavaScript's toFixed
    rounds the same way, so the browser writes the same digits)."""
    _at, divisor, _suffix, decimals = SCALES[row]
    return Decimal(size / divisor).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)

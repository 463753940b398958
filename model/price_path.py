"""A crypto price path a user supplies (or the observed history), replayed as the exogenous market.

A price file is CSV with a header naming at least the columns `date` (an ISO date, YYYY-MM-DD)
and `price` (a positive number in any unit: only ratios are used); other columns (a `source`)
are allowed and ignored. Rows are in time order, one date each, none before the executive order
(7 Aug 2025), and the file starts by the end of quarter 0 (1 Oct 2025): the price index is 1 at
that moment.

The model's quarter q (1, 2, ...) is the calendar quarter 2025Q3 + q cut into 13 equal weeks.
For every week whose end the file covers, the exogenous market's log return is the file's log
price change over that week (prices between the file's dates are interpolated log-linearly, so
a coarser file, e.g. monthly, is spread over the weeks: `coarse` says so); the no-401(k) price
then follows the file exactly, for every seed. After the file's last covered week the market
continues with drawn returns from the last observed price. Bad files (not CSV, missing columns,
a bad date or price, dates out of order or repeated, dates before the order, a gap) are refused
with one line naming the row, before any work.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from model import inputs
from model.calendar import START_QUARTER, START_YEAR
from model.errors import InputError

ORDER_DATE = date(2025, 8, 7)  # EO 14330
WEEKS = 13
MAX_ROWS = 1_000_000
# Two dates further apart than GAP_FACTOR times the file's usual spacing (and more than a week)
# are a gap: a hole in the series, not a coarser file.
GAP_FACTOR = 3.0


def quarter_start(quarter: int) -> date:
    """First day of model quarter `quarter` (0 = 2025Q3)."""
    index = START_YEAR * 4 + START_QUARTER - 1 + quarter
    return date(index // 4, 3 * (index % 4) + 1, 1)


REFERENCE_DATE = quarter_start(1)  # the end of quarter 0: price index 1


def week_ends(quarter: int) -> np.ndarray:
    """The ends of quarter `quarter`'s 13 weeks, in days since REFERENCE_DATE (float)."""
    start = (quarter_start(quarter) - REFERENCE_DATE).days
    length = (quarter_start(quarter + 1) - quarter_start(quarter)).days
    return start + length * np.arange(1, WEEKS + 1) / WEEKS


@dataclass(frozen=True)
class PricePath:
    """A validated price path: days since REFERENCE_DATE and the log price index at each."""

    days: np.ndarray  # float, increasing
    log_index: np.ndarray  # log(price / price at REFERENCE_DATE)
    first: date
    last: date
    rows: int
    coarse: bool  # spacing coarser than weekly: prices between dates are interpolated

    def log_at(self, days: np.ndarray) -> np.ndarray:
        """The log price index at `days` since REFERENCE_DATE (log-linear between dates)."""
        return np.interp(days, self.days, self.log_index)

    def covers(self, days: float) -> bool:
        """Whether the file reaches `days` since REFERENCE_DATE."""
        return days <= self.days[-1] + 1e-9

    def quarter_levels(self, quarter: int) -> tuple[np.ndarray, int]:
        """(log price index at the end of each of the quarter's weeks, number of weeks covered)."""
        ends = week_ends(quarter)
        covered = int(np.searchsorted(ends, self.days[-1] + 1e-9, side="right"))
        return self.log_at(ends), covered

    @property
    def last_covered_quarter(self) -> int:
        """The last model quarter with at least one covered week (0 when none)."""
        q = 0
        while self.quarter_levels(q + 1)[1] > 0:
            q += 1
        return q

    def describe(self) -> str:
        """One line saying what the path covers and how it is used."""
        weeks = sum(self.quarter_levels(q)[1] for q in range(1, self.last_covered_quarter + 1))
        note = "; coarser than weekly: prices between its dates are interpolated" if self.coarse else ""
        return (
            f"{self.rows} prices from {self.first.isoformat()} to {self.last.isoformat()}: the exogenous"
            f" market replays {weeks} weeks (to quarter {self.last_covered_quarter}), then draws{note}"
        )


def parse(content: bytes, name: str) -> PricePath:
    """The price path in a CSV file's bytes, or an InputError naming the file, the row and the problem."""
    allowed = "a CSV file with columns date (YYYY-MM-DD) and price (a positive number), one row per date, in time order"
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("file is not UTF-8 text", source=name, allowed=allowed) from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("file is empty", source=name, allowed=allowed) from None
    except csv.Error as exc:
        raise InputError(f"not valid CSV: {exc}", source=name, allowed=allowed) from None
    columns = [h.strip().lower() for h in header]
    missing = [c for c in ("date", "price") if c not in columns]
    if missing:
        raise InputError(
            f"row 1: no column named {' or '.join(missing)} (the header reads {','.join(header)!r})",
            source=name,
            allowed=allowed,
        )
    i_date, i_price = columns.index("date"), columns.index("price")
    dates: list[date] = []
    prices: list[float] = []
    try:
        for row, fields in enumerate(reader, start=2):
            if not any(f.strip() for f in fields):
                continue  # a blank line
            if len(dates) >= MAX_ROWS:
                raise InputError(f"more than {MAX_ROWS:,} rows", source=name, allowed=allowed)
            d, p = _row(fields, row, i_date, i_price, name, allowed)
            if dates and d <= dates[-1]:
                what = (
                    "repeats the date of the row before"
                    if d == dates[-1]
                    else f"comes before {dates[-1]} on the row before"
                )
                raise InputError(
                    f"row {row}: {d} {what}", source=name, allowed="dates in increasing order, each once"
                )
            dates.append(d)
            prices.append(p)
    except csv.Error as exc:
        raise InputError(f"not valid CSV: {exc}", source=name, allowed=allowed) from None
    if len(dates) < 2:
        raise InputError("fewer than two prices", source=name, allowed=allowed)
    if dates[0] > REFERENCE_DATE:
        raise InputError(
            f"row 2: the file starts on {dates[0]}, after the end of quarter 0",
            source=name,
            allowed=f"a first date from {ORDER_DATE} to {REFERENCE_DATE} (the price index is 1 on {REFERENCE_DATE})",
        )
    days = np.array([(d - REFERENCE_DATE).days for d in dates], float)
    spacing = np.diff(days)
    usual = float(np.median(spacing))
    limit = max(GAP_FACTOR * usual, 7.0)
    holes = np.flatnonzero(spacing > limit)
    if len(holes):
        k = int(holes[0])
        raise InputError(
            f"row {k + 3}: a gap of {int(spacing[k])} days after {dates[k]} (the file's rows are"
            f" usually {usual:g} days apart)",
            source=name,
            allowed=f"rows at most {limit:g} days apart (a coarser file is interpolated, a hole is refused)",
        )
    logs = np.log(np.array(prices))
    ref = float(np.interp(0.0, days, logs))
    path = PricePath(days, logs - ref, dates[0], dates[-1], len(dates), usual > 7.0)
    if path.quarter_levels(1)[1] == 0:
        raise InputError(
            f"the file ends on {dates[-1]}, before the first week of quarter 1 ends",
            source=name,
            allowed=f"prices to at least {REFERENCE_DATE + timedelta(days=7)}",
        )
    return path


def _row(
    fields: list[str], row: int, i_date: int, i_price: int, name: str, allowed: str
) -> tuple[date, float]:
    """One row's date and price, checked."""
    if max(i_date, i_price) >= len(fields):
        raise InputError(f"row {row}: {len(fields)} fields, no date and price", source=name, allowed=allowed)
    text_d, text_p = fields[i_date].strip(), fields[i_price].strip()
    try:
        d = date.fromisoformat(text_d)
    except ValueError:
        raise InputError(
            f"row {row}: {text_d!r} is not a date", source=name, allowed="dates as YYYY-MM-DD"
        ) from None
    if d < ORDER_DATE:
        raise InputError(
            f"row {row}: {d} is before the order ({ORDER_DATE})",
            source=name,
            allowed=f"dates from {ORDER_DATE} (EO 14330) on",
        )
    try:
        p = float(text_p)
    except ValueError:
        raise InputError(
            f"row {row}: price {text_p!r} is not a number", source=name, allowed=allowed
        ) from None
    if not math.isfinite(p) or p <= 0.0:
        raise InputError(
            f"row {row}: price {text_p} is not positive", source=name, allowed="positive prices"
        ) from None
    return d, p


inputs.register(
    inputs.Role(
        "price_path",
        "crypto prices replayed as the exogenous market (CSV with columns date and price)",
        parse=parse,
        scenario_key=True,
    )
)

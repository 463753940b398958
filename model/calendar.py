"""Quarter <-> date and the fixed political calendar.

Quarter 0 is 2025Q3, the quarter of EO 14330 (7 Aug 2025). House elections (with a third of the
Senate) fall every 8 quarters from 2026Q4; presidential elections every 16 quarters from 2028Q4.
"""

from __future__ import annotations

START_YEAR = 2025
START_QUARTER = 3  # 2025Q3
FIRST_HOUSE_ELECTION = 5  # 2026Q4
FIRST_PRESIDENTIAL_ELECTION = 13  # 2028Q4
DEFAULT_QUARTERS = 40


def quarter_to_date(quarter: int) -> str:
    """The calendar quarter of model quarter `quarter`, e.g. 0 -> '2025Q3'."""
    index = (START_YEAR * 4 + START_QUARTER - 1) + quarter
    return f"{index // 4}Q{index % 4 + 1}"


def date_to_quarter(date: str) -> int:
    """The model quarter of a calendar quarter such as '2026Q1' (may be negative)."""
    year, q = date.upper().split("Q")
    return int(year) * 4 + int(q) - 1 - (START_YEAR * 4 + START_QUARTER - 1)


def quarter_of(day) -> int:
    """The model quarter a calendar date (datetime.date) falls in (may be negative)."""
    return day.year * 4 + (day.month - 1) // 3 - (START_YEAR * 4 + START_QUARTER - 1)


def is_house_election(quarter: int) -> bool:
    """Whether a House election (and a Senate third) is held in `quarter` (every November, even years)."""
    return quarter >= FIRST_HOUSE_ELECTION and (quarter - FIRST_HOUSE_ELECTION) % 8 == 0


def is_presidential_election(quarter: int) -> bool:
    """Whether a presidential election is held in `quarter` (Nov 2028, then every 4 years)."""
    return quarter >= FIRST_PRESIDENTIAL_ELECTION and (quarter - FIRST_PRESIDENTIAL_ELECTION) % 16 == 0

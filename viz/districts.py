"""Where the 435 congressional districts sit on the page's tile cartogram.

Each state sits on the usual US tile-grid map (11 columns x 8 rows, roughly where the state
lies); in its tile a state's districts fill an about square block of cells, in the model's
district order (model/geography.py), under one row for the state's name. Every district is one
cell of the same size, so a state's area grows with its seats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from model.geography import DISTRICT_STATE, SEATS_2020, STATES

# (column, row) of each state on the tile-grid map (the common 11 x 8 layout; DC is not a state).
TILES = {
    "AK": (0, 0), "ME": (10, 0),
    "VT": (9, 1), "NH": (10, 1),
    "WA": (0, 2), "ID": (1, 2), "MT": (2, 2), "ND": (3, 2), "MN": (4, 2), "IL": (5, 2), "WI": (6, 2),
    "MI": (7, 2), "NY": (8, 2), "RI": (9, 2), "MA": (10, 2),
    "OR": (0, 3), "NV": (1, 3), "WY": (2, 3), "SD": (3, 3), "IA": (4, 3), "IN": (5, 3), "OH": (6, 3),
    "PA": (7, 3), "NJ": (8, 3), "CT": (9, 3),
    "CA": (0, 4), "UT": (1, 4), "CO": (2, 4), "NE": (3, 4), "MO": (4, 4), "KY": (5, 4), "WV": (6, 4),
    "VA": (7, 4), "MD": (8, 4), "DE": (9, 4),
    "AZ": (1, 5), "NM": (2, 5), "KS": (3, 5), "AR": (4, 5), "TN": (5, 5), "NC": (6, 5), "SC": (7, 5),
    "OK": (3, 6), "LA": (4, 6), "MS": (5, 6), "AL": (6, 6), "GA": (7, 6),
    "HI": (0, 7), "TX": (3, 7), "FL": (8, 7),
}  # fmt: skip
BLOCK = 8  # at most this many districts across a state's block (California's 52 fill 8 x 7)
MIN_WIDTH = 2  # cells, so that every state's name fits above its block


def _block(seats: int) -> tuple[int, int]:
    """(width, height) of a state's block of districts: about square."""
    width = min(BLOCK, math.ceil(math.sqrt(seats)))
    return width, math.ceil(seats / width)


def _spans(sizes: dict[int, int], gap: int) -> tuple[dict[int, int], int]:
    """Start of each column (or row) when each takes `sizes[i]` cells plus `gap`; the total."""
    start, at = {}, 0
    for i in range(max(sizes) + 1):
        start[i] = at
        at += sizes.get(i, 0) + gap
    return start, at - gap


def _layout() -> tuple[dict[int, int], dict[int, int], dict[int, int], dict[int, int], int, int]:
    widths: dict[int, int] = {}
    heights: dict[int, int] = {}
    for state, (col, row) in TILES.items():
        w, h = _block(SEATS_2020[state])
        widths[col] = max(widths.get(col, MIN_WIDTH), w)
        heights[row] = max(heights.get(row, 1), h + 1)  # plus the name row
    x0, columns = _spans(widths, 1)
    y0, rows = _spans(heights, 1)
    return widths, heights, x0, y0, columns, rows


WIDTHS, HEIGHTS, X0, Y0, COLUMNS, ROWS = _layout()


@dataclass(frozen=True)
class Cartogram:
    """Cell (x, y) of each district (y counts down from the top), and each state's name cell."""

    cells: list[tuple[int, int]]  # by district index 0-434
    labels: list[tuple[str, int, int]]  # (state, x, y)
    names: list[str]  # "CA-12", or "WY-AL" for a state's single at-large district


def _first_district() -> dict[int, int]:
    first: dict[int, int] = {}
    for d, s in enumerate(DISTRICT_STATE.tolist()):
        first.setdefault(s, d)
    return first


@lru_cache(maxsize=1)
def cartogram() -> Cartogram:
    """The cartogram of the model's 435 districts (the same for every run).

    Tile columns are as wide as their widest state's block, tile rows as tall as their
    tallest, so the states keep their places on the tile map with little empty space.
    """
    assert set(TILES) == set(STATES), "every state needs a tile"
    first = _first_district()
    cells: list[tuple[int, int]] = []
    names: list[str] = []
    labels = []
    for s_index, state in enumerate(STATES):
        col, row = TILES[state]
        seats = SEATS_2020[state]
        width, height = _block(seats)
        left = X0[col] + (WIDTHS[col] - width) // 2
        top = Y0[row] + 1
        labels.append((state, X0[col] + (WIDTHS[col] - 1) // 2, Y0[row]))
        for k in range(seats):
            cells.append((left + k % width, top + k // width))
            names.append(f"{state}-AL" if seats == 1 else f"{state}-{k + 1}")
        assert first[s_index] == len(cells) - seats, "districts are numbered state by state"
    return Cartogram(cells, labels, names)

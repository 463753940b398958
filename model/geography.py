"""Congressional districts and states: where participants vote.

House seats per state follow the 2020 census apportionment (435 seats; source: US Census
Bureau, Apportionment of the U.S. House of Representatives, April 2021).
"""

from __future__ import annotations

import numpy as np

SEATS_2020 = {
    "AL": 7,
    "AK": 1,
    "AZ": 9,
    "AR": 4,
    "CA": 52,
    "CO": 8,
    "CT": 5,
    "DE": 1,
    "FL": 28,
    "GA": 14,
    "HI": 2,
    "ID": 2,
    "IL": 17,
    "IN": 9,
    "IA": 4,
    "KS": 4,
    "KY": 6,
    "LA": 6,
    "ME": 2,
    "MD": 8,
    "MA": 9,
    "MI": 13,
    "MN": 8,
    "MS": 4,
    "MO": 8,
    "MT": 2,
    "NE": 3,
    "NV": 4,
    "NH": 2,
    "NJ": 12,
    "NM": 3,
    "NY": 26,
    "NC": 14,
    "ND": 1,
    "OH": 15,
    "OK": 5,
    "OR": 6,
    "PA": 17,
    "RI": 2,
    "SC": 7,
    "SD": 1,
    "TN": 9,
    "TX": 38,
    "UT": 4,
    "VT": 1,
    "VA": 11,
    "WA": 10,
    "WV": 2,
    "WI": 8,
    "WY": 1,
}
STATES = tuple(SEATS_2020)
N_DISTRICTS = sum(SEATS_2020.values())
assert N_DISTRICTS == 435
# Electoral votes of each state in the 2024 and 2028 presidential elections: its House seats
# plus its two senators (2020 apportionment); the District of Columbia's 3 electoral votes
# (23rd Amendment) are not a state's, and the model counts them for the Democratic candidate
# (DC voted Democratic in every election since 1964, FEC results). 538 in all, 270 to win.
ELECTORAL_VOTES = np.array([SEATS_2020[s] + 2 for s in STATES])
DC_ELECTORAL_VOTES = 3
ELECTORAL_TOTAL = int(ELECTORAL_VOTES.sum()) + DC_ELECTORAL_VOTES
assert ELECTORAL_TOTAL == 538
# Index of the state of each district, districts numbered state by state.
DISTRICT_STATE = np.repeat(np.arange(len(STATES)), [SEATS_2020[s] for s in STATES]).astype(np.int16)


class Geography:
    """Districts with a partisan lean and a share of the country's 401(k) participants."""

    def __init__(self, params: dict, rng: np.random.Generator):
        # 401(k) coverage varies with local income and employment: district shares of
        # participants are lognormal around equal (sd `district_share_sd`); partisan lean is
        # positive for Republican-leaning districts (sd `district_lean_sd`).
        w = rng.lognormal(0.0, params["district_share_sd"], N_DISTRICTS)
        self.district_share = w / w.sum()
        self.district_lean = rng.normal(0.0, params["district_lean_sd"], N_DISTRICTS)
        self.district_state = DISTRICT_STATE
        self.n_districts = N_DISTRICTS
        self.n_states = len(STATES)

    def state_lean(self) -> np.ndarray:
        """Average partisan lean of each state's districts."""
        sums = np.bincount(self.district_state, weights=self.district_lean, minlength=self.n_states)
        return sums / np.bincount(self.district_state, minlength=self.n_states)

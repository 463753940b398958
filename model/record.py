"""The model's running record: totals the outputs need, kept by the step, and the quarter's row.

Reporters only read: everything that accumulates over quarters (cumulative flows and fees, panic
sales, the balances of everyone who retired) is updated here once per quarter by the model's
step, and the quarter's output row is built from the state right after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.outputs import quarter_outputs

if TYPE_CHECKING:
    import mesa

    from agents.participant.population import Exits


class Record:
    """Running totals (US scale) and the latest output row."""

    def __init__(self) -> None:
        self.cumulative_net_flow = 0.0  # USD
        self.cumulative_invested = 0.0  # USD
        self.cumulative_fees = 0.0  # USD
        self.panic_units = 0.0  # units sold in panics so far
        self.panic_proceeds = 0.0  # USD those sales raised
        # balance ratio of each retiree who held crypto, at retirement: valued at the market's
        # price (row 0) and at the no-401(k) price (row 1)
        self._retirees: list[np.ndarray] = []
        self.retirees_never_held = 0  # retirees who never held crypto (their ratio is exactly 1)
        self._retiree_cache: np.ndarray | None = None
        self.row: dict = {}

    def retirements(self, exits: Exits) -> None:
        """Remember the balance ratios of this quarter's retirees who held crypto, and count the others."""
        self.retirees_never_held += int((~exits.held).sum())
        if exits.held.any():
            self._retirees.append(np.stack([exits.ratio[exits.held], exits.ratio_at_shadow[exits.held]]))
            self._retiree_cache = None

    def retiree_ratios(self, at_shadow_price: bool = False) -> np.ndarray:
        """Balance over counterfactual at retirement of every retiree so far who held crypto
        (their crypto valued at the no-401(k) price if `at_shadow_price`)."""
        if self._retiree_cache is None:
            self._retiree_cache = (
                np.concatenate(self._retirees, axis=1) if self._retirees else np.zeros((2, 0))
            )
        return self._retiree_cache[int(at_shadow_price)]

    def close_quarter(self, model: mesa.Model) -> None:
        """Fold this quarter's flows into the totals, then build the quarter's output row."""
        flows, w = model.flows, model.population.weight
        self.cumulative_net_flow += flows.net * w
        self.cumulative_invested += flows.invested * w
        self.cumulative_fees += flows.fees * w
        self.panic_units += flows.panic_units * w
        self.panic_proceeds += flows.panic_sales * w
        self.row = quarter_outputs(model)

"""Events: a fraud at a crypto custodian or product, and the scandal salience it leaves.

A fraud happens in `fraud_quarter` (a scenario switch) or, any quarter, with probability
`fraud_rate` (one uniform is drawn every quarter from the events stream, so runs with and
without a fraud keep the same random numbers elsewhere). It strikes one manager's products,
chosen with probability proportional to its crypto AUM (any manager selling crypto when no one
holds any yet):

* losses: `fraud_loss_share` of the crypto units held in its menu products (plans whose menu
  option it sells) and in its target-date sleeves (plans it recordkeeps) is stolen: the units
  leave the plans. Their value at the quarter-start price is booked as `Flows.fraud_losses`, so
  that every quarter
      change of crypto AUM = contributions + purchases - sales - withdrawals + returns
                             - fraud losses - fees;
* salience: the model's `scandal` (news salience: participants' attention, lawsuits against
  offering plans, politicians' stances, managers' risk) is `fraud_salience` in the quarter of
  the fraud and decays by `fraud_salience_memory` a quarter after it;
* market: the crypto market takes a one-quarter log shock ln(1 - fraud_market_drop) (the FTX
  collapse, Nov 2022: the crypto market fell by about a fifth within weeks);
* the manager's reputation: its readiness to sell crypto falls (a penalty that halves each
  quarter).
"""

from __future__ import annotations

import math

import numpy as np


class Events:
    """Fraud events and the scandal salience they leave behind."""

    def __init__(self, model):
        self.model = model
        self.rng = model.streams["events"]
        self.salience = 0.0
        self.frauds: list[tuple[int, int | None, float]] = []  # (quarter, manager index, USD lost)
        self._losses_usd = 0.0
        self._fraud_now = False

    def before_quarter(self, q: int) -> None:
        """Decide whether a fraud happens this quarter and apply it; set the scandal salience."""
        p, m = self.model.params, self.model
        self._losses_usd = 0.0
        self._fraud_now = False
        self.salience *= p["fraud_salience_memory"]
        u = self.rng.random(2)
        if q == p["fraud_quarter"] or u[0] < p["fraud_rate"]:
            self._fraud(q, u[1])
        if self.salience < 1e-3:
            self.salience = 0.0
        m.scandal = max(m.scandal, self.salience)

    def _fraud(self, q: int, u: float) -> None:
        p, m = self.model.params, self.model
        products = m.products
        aum = products.manager_aum()
        sellers = np.array([mg.sells_crypto for mg in products.managers])
        weights = aum if aum.sum() > 0 else sellers.astype(float)
        victim = None
        lost = 0.0
        if weights.sum() > 0:
            victim = int(np.searchsorted(np.cumsum(weights) / weights.sum(), u, side="right"))
            victim = min(victim, len(weights) - 1)
            lost = self._destroy(victim, p["fraud_loss_share"])
            products.managers[victim].penalty += p["fraud_penalty"]  # readiness units
        m.flows.fraud_losses += lost
        self._losses_usd = lost * m.population.weight
        self._fraud_now = True
        self.salience += p["fraud_salience"]
        m.market.extra_shock += math.log1p(-p["fraud_market_drop"])
        self.frauds.append((q, victim, self._losses_usd))

    def _destroy(self, victim: int, share: float) -> float:
        """Destroy `share` of the crypto units in the victim's products (they leave the plans, and
        their cost basis with them); USD at the current price per represented person, summed."""
        m = self.model
        pop, products = m.population, m.products
        keep = 1.0 - share
        menu = (products.seller_index() == victim)[pop.employer]
        sleeve = (products.rk_index == victim)[pop.employer]
        lost = float(pop.units_active[menu].sum() * share + pop.units_default[sleeve].sum() * share)
        for units, cost, rows in (
            (pop.units_active, pop.cost_active, menu),
            (pop.units_default, pop.cost_default, sleeve),
        ):
            units[rows] *= keep
            cost[rows] *= keep
        m.market.remove_units(lost * pop.weight)  # the fraudster sells the stolen units
        return lost * pop.price

    def metrics(self) -> dict:
        """This quarter's event outputs."""
        return {
            "fraud": int(self._fraud_now),
            "fraud_losses_usd": float(self._losses_usd),
            "scandal_salience": float(self.salience),
        }

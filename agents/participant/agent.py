"""Participant: a worker, saver and voter.

A thin Mesa agent whose attributes read and write its own row of the population's columns
(agents/participant/population.py), made when first asked for (agents/rows.py): the whole
population decides in one vectorised pass, yet each participant can still be inspected and
followed through Mesa's registry. `decide` runs the same decision rule
(agents/participant/rule.py) for this participant alone; the model never calls it (the
benchmark compares per-agent decisions with the bulk pass, and tests check both agree). When a
participant retires, a new worker takes the row: the old handle then says so (`row` is None,
`left_quarter` the quarter of retirement) and leaves Mesa's registry at the next sync.
"""

from __future__ import annotations

from agents.participant import rule as rules
from agents.rows import Column, RowAgent


class Participant(RowAgent):
    """One 401(k) participant (stands for `model.population.weight` real people)."""

    TABLE = "population"
    KIND = "participant"

    age = Column()  # years
    retire_age = Column()  # years
    salary = Column()  # US dollars a year
    deferral = Column()  # share of salary
    employer = Column()  # employer index
    district = Column()  # congressional district index (0-434)
    party_lean = Column()  # -1 Democratic .. +1 Republican
    risk_target = Column()  # preferred crypto allocation, share
    affinity = Column()  # latent crypto affinity, utility
    attentiveness = Column()  # multiplies the baseline attention hazard
    trend_trait = Column()  # multiplies extrapolation of recent returns
    loss_aversion = Column()  # lambda
    balance_other = Column()  # US dollars, non-crypto part of the balance
    units_active = Column()  # units of crypto held by own choice
    units_default = Column()  # units of crypto held through the default product's sleeve
    counterfactual = Column()  # US dollars the balance would be had no money gone into crypto
    alloc = Column()  # chosen crypto share of contributions and balance
    in_default = Column()  # fully in the default target-date/managed product
    peer_share = Column()  # share of coworkers and contacts holding crypto
    entered = Column()  # quarter this person entered the plan system

    @property
    def crypto_active(self) -> float:
        """Crypto held by own choice, US dollars at the current price."""
        return self.units_active * self.model.population.price

    @property
    def crypto_default(self) -> float:
        """Crypto held through the default product's sleeve, US dollars at the current price."""
        return self.units_default * self.model.population.price

    @property
    def balance(self) -> float:
        """Total balance, US dollars."""
        return self.balance_other + self.crypto_active + self.crypto_default

    @property
    def balance_ratio(self) -> float:
        """Balance over the balance with no crypto ever (1: never held crypto)."""
        return self.balance / self.counterfactual

    @property
    def holds_crypto(self) -> bool:
        """Whether this participant holds any crypto, by choice or by default."""
        return self.crypto_active > 0 or self.crypto_default > 0

    @property
    def state(self) -> str:
        """Dominant state for display: 'active', 'default' or 'none'."""
        if self.crypto_active > 0:
            return "active"
        return "default" if self.crypto_default > 0 else "none"

    def step(self) -> None:
        """Participants have no step of their own: the model runs their quarter in one pass.

        `model.agents.do("step")` would otherwise run a different model without a word; the
        one-agent form of the rule is `decide`.
        """
        raise TypeError(
            "participants decide in one vectorised pass run by the model's step();"
            " Participant.decide() runs the same rule for one agent"
        )

    def decide(self) -> None:
        """This participant's allocation decision for the quarter, alone (the bulk pass's rule)."""
        m = self.model
        pop, emp, i = m.population, m.employer_view, self.current_row()
        e = int(pop.employer[i])
        offered = bool(emp.offers[e]) and m.params["channel_401k"]
        u = pop.rng.random(3)
        alloc, _move, _panic, _u = rules.decide(
            float(pop.affinity[i]),
            float(pop.trend_trait[i]),
            float(pop.attentiveness[i]),
            float(pop.loss_aversion[i]),
            float(pop.risk_target[i]),
            float(pop.alloc[i]),
            bool(pop.units_active[i] > 0.0),
            offered,
            float(emp.cap[e] * pop.glide(m.params["glide_path_years"], i)),
            float(emp.fee[e]),
            float(emp.cue[e]),
            float(pop.peer_share[i]),
            u[0],
            u[1],
            u[2],
            m.market_view,
            pop.k,
        )
        pop.alloc[i] = alloc

"""Employer: a 401(k) plan sponsor deciding whether its menu offers crypto.

Each quarter an employer reviews its menu with probability `menu_review_rate`. Its score
(log-odds) for offering crypto is

    s = employer_base_logit + clarity_weight x clarity - litigation_weight x perceived_litigation
        + demand_weight x share of own participants wanting crypto
        + peer_offer_weight x share of network peers offering - caution_weight x caution

A non-offering employer whose recordkeeper (or, at a switching cost `switching_cost` taken off
s, another manager) sells a product adds it with probability logistic(s) and sets a cap of
allocation_cap x (1 - cap_caution_cut x caution); an offering employer drops it with
probability logistic(-s - drop_margin). Offers follow products the same quarter: when the
product on the menu is withdrawn, the plan maps to what it can buy now (its recordkeeper's
product or another manager's), or drops the option when nothing is sold, and the crypto
holdings are then sold into the plan's other funds. Offering employers run employee education
with probability `education_rate`.
"""

from __future__ import annotations

import mesa
from scipy.special import expit as logistic

from agents.asset_manager import Offer


class Employer(mesa.Agent):
    """One plan sponsor agent (stands for us_plans / n_employers real plans of its segment)."""

    def __init__(
        self,
        model,
        index: int,
        segment: int,
        plan_participants: float,
        caution: float,
        auto_enrol: bool,
        match_rate: float,
        match_cap: float,
        industry: int,
        region: int,
    ):
        super().__init__(model)
        self.index = index
        self.segment = segment  # 0 small (<$10M), 1 mid, 2 large (>$200M)
        self.plan_participants = plan_participants  # real participants in one such plan
        self.caution = caution  # fiduciary caution, 0-1
        self.auto_enrol = auto_enrol
        self.match_rate = match_rate  # employer match per unit of deferral
        self.match_cap = match_cap  # deferral share matched up to
        self.industry = industry
        self.region = region
        self.recordkeeper = None  # an AssetManager when the managers module is active
        self.peers: list[Employer] = []
        self.offer: Offer | None = None
        self.cap = 0.0
        self.offered_since: int | None = None
        self.newly_offered = False
        self.educating = False
        self.sued_quarter: int | None = None

    @property
    def offers_crypto(self) -> bool:
        """Whether the menu has a crypto option."""
        return self.offer is not None

    def peer_offer_share(self) -> float:
        """Share of network peers offering crypto."""
        if not self.peers:
            return 0.0
        return sum(p.offer is not None for p in self.peers) / len(self.peers)

    def perceived_litigation(self) -> float:
        """Litigation risk as this employer sees it: the climate, peers sued, own lawsuits (0-1+)."""
        q, p = self.model.quarter, self.model.params
        memory = p["lawsuit_memory_quarters"]
        recent = [e for e in self.peers if e.sued_quarter is not None and q - e.sued_quarter < memory]
        own = 1.0 if self.sued_quarter is not None and q - self.sued_quarter < memory else 0.0
        peer = len(recent) / len(self.peers) if self.peers else 0.0
        return self.model.litigation.level + p["peer_lawsuit_weight"] * peer + own

    def offer_score(self) -> float:
        """Log-odds of wanting crypto on the menu now (see the module docstring)."""
        p, m = self.model.params, self.model
        demand = float(m.population.interest_by_employer[self.index])
        return (
            p["employer_base_logit"]
            + p["clarity_weight"] * m.regulation.clarity
            - p["litigation_weight"] * self.perceived_litigation()
            + p["demand_weight"] * demand
            + p["peer_offer_weight"] * self.peer_offer_share()
            - p["caution_weight"] * self.caution
        )

    def review_menu(self) -> None:
        """Add or drop the crypto option (the quarter's menu decision)."""
        m, p = self.model, self.model.params
        rng = m.streams["employers"]
        self.newly_offered = False
        if not p["channel_401k"]:
            return
        offer = m.products.offer_for(self)
        if self.offer is not None:
            # Offers follow products the same quarter: a withdrawn product is replaced by what
            # the plan can buy now (fund mapping) or, when nothing is sold, the option is dropped
            # and its holdings are sold into the plan's other funds.
            self.offer = m.products.current(self.offer) or offer
            if self.offer is None:
                self.drop()
                return
        if rng.random() >= p["menu_review_rate"]:
            return
        score = self.offer_score()
        if self.offer is None and offer is not None:
            if offer.switching:  # only another manager than the recordkeeper sells crypto
                score -= p["switching_cost"]
            if rng.random() < logistic(score):
                self.start_offering(offer)
        elif self.offer is not None:
            if rng.random() < logistic(-score - p["drop_margin"]):
                self.drop()
            elif offer is not None:
                self.offer = offer  # a review may move the plan to its recordkeeper's product

    def start_offering(self, offer: Offer, newly: bool = True) -> None:
        """Put `offer` on the menu with this sponsor's cap (share of contributions and balance).

        newly: whether participants hear of it as news this quarter (not for quarter-0 offers).
        """
        p = self.model.params
        self.offer = offer
        self.cap = p["allocation_cap"] * (1.0 - p["cap_caution_cut"] * self.caution)
        self.offered_since = self.model.quarter
        self.newly_offered = newly

    def drop(self) -> None:
        """Take crypto off the menu: participants' crypto is mapped into other funds."""
        self.offer = None
        self.cap = 0.0
        self.offered_since = None

    def educate(self) -> None:
        """Decide whether to run employee education on the crypto option this quarter."""
        rng = self.model.streams["employers"]
        self.educating = self.offer is not None and rng.random() < self.model.params["education_rate"]

    def face_lawsuits(self, chance: float) -> bool:
        """Whether this employer is sued this quarter (only offering employers are at risk)."""
        if self.offer is None or chance <= 0.0:
            return False
        if self.model.streams["employers"].random() < chance:
            self.sued_quarter = self.model.quarter
            return True
        return False

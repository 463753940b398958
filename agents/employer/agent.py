"""Employer: a 401(k) plan sponsor deciding whether its menu offers crypto (a Mesa agent).

A thin Mesa agent over its row of the employers' columns (agents/employer/table.py), made when
first asked for (agents/rows.py). Its verbs run the bulk rule (agents/employer/rule.py) for this
employer alone, so `model.agents_by_type[Employer].do("review_menu")` decides exactly as the
model's one-pass review does; the model itself runs the pass for all employers at once.
"""

from __future__ import annotations

from agents.asset_manager import MENU, Offer
from agents.employer import rule
from agents.rows import Column, RowAgent


class Employer(RowAgent):
    """One plan sponsor agent (stands for us_plans / n_employers real plans of its segment)."""

    TABLE = "employer_table"
    KIND = "employer"

    segment = Column()  # 0 small (<$10M), 1 mid, 2 large (>$200M)
    plan_participants = Column()  # real participants in one such plan
    caution = Column()  # fiduciary caution, 0-1
    auto_enrol = Column()
    match_rate = Column()  # employer match per unit of deferral
    match_cap = Column()  # deferral share matched up to
    industry = Column()
    region = Column()
    cap = Column()  # share of contributions and balance allowed in crypto
    newly_offered = Column()
    educating = Column()

    @property
    def index(self) -> int:
        """The employer's index (its row; employers are never replaced)."""
        return self.current_row()

    @property
    def offer(self) -> Offer | None:
        """The crypto product on the menu, or None."""
        t, i = self.table, self.current_row()
        kind = int(t.offer_kind[i])
        if kind < 0:
            return None
        return Offer(MENU[kind], float(t.offer_fee[i]), int(t.offer_manager[i]), bool(t.offer_switching[i]))

    @property
    def offers_crypto(self) -> bool:
        """Whether the menu has a crypto option."""
        return bool(self.table.offer_kind[self.current_row()] >= 0)

    @property
    def offered_since(self) -> int | None:
        """Quarter the current option was added (None when none is offered)."""
        q = int(self.table.offered_since[self.current_row()])
        return None if q < 0 else q

    @property
    def sued_quarter(self) -> int | None:
        """Quarter of the last lawsuit against this sponsor (None: never sued)."""
        q = int(self.table.sued_quarter[self.current_row()])
        return None if q < 0 else q

    @property
    def recordkeeper(self):
        """The asset manager keeping this plan's records."""
        return self.model.products.managers[int(self.table.recordkeeper[self.current_row()])]

    @property
    def peers(self) -> list[Employer]:
        """The employers in this one's peer network, in index order."""
        return [self.model.employer(int(j)) for j in self.table.peers_of(self.current_row())]

    def peer_offer_share(self) -> float:
        """Share of network peers offering crypto."""
        peers = self.table.peers_of(self.current_row())
        return float(self.table.offers[peers].mean()) if len(peers) else 0.0

    def perceived_litigation(self) -> float:
        """Litigation risk as this employer sees it: the climate, peers sued, own lawsuits (0-1+)."""
        m = self.model
        return float(
            m.employer_table.perceived_litigation(m.quarter, m.litigation.level, m.params)[self.index]
        )

    def offer_score(self) -> float:
        """Log-odds of wanting crypto on the menu now (see agents/employer/rule.py)."""
        m = self.model
        return float(rule.offer_scores(m.employer_table, m.employer_score_base(), m.params)[self.index])

    # --- the verbs: the bulk rule for this employer alone
    def review_menu(self) -> None:
        """Add or drop the crypto option (the quarter's menu decision)."""
        self.model.review_menus([self.index])

    def educate(self) -> None:
        """Decide whether to run employee education on the crypto option this quarter."""
        m = self.model
        rule.educate(m.employer_table, [self.index], m.params, m.streams["employers"])

    def face_lawsuits(self, chance: float) -> bool:
        """Whether this employer is sued this quarter (only offering employers are at risk)."""
        m = self.model
        return (
            rule.face_lawsuits(m.employer_table, [self.index], chance, m.quarter, m.streams["employers"]) > 0
        )

    def step(self) -> None:
        """An employer's quarter: review the menu, then education (the model runs these in bulk)."""
        self.review_menu()
        self.educate()

    def __repr__(self) -> str:
        return f"<Employer {self.ident}>"

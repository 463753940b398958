"""The product side run by asset-manager agents: what plans can buy, at what fee.

`ProductMarket` builds the asset
managers (agents/asset_manager.py), links every employer to one of them as recordkeeper, steps
the managers each quarter and answers the employers' and participants' questions:

* `offer_for(employer)`: the recordkeeper's product if it sells one (cautious sponsors,
  caution > cautious_sponsor_threshold, take the managed account when there is one, the others the cheapest fund);
  otherwise the cheapest product of another manager, flagged `switching` (the employer's add
  decision then pays `switching_cost`). No new offers while the rule is rescinded, none at all
  under a crackdown law that removes crypto from plans (`banned`).
* `sleeve_for(employer)`: the crypto sleeve of the recordkeeper's target-date product.
* `marketing_cue()`: manager_marketing_strength x sum over sellers of market share x intensity.

Recordkeeping shares follow a Zipf law, share_i proportional to 1 / rank^recordkeeper_concentration
(assumption: a few large recordkeepers serve most participants). The manager with the largest
appetite sells the spot fund at `product_fee` from quarter 0: the 2022 precedent (Fidelity
Digital Assets Account, Apr 2022, 0.75-0.90%).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from agents.asset_manager import PRODUCTS, AssetManager, Offer

if TYPE_CHECKING:
    from agents.employer import Employer


class ProductMarket:
    """Asset managers as a catalogue: products, fees, sleeves, marketing and manager AUM."""

    def __init__(self, model):
        self.model = model
        p, rng = model.params, model.streams["managers"]
        n = p["n_managers"]
        share = 1.0 / np.arange(1, n + 1) ** p["recordkeeper_concentration"]
        self.share = share / share.sum()
        refuses = np.zeros(n, bool)
        refuses[rng.choice(n, int(round(p["manager_refusal_share"] * n)), replace=False)] = True
        appetite = np.where(refuses, 0.0, rng.beta(2.0, 2.0, n))
        threshold = p["manager_launch_threshold"] + p["manager_threshold_sd"] * rng.standard_normal(n)
        markup = np.clip(1.0 + p["fee_markup_sd"] * rng.standard_normal(n), 0.85, 1.15)
        created = list(
            AssetManager.create_agents(
                model,
                n,
                index=list(range(n)),
                market_share=self.share.tolist(),
                appetite=appetite.tolist(),
                refuses=refuses.tolist(),
                threshold=threshold.tolist(),
                markup=markup.tolist(),
            )
        )
        self.banned = False
        self.rk_index = np.zeros(0, np.int64)
        self.aum = np.zeros(n)
        self._cue = 0.0
        if p["channel_401k"] and not refuses.all():
            first = created[int(np.argmax(appetite))]
            first.fees["spot_bitcoin_fund"] = p["product_fee"]
            first.launched["spot_bitcoin_fund"] = 0
            # it already sells: its threshold is at most its readiness before any demand is seen
            first.threshold = min(
                first.threshold,
                p["manager_appetite_weight"] * first.appetite
                + p["manager_clarity_weight"] * model.regulation.clarity,
            )
        self._refresh()

    @property
    def managers(self) -> list[AssetManager]:
        """Every asset manager, in index order, from Mesa's registry (managers are never replaced)."""
        return list(self.model.agents_by_type[AssetManager])

    def attach(self, employers: list[Employer]) -> None:
        """Link each employer to a recordkeeper, drawn by recordkeeping share (managers' stream)."""
        rng = self.model.streams["managers"]
        managers = self.managers
        self.rk_index = rng.choice(len(managers), len(employers), p=self.share)
        for e, i in zip(employers, self.rk_index.tolist(), strict=True):
            e.recordkeeper = managers[i]

    # --- the quarter
    def step(self, quarter: int) -> None:
        """Managers observe demand and rivals, then review products, set fees, market and lobby."""
        self._observe()
        managers = self.model.agents_by_type[AssetManager]
        managers.do("review_products")
        managers.do("set_fees")
        managers.do("market_and_lobby")
        self._refresh()

    def _observe(self) -> None:
        """Each manager's demand (share of its plans' participants wanting crypto), rivals, revenue."""
        pop = self.model.population
        n = len(self.managers)
        if len(self.rk_index):
            count = np.bincount(pop.employer, minlength=len(self.model.employers)).astype(float)
            wanting = pop.interest_by_employer * count
            demand = np.bincount(self.rk_index, weights=wanting, minlength=n) / np.maximum(
                np.bincount(self.rk_index, weights=count, minlength=n), 1.0
            )
        else:
            demand = np.zeros(n)
        selling = np.array([m.sells_crypto for m in self.managers])
        sold_share = float(self.share[selling].sum())
        for m, d in zip(self.managers, demand.tolist(), strict=True):
            m.demand = d
            m.rival_share = sold_share - (m.market_share if m.sells_crypto else 0.0)
            m.aum = float(self.aum[m.index])
            fee = np.mean(list(m.fees.values())) if m.fees else 0.0
            m.revenue = fee * m.aum / 4.0

    def _refresh(self) -> None:
        """Cache this quarter's offers (O(1) answers for 2,000 employers) and the marketing cue."""
        self._menu: list[tuple[Offer | None, Offer | None]] = []
        alternatives = []
        for m in self.managers:
            kinds = m.menu_products()
            if not kinds or self.banned:
                self._menu.append((None, None))
                continue
            cheapest = min(kinds, key=lambda k: m.fees[k])
            cautious = "managed_account" if "managed_account" in kinds else cheapest
            self._menu.append(
                (Offer(cheapest, m.fees[cheapest], m.index), Offer(cautious, m.fees[cautious], m.index))
            )
            alternatives.append(Offer(cheapest, m.fees[cheapest], m.index, switching=True))
        self._alternative = min(alternatives, key=lambda o: o.fee) if alternatives else None
        self._cue = self.model.params["manager_marketing_strength"] * sum(
            m.market_share * m.marketing for m in self.managers
        )

    # --- what employers and participants ask
    def competitive_fee(self, kind: str, entering: bool = False) -> float:
        """Fee (share of assets a year) competition sets for `kind` with its current sellers
        (plus one when a manager is `entering`)."""
        p = self.model.params
        _, floor_add, ceiling_add, _ = PRODUCTS[kind]
        sellers = sum(kind in m.fees for m in self.managers) + int(entering)
        floor, ceiling = p["fee_floor"] + floor_add, p["product_fee"] + ceiling_add
        return floor + max(ceiling - floor, 0.0) / max(sellers, 1) ** p["fee_competition"]

    def offer_for(self, employer: Employer) -> Offer | None:
        """The product this employer can put on its menu now, or None (see the module docstring)."""
        if self.banned:
            return None
        if employer.offer is None and not self.model.regulation.permits_new_offers:
            return None
        rk = employer.recordkeeper
        if rk is not None:
            offer = self._menu[rk.index][employer.caution > self.model.params["cautious_sponsor_threshold"]]
            if offer is not None:
                return offer
        current = employer.offer
        if current is not None and current.switching and current.manager is not None:
            kept = self._menu[current.manager][0]
            if kept is not None:
                return Offer(kept.product, kept.fee, kept.manager, switching=True)
        return self._alternative

    def current(self, offer: Offer) -> Offer | None:
        """The same product from the same manager at today's fee, or None once it is withdrawn."""
        if self.banned or offer.manager is None:
            return None
        fee = self.managers[offer.manager].fees.get(offer.product)
        return None if fee is None else Offer(offer.product, fee, offer.manager, offer.switching)

    def sleeve_fee_for(self, employer: Employer) -> float:
        """Annual fee of the recordkeeper's target-date crypto sleeve (0 without a sleeve)."""
        rk = employer.recordkeeper
        if rk is None or self.banned or rk.sleeve <= 0.0:
            return 0.0
        return rk.fees.get("target_date_sleeve", 0.0)

    def sleeve_for(self, employer: Employer) -> float:
        """Crypto share of the recordkeeper's target-date (default) product, share of its assets."""
        rk = employer.recordkeeper
        return 0.0 if rk is None or self.banned else rk.sleeve

    def marketing_cue(self) -> float:
        """Attention cue from managers' marketing this quarter (cue units, like a plan newly offering)."""
        return self._cue

    def products_offered(self) -> int:
        """Crypto products on sale: every (manager, product) pair, target-date sleeves included."""
        return sum(len(m.fees) for m in self.managers)

    def average_fee(self) -> float:
        """Mean annual fee of the products on sale, share of assets (0 when none is on sale)."""
        fees = [f for m in self.managers for f in m.fees.values()]
        return float(np.mean(fees)) if fees else 0.0

    def set_banned(self, banned: bool) -> None:
        """A crackdown law removes crypto from plans (True) or a later law lifts that (False)."""
        self.banned = banned
        if banned:
            for m in self.managers:
                m.fees.clear()
                m.sleeve = 0.0
        self._refresh()

    # --- manager accounts
    def seller_index(self) -> np.ndarray:
        """Per employer: index of the manager whose product is on its menu (-1 when none)."""
        return np.array(
            [
                e.offer.manager if e.offer is not None and e.offer.manager is not None else -1
                for e in self.model.employers
            ],
            np.int64,
        )

    def manager_aum(self) -> np.ndarray:
        """Crypto held in each manager's products, USD: menu holdings by seller, sleeves by recordkeeper."""
        pop, n = self.model.population, len(self.managers)
        if not len(self.rk_index):
            return np.zeros(n)
        n_emp = len(self.model.employers)
        active = np.bincount(pop.employer, weights=pop.crypto_active, minlength=n_emp)
        default = np.bincount(pop.employer, weights=pop.crypto_default, minlength=n_emp)
        seller = self.seller_index()
        sold = seller >= 0
        aum = np.bincount(seller[sold], weights=active[sold], minlength=n) + np.bincount(
            self.rk_index, weights=default, minlength=n
        )
        return aum * pop.weight

    def lobbying_usd(self) -> float:
        """Managers' lobbying this quarter, USD."""
        return float(sum(m.lobbying for m in self.managers))

    def settle_aum(self) -> None:
        """Book each manager's crypto AUM at the quarter's end (what managers observe next quarter)."""
        self.aum = self.manager_aum()

    def metrics(self) -> dict:
        """This quarter's product-side outputs (see model/outputs.py)."""
        total = float(self.aum.sum())
        return {
            "manager_crypto_aum_usd": total,
            "top_manager_share": float(self.aum.max() / total) if total > 0 else 0.0,
            "managers_selling": int(sum(m.sells_crypto for m in self.managers)),
            "tdf_sleeves_offered": int(sum(m.sleeve > 0 for m in self.managers)),
            "marketing_cue": float(self._cue),
            "manager_lobbying_usd": self.lobbying_usd(),
        }

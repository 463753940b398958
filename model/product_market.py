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

import numpy as np

from agents.asset_manager import MENU, PRODUCTS, AssetManager
from agents.employer.rule import Available
from agents.employer.table import Employers


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
        self._managers: list[AssetManager] = list(
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
            first = self._managers[int(np.argmax(appetite))]
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
        """Every asset manager, in index order (the agents Mesa registered; never replaced)."""
        return self._managers

    def attach(self, employers: Employers) -> None:
        """Link each employer to a recordkeeper, drawn by recordkeeping share (managers' stream)."""
        rng = self.model.streams["managers"]
        self.rk_index = rng.choice(len(self._managers), employers.n, p=self.share)
        employers.recordkeeper[:] = self.rk_index

    # --- the quarter
    def step(self, quarter: int) -> None:
        """Managers observe demand and rivals, then review products, set fees, market and lobby."""
        self._observe()
        for verb in ("review_products", "set_fees", "market_and_lobby"):
            for m in self._managers:
                getattr(m, verb)()
        self._refresh()

    def _observe(self) -> None:
        """Each manager's demand (share of its plans' participants wanting crypto), rivals, revenue."""
        pop = self.model.population
        n = len(self.managers)
        if len(self.rk_index):
            count = pop.employer_count().astype(float)
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
        """Cache this quarter's menus as arrays (answers for every employer at once) and the
        marketing cue.

        Per manager: the cheapest menu product and the one a cautious sponsor takes (the managed
        account when sold), as (kind index into MENU, fee), kind -1 when it sells none; the
        cheapest product on sale anywhere (bought from another manager than the recordkeeper);
        every menu product's fee (NaN where not sold); the target-date sleeve and its fee.
        """
        n = len(self._managers)
        self.menu_kind = np.full((n, 2), -1, np.int64)
        self.menu_fee = np.zeros((n, 2))
        self.fee_table = np.full((n, len(MENU)), np.nan)
        self.sleeve = np.zeros(n)
        self.sleeve_fee = np.zeros(n)
        self._alternative: tuple[int, float, int] | None = None
        best = None
        for m in self._managers:
            if self.banned:
                continue
            self.sleeve[m.index] = m.sleeve
            if m.sleeve > 0.0:
                self.sleeve_fee[m.index] = m.fees.get("target_date_sleeve", 0.0)
            kinds = m.menu_products()
            if not kinds:
                continue
            for k in kinds:
                self.fee_table[m.index, MENU.index(k)] = m.fees[k]
            cheapest = min(kinds, key=lambda k: m.fees[k])
            cautious = "managed_account" if "managed_account" in kinds else cheapest
            for col, kind in enumerate((cheapest, cautious)):
                self.menu_kind[m.index, col] = MENU.index(kind)
                self.menu_fee[m.index, col] = m.fees[kind]
            if best is None or m.fees[cheapest] < best[1]:  # the first manager wins a tie
                best = (MENU.index(cheapest), m.fees[cheapest], m.index)
        self._alternative = best
        self._cue = self.model.params["manager_marketing_strength"] * sum(
            m.market_share * m.marketing for m in self._managers
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

    def available(self, employers: Employers) -> Available:
        """What each employer can put on its menu now, given its menu as it stands.

        Its recordkeeper's product if it sells one (cautious sponsors, caution >
        cautious_sponsor_threshold, take the managed account when there is one, the others the
        cheapest fund); otherwise, for a plan already buying from another manager, that
        manager's cheapest product; otherwise the cheapest product of any manager, flagged
        `switching`. Nothing while the rule is rescinded for plans not offering, nothing at all
        under a crackdown law that removes crypto from plans (`banned`).
        """
        t, n = employers, employers.n
        kind = np.full(n, -1, np.int64)
        fee = np.zeros(n)
        manager = np.full(n, -1, np.int64)
        switching = np.zeros(n, bool)
        if self.banned:
            return Available(kind, fee, manager, switching)
        rk = t.recordkeeper
        cautious = (t.caution > self.model.params["cautious_sponsor_threshold"]).astype(np.int64)
        own_kind, own_fee = self.menu_kind[rk, cautious], self.menu_fee[rk, cautious]
        own = own_kind >= 0
        kind[own], fee[own], manager[own] = own_kind[own], own_fee[own], rk[own]
        current = t.offer_manager
        stays = ~own & t.offers & t.offer_switching & (current >= 0)
        stays &= self.menu_kind[np.maximum(current, 0), 0] >= 0
        kind[stays] = self.menu_kind[current[stays], 0]
        fee[stays] = self.menu_fee[current[stays], 0]
        manager[stays], switching[stays] = current[stays], True
        rest = ~own & ~stays
        if self._alternative is not None:
            kind[rest], fee[rest], manager[rest] = self._alternative
            switching[rest] = True
        if not self.model.regulation.permits_new_offers:
            kind[~t.offers] = -1
        return Available(kind, fee, manager, switching)

    def fees_now(self, employers: Employers) -> np.ndarray:
        """Today's annual fee of the product on each employer's menu (NaN once withdrawn, or
        when the menu has none)."""
        t = employers
        if self.banned:
            return np.full(t.n, np.nan)
        offering = t.offers
        out = np.full(t.n, np.nan)
        out[offering] = self.fee_table[t.offer_manager[offering], t.offer_kind[offering]]
        return out

    def sleeves(self, employers: Employers) -> np.ndarray:
        """Crypto share of each employer's default (target-date) product: its recordkeeper's
        sleeve, share of the product's assets."""
        return self.sleeve[employers.recordkeeper]

    def sleeve_fees(self, employers: Employers) -> np.ndarray:
        """Annual fee of each employer's default-product crypto sleeve (0 without a sleeve)."""
        return self.sleeve_fee[employers.recordkeeper]

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
        t = self.model.employer_table
        return np.where(t.offers, t.offer_manager, -1)

    def manager_aum(self) -> np.ndarray:
        """Crypto held in each manager's products, USD: menu holdings by seller, sleeves by recordkeeper."""
        pop, n = self.model.population, len(self.managers)
        if not len(self.rk_index):
            return np.zeros(n)
        n_emp = len(self.rk_index)
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

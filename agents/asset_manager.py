"""Asset manager: a 401(k) recordkeeper that may also sell crypto products.

State: recordkeeping market share (share of participants whose plans it keeps), crypto
appetite (0-1; a refuser never sells crypto), its own launch threshold, the products it sells
with a fee for each, crypto AUM (USD), fee revenue (USD per quarter) and lobbying (USD per
quarter).

Each quarter, from what it observed at the end of the last one (model/product_market.py calls
the verbs in this order for every manager):

* `review_products`: readiness (log-odds-like units)

      r = manager_appetite_weight x appetite + manager_demand_weight x demand + manager_clarity_weight x clarity
          + manager_rival_weight x rivals' selling share
          - manager_risk_weight x (litigation climate + scandal salience + own fraud penalty)
          - own threshold

  where demand is the share of its client plans' participants who want crypto and the rivals'
  selling share is the recordkeeping share of the other managers that sell crypto. It launches
  product k when r > offset_k; once r < offset_k - manager_hysteresis it withdraws it with
  probability `manager_withdraw_rate` a quarter (closing a fund takes notices and time, so
  managers do not all leave in the same quarter); simple funds first, the target-date sleeve
  last (see PRODUCTS). The target-date sleeve exists only
  when `tdf_sleeve` > 0; its size is tdf_sleeve x (0.5 + appetite), so a 2% mean gives 1-3%.
* `set_fees`: with n sellers of product k, the competitive fee is
  floor_k + (ceiling_k - floor_k) / n ** fee_competition (one seller keeps the 2022 401(k)
  price, many converge to the 2024 spot-ETF fee war); each seller moves its fee a share
  `fee_adjust_speed` of the way there each quarter, times its own brand markup.
* `market_and_lobby`: marketing intensity is its appetite while it sells crypto (the model
  turns intensity x market share into the participants' attention cue); lobbying (USD per
  quarter) is manager_lobbying_share x crypto fee revenue x (1 + lobbying_threat_factor x threat).
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa

# kind: (readiness offset, fee floor above `fee_floor`, fee ceiling above `product_fee`, on the menu)
# Floors: the 2024 spot bitcoin ETF fee war, 0.20-0.25% (IBIT 0.25%, ARKB 0.21%, issuers);
# ceilings: the 2022 401(k) precedent, 0.75-0.90% (Fidelity Digital Assets Account). The index
# fund and the managed account cost a little more to run (assumption); the sleeve is priced
# like the spot fund it holds.
PRODUCTS: dict[str, tuple[float, float, float, bool]] = {
    "spot_bitcoin_fund": (0.0, 0.0, 0.0, True),
    "btc_eth_index_fund": (0.5, 0.0005, 0.0010, True),
    "managed_account": (1.0, 0.0015, 0.0015, True),
    "target_date_sleeve": (1.5, 0.0, 0.0, False),
}
MENU = tuple(k for k, v in PRODUCTS.items() if v[3])


@dataclass(frozen=True)
class Offer:
    """A crypto product an employer can add: its kind, annual fee (share of assets) and seller."""

    product: str
    fee: float
    manager: int | None = None  # index of the asset manager selling it, if any
    switching: bool = False  # True when bought from another manager than the recordkeeper


class AssetManager(mesa.Agent):
    """One recordkeeper / product provider (stands for its share of the US recordkeeping market)."""

    def __init__(
        self,
        model,
        index: int,
        market_share: float,
        appetite: float,
        refuses: bool,
        threshold: float,
        markup: float,
    ):
        super().__init__(model)
        self.index = index
        self.market_share = market_share  # share of participants recordkept, 0-1
        self.appetite = appetite  # crypto appetite, 0-1 (0 for refusers)
        self.refuses = refuses  # refuses crypto outright
        self.threshold = threshold  # own launch threshold (readiness units)
        self.markup = markup  # brand markup on the competitive fee (1 = none)
        self.fees: dict[str, float] = {}  # products on sale -> annual fee, share of assets
        self.sleeve = 0.0  # crypto share of its target-date product (0 = none)
        self.aum = 0.0  # crypto held in its products, USD
        self.revenue = 0.0  # crypto fee revenue, USD per quarter
        self.lobbying = 0.0  # USD per quarter
        self.marketing = 0.0  # marketing intensity this quarter, 0-1
        self.demand = 0.0  # share of its client plans' participants wanting crypto (observed)
        self.rival_share = 0.0  # recordkeeping share of other managers selling crypto (observed)
        self.penalty = 0.0  # reputational penalty after a fraud in its products (readiness units)
        self.launched: dict[str, int] = {}  # kind -> quarter launched

    # --- what others read
    @property
    def sells_crypto(self) -> bool:
        """Whether any crypto product or sleeve is on sale."""
        return bool(self.fees)

    def menu_products(self) -> list[str]:
        """Menu products on sale (not the target-date sleeve)."""
        return [k for k in MENU if k in self.fees]

    def readiness(self) -> float:
        """How far expected demand and regulatory clarity are past this manager's threshold."""
        m, p = self.model, self.model.params
        return (
            p["manager_appetite_weight"] * self.appetite
            + p["manager_demand_weight"] * self.demand
            + p["manager_clarity_weight"] * m.regulation.clarity
            + p["manager_rival_weight"] * self.rival_share
            - p["manager_risk_weight"] * (m.litigation.level + m.scandal + self.penalty)
            - self.threshold
        )

    # --- the quarter's verbs
    def review_products(self) -> None:
        """Launch or withdraw products (and the target-date sleeve) from readiness."""
        p, m = self.model.params, self.model
        if self.refuses or m.products.banned or not p["channel_401k"]:
            self.fees.clear()
            self.sleeve = 0.0
            return
        r = self.readiness()
        for kind, (offset, *_rest) in PRODUCTS.items():
            if kind == "target_date_sleeve" and p["tdf_sleeve"] <= 0.0:
                continue
            if kind not in self.fees and r > offset and m.regulation.permits_new_offers:
                self.fees[kind] = m.products.competitive_fee(kind, entering=True) * self.markup
                self.launched[kind] = m.quarter
            elif (
                kind in self.fees
                and r < offset - p["manager_hysteresis"]
                and m.streams["managers"].random() < p["manager_withdraw_rate"]
            ):
                del self.fees[kind]
                self.launched.pop(kind, None)
        self.sleeve = p["tdf_sleeve"] * (0.5 + self.appetite) if "target_date_sleeve" in self.fees else 0.0
        self.penalty *= p["fraud_penalty_memory"]

    def set_fees(self) -> None:
        """Move each product's fee toward the competitive level for its number of sellers."""
        speed = self.model.params["fee_adjust_speed"]
        for kind, fee in self.fees.items():
            target = self.model.products.competitive_fee(kind) * self.markup
            self.fees[kind] = fee + speed * (target - fee)

    def market_and_lobby(self) -> None:
        """Marketing intensity and lobbying spend for the quarter."""
        p = self.model.params
        self.marketing = self.appetite if self.sells_crypto else 0.0
        threat = self.model.politics.crackdown_threat()
        self.lobbying = (
            p["manager_lobbying_share"] * self.revenue * (1.0 + p["lobbying_threat_factor"] * threat)
            if not self.refuses
            else 0.0
        )

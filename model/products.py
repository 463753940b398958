"""What crypto products plans can put on their menu: the seam between employers and asset managers.

The model uses `model.product_market.ProductMarket`, whose answers come from asset-manager
agents. `StaticCatalogue` is the product side without them (one crypto fund at a fixed fee,
sold by every recordkeeper, and a target-date sleeve set by a parameter); the model no longer
uses it, but it keeps the seam honest and serves as a stand-in in experiments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from agents.employer import Employer


@dataclass(frozen=True)
class Offer:
    """A crypto product an employer can add: its kind, annual fee (share of assets) and seller."""

    product: str
    fee: float
    manager: int | None = None  # unique_id of the asset manager selling it, if any
    switching: bool = False  # True when bought from another manager than the recordkeeper


class Catalogue(Protocol):
    """What employers and participants ask of the product side."""

    def step(self, quarter: int) -> None: ...
    def offer_for(self, employer: Employer) -> Offer | None: ...
    def sleeve_for(self, employer: Employer) -> float: ...
    def marketing_cue(self) -> float: ...
    def products_offered(self) -> int: ...
    def average_fee(self) -> float: ...
    def set_banned(self, banned: bool) -> None: ...
    def lobbying_usd(self) -> float: ...
    def metrics(self) -> dict: ...


class StaticCatalogue:
    """One crypto fund at `product_fee`, available through every recordkeeper, and a fixed sleeve."""

    def __init__(self, params: dict):
        self.fee = params["product_fee"]
        self.sleeve = params["tdf_sleeve"]
        self.banned = False

    def step(self, quarter: int) -> None:
        """Nothing changes on the static product side."""

    def offer_for(self, employer: Employer) -> Offer | None:
        """The one fund, whoever the recordkeeper is (none under a ban)."""
        return None if self.banned else Offer("spot_bitcoin_fund", self.fee)

    def sleeve_for(self, employer: Employer) -> float:
        """Crypto share of the default target-date product (share of its assets)."""
        return 0.0 if self.banned else self.sleeve

    def marketing_cue(self) -> float:
        """No marketing without asset managers."""
        return 0.0

    def products_offered(self) -> int:
        """Crypto products on sale: the fund, plus the sleeve when there is one."""
        return 1 + (self.sleeve > 0)

    def average_fee(self) -> float:
        """Annual fee of the crypto products on sale, share of assets."""
        return self.fee

    def set_banned(self, banned: bool) -> None:
        """A crackdown law removing crypto from plans: nothing is on sale any more."""
        self.banned = banned

    def lobbying_usd(self) -> float:
        """No managers, no lobbying."""
        return 0.0

    def metrics(self) -> dict:
        """No manager accounts without manager agents."""
        return {"manager_crypto_aum_usd": 0.0, "top_manager_share": 0.0, "managers_selling": 0,
                "tdf_sleeves_offered": int(self.sleeve > 0), "marketing_cue": 0.0,
                "manager_lobbying_usd": 0.0}

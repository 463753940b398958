"""The participants' money each quarter: contributions, orders, fills, fees and returns, in units.

Crypto is held in units of the asset; dollars are units times a price. A quarter runs:

1. `open_quarter`: payroll contributions (salary / 4 x (deferral + match)) are split by the
   chosen allocation; this quarter's decisions become orders:
   * dollar orders: contributions to the active crypto option, and purchases by participants
     who move their balance up to allocation x balance (paid from the non-crypto balance);
   * unit orders: panic sellers and participants whose plan no longer offers crypto sell all
     active units, movers down to their allocation sell the excess, holdings above the
     participant's cap (the plan's cap, lowered by any glide path) are sold down to it, and
     sleeve units of a default product whose sleeve was withdrawn are sold;
   * the default product's sleeve (`Sleeves`) keeps sleeve / (1 - sleeve) of the product's
     non-crypto money in crypto at every week's price, while the default part of payroll flows
     in evenly over the weeks.
2. The market (model/market.py) clears the orders week by week; everyone trades at the weeks'
   prices: dollar orders buy a 13th of their dollars each week, unit orders sell a 13th of
   their units each week.
3. `settle`: units, cost basis and the non-crypto balance move by what was filled; fees are
   deducted in units (they go to the managers, outside the plans); the non-crypto balance earns
   the balanced return; the counterfactual balance (the same person with the same
   contributions, never holding crypto) earns the balanced return on everything.

Every sum in `Flows` is USD per represented person added over agents (times the agent weight it
is US-scale). Per quarter, for the plans' crypto:

    change of AUM = contributions + purchases - sales - withdrawals + returns - fraud losses - fees

and `invested` (new money committed) = contributions + purchases - cost of the units sold:
selling at a gain returns appreciation, not committed money.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.participant.population import EmployerView, Population


@dataclass
class Flows:
    """Crypto money movements in one quarter, USD per represented person summed over agents."""

    contributions: float = 0.0  # payroll into crypto: the active allocation and the sleeve share
    purchases: float = 0.0  # crypto bought with existing balances (moves, sleeve rebalancing)
    sales: float = 0.0  # crypto sold, at the prices received
    withdrawals: float = 0.0  # retirees' crypto paid out as their balances leave, at the prices received
    returns: float = 0.0  # market gains (losses negative) on crypto held during the quarter
    fraud_losses: float = 0.0  # crypto destroyed by fraud (model/events.py), at the quarter-start price
    fees: float = 0.0  # product fees deducted from holdings
    invested: float = 0.0  # contributions + purchases - cost basis of the units sold
    realized_gains: float = 0.0  # sales - cost basis of the units sold
    panic_sales: float = 0.0  # proceeds of panic sales
    panic_units: float = 0.0  # units sold in panics

    @property
    def net(self) -> float:
        """Net flow into the crypto market: contributions + purchases - sales - withdrawals."""
        return self.contributions + self.purchases - self.sales - self.withdrawals


class Sleeves:
    """The default products' crypto sleeves of the participants in `rows`, rebalanced weekly.

    share: each participant's sleeve (share of the default product in crypto); other: its
    non-crypto money (USD); units: its sleeve units; inflow: payroll into the product per week.
    The market asks `order()` before a week and reports the week's price with `fill(price)`.
    """

    def __init__(self, rows, share, other, units, inflow, weight: float):
        self.rows, self.share, self.weight = rows, share, weight
        self.other, self.units, self.inflow = other.copy(), units.copy(), inflow
        self.paid = np.zeros(len(rows))  # USD each participant's sleeve paid (negative: received)
        self._pre = self.other

    def order(self) -> tuple[float, float]:
        """(USD coefficient, units released) of this week's sleeve order, US scale.

        After a week at price p the sleeves hold coefficient / p units; before it they release
        (1 - share) x units: a sleeve on target holds share x (money + units x p) in crypto.
        """
        self._pre = self.other + self.inflow
        # elementwise products, not a BLAS dot: BLAS threads stall when the cores are busy
        return (
            self.weight * float((self.share * self._pre).sum()),
            self.weight * float(((1.0 - self.share) * self.units).sum()),
        )

    def fill(self, price: float) -> None:
        """Rebalance every sleeve to its share at this week's price."""
        total = self._pre + self.units * price
        units = self.share * total / price
        self.paid += (units - self.units) * price
        self.units = units
        self.other = total - units * price

    @property
    def empty(self) -> bool:
        return len(self.rows) == 0


@dataclass
class Book:
    """This quarter's orders, per participant (USD or units per represented person)."""

    contributions: np.ndarray  # payroll this quarter
    to_active: np.ndarray  # of which into the active crypto option (a dollar order)
    buy: np.ndarray  # purchases from the non-crypto balance (a dollar order)
    sell_active: np.ndarray  # active units to sell
    sell_sleeve: np.ndarray  # sleeve units to sell (the sleeve was withdrawn)
    panic: np.ndarray  # bool: panic sellers
    sleeves: Sleeves
    start_value: np.ndarray  # crypto held at the quarter-start price, USD

    def orders_usd(self, weight: float) -> float:
        """Dollar orders of the quarter, US scale."""
        return weight * float(self.to_active.sum() + self.buy.sum())

    def orders_units(self, weight: float) -> float:
        """Unit orders of the quarter (sales), US scale."""
        return weight * float(self.sell_active.sum() + self.sell_sleeve.sum())


def contributions(pop: Population, view: EmployerView) -> np.ndarray:
    """Payroll contributions this quarter: salary / 4 x (deferral + match), USD per person."""
    e = pop.employer
    rate = pop.deferral + view.match_rate[e] * np.minimum(pop.deferral, view.match_cap[e])
    return pop.salary / 4.0 * rate


def open_quarter(
    pop: Population,
    view: EmployerView,
    offered: np.ndarray,
    cap: np.ndarray,
    move: np.ndarray,
    panic: np.ndarray,
    sleeve: np.ndarray,
    buy_and_hold: np.ndarray | None = None,
) -> Book:
    """This quarter's contributions and orders from the decisions just made (see the module docstring).

    cap: each participant's allowed crypto share; move, panic: from the decision pass;
    sleeve: each participant's default-product sleeve (0 outside the default product);
    buy_and_hold: a one-off purchase (USD) in place of decisions (the static scenarios).
    """
    price = pop.price
    pay = contributions(pop, view)
    alloc = np.where(offered, pop.alloc, 0.0)
    to_active = pay * alloc
    rest = pay - to_active
    value = pop.units_active * price
    balance = pop.balance
    gap = np.where(move, pop.alloc * balance - value, 0.0)
    buy = np.minimum(np.maximum(gap, 0.0), pop.balance_other)
    sell_value = np.maximum(-gap, 0.0)
    over_cap = np.maximum(value - cap * balance, 0.0)
    sell_active = np.minimum(np.maximum(sell_value, over_cap) / price, pop.units_active)
    out = panic | ~offered
    sell_active = np.where(out, pop.units_active, sell_active)
    if buy_and_hold is not None:
        buy = np.minimum(buy_and_hold, pop.balance_other)
    pop.balance_other = pop.balance_other - buy
    rebalancing = pop.in_default & (sleeve > 0.0)
    sell_sleeve = np.where(rebalancing, 0.0, pop.units_default)
    rows = np.flatnonzero(rebalancing)
    sleeves = Sleeves(
        rows,
        sleeve[rows],
        pop.balance_other[rows],
        pop.units_default[rows],
        rest[rows] / 13.0,
        pop.weight,
    )
    return Book(
        contributions=pay,
        to_active=to_active,
        buy=buy,
        sell_active=sell_active,
        sell_sleeve=sell_sleeve,
        panic=panic & (pop.units_active > 0.0),
        sleeves=sleeves,
        start_value=(pop.units_active + pop.units_default) * price,
    )


def settle(
    pop: Population,
    book: Book,
    prices: np.ndarray,
    fee: np.ndarray,
    sleeve_fee: np.ndarray,
    balanced_return: float,
    flows: Flows,
) -> float:
    """Credit the quarter's fills, fees and returns to every participant; the fee units removed.

    prices: the 13 weekly prices the orders filled at; fee, sleeve_fee: annual fee (share of
    assets) of each participant's active option and default sleeve. Returns the units deducted
    as fees (per represented person, summed), which leave the plans.
    """
    fill_units_per_usd = float(np.mean(1.0 / prices))
    fill_usd_per_unit = float(np.mean(prices))
    end_price = float(prices[-1])
    rows, s = book.sleeves.rows, book.sleeves

    # active option: dollar orders buy units, unit orders sell them
    bought_usd = book.to_active + book.buy
    held = pop.units_active
    sold = book.sell_active
    proceeds = sold * fill_usd_per_unit
    cost_out = np.divide(pop.cost_active * sold, held, out=np.zeros(pop.n), where=held > 0.0)
    pop.units_active = held - sold + bought_usd * fill_units_per_usd
    pop.cost_active = np.maximum(pop.cost_active - cost_out + bought_usd, 0.0)  # no rounding below 0

    # sleeves withdrawn: sold; sleeves kept: rebalanced through the weeks
    sleeve_sold = book.sell_sleeve
    sleeve_proceeds = sleeve_sold * fill_usd_per_unit
    sleeve_cost_out = np.divide(
        pop.cost_default * sleeve_sold, pop.units_default, out=np.zeros(pop.n), where=pop.units_default > 0.0
    )
    pop.units_default = pop.units_default - sleeve_sold
    pop.cost_default = np.maximum(pop.cost_default - sleeve_cost_out, 0.0)
    sleeve_pay = book.contributions[rows] - book.to_active[rows]
    sleeve_contrib = s.share * sleeve_pay
    rebalance = s.paid - sleeve_contrib
    before = pop.units_default[rows]
    net_seller = s.units < before
    sleeve_cost = pop.cost_default[rows]
    sleeve_out = np.where(
        net_seller,
        sleeve_cost * (1.0 - np.divide(s.units, before, out=np.ones_like(before), where=before > 0.0)),
        0.0,
    )
    pop.cost_default[rows] = np.maximum(
        np.where(net_seller, sleeve_cost - sleeve_out, sleeve_cost + s.paid), 0.0
    )
    pop.units_default[rows] = s.units

    # non-crypto money: sale proceeds, payroll not sent to crypto (the sleeves' own is in s.other)
    rest = book.contributions - book.to_active
    other = pop.balance_other + proceeds + sleeve_proceeds + rest
    other[rows] = s.other + proceeds[rows]
    pop.balance_other = other

    # fees, in units, to the managers
    fee_active = pop.units_active * fee / 4.0
    fee_sleeve = pop.units_default * sleeve_fee / 4.0
    pop.units_active = pop.units_active - fee_active
    pop.units_default = pop.units_default - fee_sleeve
    pop.price = end_price
    fees_usd = (fee_active + fee_sleeve) * end_price

    # returns: the change in value not explained by trades and fees
    traded = bought_usd - proceeds - sleeve_proceeds
    traded[rows] += s.paid
    end_value = (pop.units_active + pop.units_default) * end_price
    pop.last_gain = end_value - book.start_value - traded + fees_usd

    pop.balance_other = pop.balance_other * (1.0 + balanced_return)
    pop.counterfactual = (pop.counterfactual + book.contributions) * (1.0 + balanced_return)
    pop.note_holders()

    flows.contributions += float(book.to_active.sum() + sleeve_contrib.sum())
    flows.purchases += float(book.buy.sum() + np.maximum(rebalance, 0.0).sum())
    flows.sales += float(proceeds.sum() + sleeve_proceeds.sum() + np.maximum(-rebalance, 0.0).sum())
    flows.returns += float(pop.last_gain.sum())
    flows.fees += float(fees_usd.sum())
    sleeve_invested = np.where(net_seller, -sleeve_out, s.paid)
    flows.invested += float(bought_usd.sum() - cost_out.sum() - sleeve_cost_out.sum() + sleeve_invested.sum())
    sleeve_gain = np.where(net_seller, -s.paid - sleeve_out, 0.0)
    flows.realized_gains += float(
        (proceeds - cost_out).sum() + (sleeve_proceeds - sleeve_cost_out).sum() + sleeve_gain.sum()
    )
    flows.panic_sales += float(proceeds[book.panic].sum())
    flows.panic_units += float(sold[book.panic].sum())
    return float(fee_active.sum() + fee_sleeve.sum())


def settle_withdrawals(units: float, prices: np.ndarray, start_price: float, flows: Flows) -> None:
    """Retirees' crypto (`units` per represented person, summed) sold evenly over the weeks."""
    paid = units * float(np.mean(prices))
    flows.withdrawals += paid
    flows.returns += paid - units * start_price

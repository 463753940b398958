"""The Mesa model: builds the agents and fixes the order of a quarter.

One quarter, in order (causality runs one way):
1. calendar: the rule timeline, events (fraud) and the administration's rule actions;
2. market: this quarter's exogenous returns are drawn (the market's own random stream);
3. product side: asset managers launch/withdraw products and set fees (`products.step`);
4. employers: add or drop the crypto option, run education;
5. participants: retirement and entry, peer shares, contributions, one vectorised decision
   pass (attention, allocation, panic), trades, default-product rebalancing;
6. market clears: the quarter's net 401(k) flow moves the price; returns are credited;
   lawsuits and the litigation climate follow the drawdown;
7. politics: stances, bills, elections (model/politics.py);
8. ageing, then data collection.

Quarter 0 (2025Q3) is the state at the order, collected when the model is built; each `step`
adds one quarter.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.experimental.scenarios import Scenario as MesaScenario

from agents.employer import Employer, Employers
from agents.employer import rule as employer_rule
from agents.participant import Participant, accounts
from agents.participant import rule as rules
from agents.participant.accounts import Flows
from agents.participant.population import EmployerView, Population
from agents.politician import Politician
from agents.rows import Column, Handles, RowAgent
from model import scenarios
from model.collector import DEFAULT_AGENT_REPORTERS, AgentSample, make_datacollector
from model.errors import InputError, did_you_mean
from model.events import Events
from model.geography import Geography
from model.litigation import LitigationClimate
from model.market import CryptoMarket, Orders
from model.outputs import OUTPUTS
from model.plan_sizes import BALANCE_FACTOR, draw_plans, participant_weights
from model.politics import Politics
from model.product_market import ProductMarket
from model.record import Record
from model.regulation import RuleTimeline
from model.resources import check_memory

# One stream per subsystem; a new one goes last (earlier streams stay what they were).
# "agent_sample" draws nothing the model reads: only the rows `collect_agents` follows.
STREAMS = (
    "market",
    "population",
    "network",
    "employers",
    "managers",
    "politics",
    "events",
    "regulation",
    "agent_sample",
)


def make_streams(seed_rng: np.random.Generator) -> dict[str, np.random.Generator]:
    """One independent generator per subsystem, spawned from the run's seed (common random numbers)."""
    return dict(zip(STREAMS, seed_rng.spawn(len(STREAMS)), strict=True))


def agent_attributes(agent_type: type) -> list[str]:
    """The attributes a row agent of `agent_type` reads from its row or derives (reporter names)."""
    names = {"ident"}
    for cls in agent_type.__mro__:
        if isinstance(cls, type) and issubclass(cls, RowAgent):
            names |= {n for n, v in vars(cls).items() if isinstance(v, (Column, property)) and n[0] != "_"}
    return sorted(names - {"table"})


class Crypto401kModel(mesa.Model):
    """Crypto in US 401(k) plans: participants, employers and the crypto market, by quarter."""

    def __init__(
        self,
        scenario_name: str | Path | scenarios.Scenario | None = "baseline",
        *,
        rng: int | np.random.Generator | None = None,
        scenario: MesaScenario | None = None,
        **params: Any,
    ):
        """Build the model.

        scenario_name: a shipped scenario name, a scenario TOML path, or a loaded Scenario.
        rng: the seed (an int) or a numpy Generator; None takes the Mesa scenario's, or draws a
            fresh seed and records it.
        scenario: Mesa's own Scenario (mesa.experimental.scenarios), passed through to Mesa; its
            fields other than rng are declared parameters, like `params`.
        params: any declared parameter (model/parameters.py), overriding the scenario file.
        Raises model.errors.InputError for an unknown scenario or parameter, a wrong type or an
        out-of-range value, before anything is built.
        """
        if scenario is not None:
            fields = {
                k: v for k, v in scenario.to_dict().items() if k not in ("rng", "model", "_scenario_id")
            }
            params = {**fields, **params}
            rng = scenario.rng if rng is None else rng
        spec = (
            scenario_name
            if isinstance(scenario_name, scenarios.Scenario)
            else scenarios.load(scenario_name or "baseline")
        )
        self.params = spec.parameters(params)
        check_memory(self.params)  # refuse, before allocating, a population that cannot fit
        self.scenario_name = spec.name
        if rng is None:
            rng = int(np.random.SeedSequence().entropy % (2**63))
        if scenario is not None:
            scenario.rng = rng  # Mesa requires the model's and the scenario's rng to agree
        self.seed = int(rng) if isinstance(rng, (int, np.integer)) else None
        super().__init__(rng=rng, scenario=scenario)
        self._handles = {cls: Handles(cls) for cls in (Participant, Employer, Politician)}
        self.streams = make_streams(self.rng)
        p = self.params
        self.quarter = 0
        self.scandal = 0.0  # news salience of a scandal this quarter (set by events/politics)
        # the data files it was built from (model/inputs.py): an observed history, a price path
        self.spec = spec
        self.history = spec.data("history")
        path = spec.data("price_path") or (self.history.prices if self.history else None)
        self.regulation = RuleTimeline(p, self.streams["regulation"], self.history)
        self.market = CryptoMarket(p, self.streams["market"], path)
        self.litigation = LitigationClimate(p)
        self.observe_market()
        self.products = ProductMarket(self)  # asset managers: recordkeepers and crypto products
        self.geography = Geography(p, self.streams["network"])
        self._build_employers()
        self.employer_view = self._employer_view()
        self.population = Population(
            p,
            self.employer_view,
            self.geography.district_share,
            self.geography.district_lean,
            self.streams["population"],
        )
        self.flows = Flows()
        self._static_order: np.ndarray | None = None  # the static claim's purchase, made in quarter 1
        self._initial_holdings()
        self.events = Events(self)
        self.politics = Politics(self)
        self.record = Record()
        self.record.close_quarter(self)
        self.datacollector = make_datacollector(list(OUTPUTS))
        self.datacollector.collect(self)

    # --- construction
    def _build_employers(self) -> None:
        p, rng = self.params, self.streams["employers"]
        n = p["n_employers"]
        segment, size = draw_plans(n, p["plan_size_sd"], rng)
        caution_mean = min(max(p["employer_caution_mean"], 1e-3), 1 - 1e-3)
        caution = rng.beta(4 * caution_mean, 4 * (1 - caution_mean), n)
        auto_share = np.where(
            segment == 2,
            min(1.0, p["auto_enrol_share"] * p["large_plan_auto_enrol_factor"]),
            p["auto_enrol_share"],
        )
        auto = rng.random(n) < auto_share
        matches = rng.random(n) < p["match_plan_share"]
        industry = rng.integers(0, p["n_industries"], n)
        region = rng.integers(0, p["n_regions"], n)
        self.employer_table = t = Employers(
            segment,
            size,
            caution,
            auto,
            np.where(matches, p["match_rate"], 0.0),
            p["match_cap"],
            industry,
            region,
        )
        self._participant_weight_by_employer = participant_weights(segment, size)
        self._employer_edges = self._employer_network(industry, region)
        t.set_peers(self._employer_edges)
        self.products.attach(t)
        k = int(round(p["initial_offering_share"] * n))
        if k and p["channel_401k"]:
            first = np.sort(rng.choice(n, k, replace=False))
            employer_rule.start_offering(t, first, self.products.available(t), 0, p, newly=False)

    def _employer_network(self, industry: np.ndarray, region: np.ndarray) -> np.ndarray:
        """Small world among employers: ring neighbours share industry and region (seeded);
        its edges as an (m, 2) array of employer indices."""
        n = len(industry)
        order = np.lexsort((region, industry))
        seed = int(self.streams["network"].integers(2**31))
        degree = self.params["employer_network_degree"]
        if n <= degree:
            ring = nx.complete_graph(n)
        else:
            ring = nx.watts_strogatz_graph(n, degree, self.params["employer_network_rewire"], seed=seed)
        self._employer_nodes = order  # ring position k is employer order[k]
        edges = np.array(list(ring.edges()), np.int64).reshape(-1, 2)
        return order[edges]

    @property
    def employer_graph(self) -> nx.Graph:
        """The employers' peer network as a networkx graph (nodes are employer indices)."""
        if getattr(self, "_employer_graph", None) is None:
            g = nx.Graph()
            g.add_nodes_from(self._employer_nodes.tolist())
            g.add_edges_from(self._employer_edges.tolist())
            self._employer_graph = g
        return self._employer_graph

    def _employer_view(self) -> EmployerView:
        """Per-employer arrays the participants' vectorised pass reads this quarter."""
        t, products = self.employer_table, self.products
        marketing = products.marketing_cue()
        offers = t.offers
        return EmployerView(
            offers=offers,
            cap=t.cap.copy(),
            fee=np.where(offers, t.offer_fee, 0.0),
            cue=t.newly_offered.astype(float) + t.educating.astype(float) + marketing * offers,
            sleeve=products.sleeves(t) * self.params["channel_401k"],
            sleeve_fee=products.sleeve_fees(t),
            auto_enrol=t.auto_enrol,
            match_rate=t.match_rate,
            match_cap=t.match_cap,
            size_weight=self._participant_weight_by_employer,
            balance_factor=BALANCE_FACTOR[t.segment],
        )

    def _initial_holdings(self) -> None:
        """Quarter-0 crypto: the 2022-25 precedents in plans already offering (the static claim's
        purchase is an order executed in quarter 1)."""
        pop, p = self.population, self.params
        if not p["channel_401k"]:
            return
        if p["static_allocation"] > 0:
            pop.alloc[:] = p["static_allocation"]
            self._static_order = p["static_allocation"] * pop.balance
            return
        offered = self.option_mask()
        view = self.employer_view
        u = rules.utility(pop.affinity, pop.trend_trait, 0.0, view.fee[pop.employer], self.market_view, pop.k)
        holder = offered & (u > 0) & (pop.rng.random(pop.n) < p["initial_uptake"])
        pop.alloc = np.where(
            holder, rules.desired_allocation(u, pop.risk_target, view.cap[pop.employer]), 0.0
        )
        active = pop.alloc * pop.balance  # USD, bought before quarter 0 at the quarter-0 price of 1
        sleeve = np.where(pop.in_default, view.sleeve[pop.employer], 0.0)
        default = sleeve * (pop.balance_other - active)
        pop.units_active, pop.cost_active = active / pop.price, active
        pop.units_default, pop.cost_default = default / pop.price, default
        pop.balance_other = pop.balance_other - active - default
        pop.note_holders()
        held = float((pop.units_active + pop.units_default).sum()) * pop.weight
        if held >= self.market.float_units:
            raise InputError(
                f"the plans would hold {held / 1e9:,.0f}B units of crypto at quarter 0, more than the"
                f" tradable float of {self.market.float_units / 1e9:,.0f}B",
                key="initial_offering_share",
                allowed="smaller initial_offering_share, initial_uptake, target_allocation or"
                " allocation_cap, or a larger tradable_float_share",
            )
        self.market.hold_initial(held)
        count = pop.employer_count()
        pop.interest_by_employer = np.bincount(
            pop.employer, weights=(u > 0).astype(float), minlength=len(count)
        ) / np.maximum(count, 1)

    # --- the agents, from Mesa's registry (the one agent list)
    def _sync_handles(self) -> None:
        """Registry reads see every agent: rows' handles are made (or retired) first (agents/rows.py)."""
        for handles in getattr(self, "_handles", {}).values():
            handles.sync(self)

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Every agent of the model (Mesa's registry; handles on table rows are made first)."""
        self._sync_handles()
        return super().agents

    @agents.setter
    def agents(self, value) -> None:
        mesa.Model.agents.fset(self, value)

    @property
    def agent_types(self) -> list[type]:
        """Every agent type registered with the model."""
        self._sync_handles()
        return super().agent_types

    @property
    def agents_by_type(self) -> dict:
        """Mesa's registry by agent type (handles on table rows are made first)."""
        self._sync_handles()
        return super().agents_by_type

    @property
    def employers(self) -> mesa.agent.AgentSet:
        """Every employer agent, in index order (employers are never replaced)."""
        return self.agents_by_type[Employer]

    def employer(self, index: int) -> Employer:
        """The Mesa agent of employer `index` (made on first use)."""
        return self._handles[Employer].get(self, index)

    def politician(self, slot: int) -> Politician:
        """The Mesa agent of the member now holding `slot` (0-434 the House by district, 435-534
        the Senate; made on first use)."""
        return self._handles[Politician].get(self, slot)

    @property
    def participants(self) -> mesa.agent.AgentSet:
        """Every participant agent now in the plans (a row's agent is `participant(row)`)."""
        return self.agents_by_type[Participant]

    def participant(self, row: int) -> Participant:
        """The Mesa agent of the participant now in `row` (made on first use)."""
        return self._handles[Participant].get(self, row)

    # --- agent-level data, on request
    def collect_agents(
        self,
        reporters: dict[str, Any] | None = None,
        *,
        agent_type: type = Participant,
        sample: int | None = 1_000,
        every: int = 4,
    ) -> None:
        """Record agents' attributes through Mesa's DataCollector from now on: for a fixed random
        sample of `agent_type`'s rows, every `every` quarters.

        reporters: Mesa agent reporters, column name -> attribute name, function of the agent,
            or [function, [args]] (None: `model.collector.DEFAULT_AGENT_REPORTERS`).
        agent_type: Participant, Employer or Politician.
        sample: rows followed (None, or at least the number of rows: every row). Drawn once,
            without replacement, from the model's own "agent_sample" stream: the same seed
            follows the same rows, and nothing the model draws changes.
        every: quarters between records; a record at every quarter divisible by it, this one
            included.

        Read them with `model.datacollector.get_agenttype_vars_dataframe(agent_type)`: one row
        per record, indexed by Mesa's Step (the quarter) and AgentID. A row is followed, not a
        person: after a participant retires, the row's next record is the new worker (another
        AgentID and `ident`). Recording only reads: the outputs (`quarters_table`) are the same
        with or without it, and a model that records nothing pays nothing. Raises InputError for
        an unknown agent type or attribute, a sample or interval below 1, or a type already
        recorded.
        """
        kinds = {cls.__name__: cls for cls in self._handles}
        if agent_type not in self._handles:
            raise InputError(
                f"cannot record {getattr(agent_type, '__name__', agent_type)!r}",
                key="agent_type",
                allowed=", ".join(kinds),
            )
        for key, value in (("sample", sample), ("every", every)):
            if (value is not None or key == "every") and (
                not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1
            ):
                raise InputError(f"expected a whole number of at least 1, got {value!r}", key=key)
        if agent_type in self.datacollector.agenttype_reporters:
            raise InputError(f"{agent_type.__name__} agents are already recorded", key="agent_type")
        if reporters is None:
            reporters = {name: name for name in DEFAULT_AGENT_REPORTERS[agent_type.__name__]}
        if not reporters:
            raise InputError(
                "no reporters given", key="reporters", allowed="column name -> attribute or function"
            )
        n = len(getattr(self, agent_type.TABLE).ident)
        if sample is None or sample >= n:
            rows = np.arange(n)
        else:
            rows = np.sort(self.streams["agent_sample"].choice(n, size=int(sample), replace=False))
        get = self._handles[agent_type].get
        first = get(self, int(rows[0]))
        for name, reporter in reporters.items():
            if isinstance(reporter, str) and not hasattr(first, reporter):
                known = agent_attributes(agent_type)
                raise InputError(
                    f"{agent_type.__name__} has no attribute {reporter!r}{did_you_mean(reporter, known)}",
                    key=name,
                    allowed=", ".join(known),
                )
        self.datacollector.follow(agent_type, reporters, AgentSample(rows, int(every), partial(get, self)))
        if self.quarter % every == 0:
            self.datacollector.record_sample(self, agent_type)

    # --- what agents read
    def observe_market(self) -> rules.Market:
        """What participants observe this quarter: trend, drawdown, clarity, news (kept as `market_view`)."""
        self.market_view = rules.Market(
            self.market.trailing_log_return(),
            self.market.recent_drawdown(),
            self.regulation.clarity,
            self.scandal,
        )
        return self.market_view

    def option_mask(self) -> np.ndarray:
        """Whether each participant's plan menu has a crypto option to choose (bool per participant)."""
        if not self.params["channel_401k"]:
            return np.zeros(self.population.n, bool)
        if self.params["static_allocation"] > 0:  # the static claim puts everyone in
            return np.ones(self.population.n, bool)
        return self.employer_view.offers[self.population.employer]

    def offered_mask(self) -> np.ndarray:
        """Whether each participant's plan offers crypto in either way: a menu option, or a
        default product with a crypto sleeve (bool per participant; `participants_offered_share`).
        Nobody holds crypto through a plan that offers none."""
        view = self.employer_view
        return self.option_mask() | (view.sleeve > 0.0)[self.population.employer]

    # --- the quarter
    def step(self) -> None:
        """Advance one quarter (see the module docstring for the order)."""
        self.quarter += 1
        q, pop = self.quarter, self.population
        self.flows = flows = Flows()
        # 1-2. calendar, events and the exogenous market
        self.regulation.update(q)
        self.events.before_quarter(q)
        self.politics.before_quarter(q)
        self.market.draw(q)
        self.observe_market()
        # 3-4. product side, then employers
        self.products.step(q)
        t = self.employer_table
        self.review_menus(np.arange(t.n))
        employer_rule.educate(t, np.arange(t.n), self.params, self.streams["employers"])
        self.employer_view = view = self._employer_view()
        # 5. participants: retirement and entry, decisions, orders
        exits = pop.retire_and_enter(q, view, self.market.price_index_no_401k)
        self.record.retirements(exits)
        book = self._orders(view)
        # 6. the market clears the orders week by week; accounts settle at the weeks' prices
        start_price = self.market.price
        w = pop.weight
        prices = self.market.clear(
            Orders(
                buy_usd=book.orders_usd(w),
                sell_units=book.orders_units(w) + exits.units * w,
                sleeves=None if book.sleeves.empty else book.sleeves,
            )
        )
        e = pop.employer
        fee_units = accounts.settle(
            pop, book, prices, view.fee[e], view.sleeve_fee[e], self.market.balanced_return, flows
        )
        accounts.settle_withdrawals(exits.units, prices, start_price, flows)
        self.market.remove_units(fee_units * w)  # the managers who receive the fees sell them
        self.products.settle_aum()
        self._lawsuits()
        # 7. politics
        self.politics.after_quarter(q)
        # 8. ageing and data
        pop.age_one_quarter()
        self.scandal = 0.0
        self.record.close_quarter(self)
        self.datacollector.collect(self)

    def _orders(self, view: EmployerView) -> accounts.Book:
        """This quarter's decisions and the orders they make (see agents/participant/accounts.py)."""
        pop, p = self.population, self.params
        n, e = pop.n, pop.employer
        none = np.zeros(n, bool)
        if not p["channel_401k"]:
            return accounts.open_quarter(pop, view, none, np.zeros(n), none, none, np.zeros(n))
        pop.update_peer_share()
        offered = self.option_mask()
        if p["static_allocation"] > 0:
            # Buy and hold: the purchase at the order (made in quarter 1) and the payroll
            # pipeline at the static share; no behaviour and no rebalancing.
            order, self._static_order = self._static_order, None
            pop.alloc[:] = p["static_allocation"]  # entrants too
            return accounts.open_quarter(pop, view, offered, np.ones(n), none, none, np.zeros(n), order)
        cap = view.cap[e] * pop.glide(p["glide_path_years"])
        move, panic = pop.decide_all(view, offered, cap, self.market_view)
        sleeve = np.where(pop.in_default, view.sleeve[e], 0.0) * pop.glide(p["sleeve_glide_years"])
        return accounts.open_quarter(pop, view, offered, cap, move, panic, sleeve)

    def review_menus(self, rows) -> None:
        """The menu reviews of employers `rows` (increasing indices) this quarter (agents/employer/rule.py)."""
        t = self.employer_table
        employer_rule.review_menus(
            t,
            rows,
            self.quarter,
            self.params,
            self.products.available(t),
            self.products.fees_now(t),
            self.employer_score_base(),
            self.streams["employers"],
        )

    def employer_score_base(self) -> np.ndarray:
        """The offer-score terms no peer decision can change this quarter, per employer (log-odds)."""
        return employer_rule.score_base(
            self.employer_table,
            self.quarter,
            self.params,
            self.regulation.clarity,
            self.litigation.level,
            self.population.interest_by_employer,
        )

    def _lawsuits(self) -> None:
        """Offering employers may be sued after a large drawdown or a scandal; the climate follows."""
        p, t = self.params, self.employer_table
        dd = self.market.recent_drawdown()
        chance = p["lawsuit_rate"] * (self.litigation.excess_drawdown(dd) + self.scandal)
        offering = int(t.offers.sum())
        sued = employer_rule.face_lawsuits(t, np.arange(t.n), chance, self.quarter, self.streams["employers"])
        share = sued / offering if offering else 0.0
        self.litigation.update(dd, self.scandal, share)

    # --- convenience
    def run(self, quarters: int) -> None:
        """Step `quarters` quarters."""
        for _ in range(quarters):
            self.step()

    def quarters_table(self):
        """The outputs, one row per quarter, as a pandas DataFrame indexed from quarter 0."""
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)

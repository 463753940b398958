"""Congress, the administration, bills, elections and the political-moat metrics.

The 435 House members and 100 senators are `Politician` agents over the columns of Congress
(agents/politician/), whose rule this module runs for all members at once. It owns what they
read and what happens to them:

* what voters have at stake (`exposure`): for each participant, stake / (stake +
  exposure_half_stake_usd), saturating in the crypto dollars held, times max(0, 1 +
  exposure_gain_weight x last quarter's return on them), times the issue's salience (1 +
  exposure_news_salience x |4-quarter log return| + scandal salience); 0 without crypto. It is
  always measured (`exposure_index`); `exposure_in_politics` = false (the moat's counterfactual)
  removes its every effect, exactly as the four weights that carry it (`EXPOSURE_WEIGHTS`:
  exposure_weight, candidate_exposure_weight, rescission_exposure_weight, crypto_vote_weight)
  all at 0;
* constituent pressure per seat, by numpy bincount over the participant columns:
      pressure = exposure_weight x (sum of voters' exposure, US scale) / votes cast in the seat,
  and the national exposure index (the same over all votes cast);
* lobbying: managers' lobbying plus the crypto industry's (`industry_lobbying_usd`) is spread
  over members in proportion to p(1 - p), p being a member's chance of voting against a
  crackdown (persuadable members get most); each member's stock decays by `lobbying_memory`;
* bills: a crackdown (tighten the rule, or remove crypto from plans: `ban_share`) and a
  protection bill (codify the safe harbour) each arrive with probability 1 - exp(-rate) a
  quarter; the crackdown rate rises after crashes and scandals and under a hostile
  administration, the protection rate under a friendly one and, by `codify_response`, while a
  rescission stands (Congress's answer to it). Votes share one national mood shock per bill
  (sd `mood_sd`). A bill passes on a House majority and a Senate majority of at least
  `senate_cloture` votes (60: the filibuster), then the administration's signature (a
  crackdown is signed when the administration's stance is below 0, a protection bill when it is
  0 or above) or a two-thirds override of a veto;
* elections (model/calendar.py): the House and one Senate class every 8 quarters from 2026Q4,
  the president every 16 from 2028Q4. In a seat, each participant votes for the incumbent with
  probability logistic(party_vote_weight x party lean x incumbent party
  + crypto_vote_weight x exposure x (g(incumbent stance) - g(challenger stance))
  + incumbency_advantage), g(s) = tanh(s / 2); the other voters vote by the seat's lean only.
  Challengers (and newcomers in the `retirement_rate` open seats) are drawn from their party's
  ideology and moved a share `replacement_pull` of the seat's constituent pressure toward it.
  The president is elected in the Electoral College (`_presidential`), the candidates' stances
  pulled toward the voters' stake by `candidate_exposure_weight` x the exposure index;
* the administration drives the DOL rule: `rule_action_lag` quarters after taking office a new
  administration rescinds the rule with probability logistic((rescind_threshold - stance -
  rescission_exposure_weight x exposure index) / rescind_spread) (never a friendly one, nor
  over a protection law); a friendly one re-proposes a rescinded rule (unless a crackdown law
  stands) and finalises it 3 quarters later.

Moat metrics (defined in the README): every member also carries a shadow stance that follows
the same rule without constituents' exposure; the moat index counts the members whose expected
crackdown vote differs between the two.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from scipy.special import expit as logistic

from agents.politician import BILLS, HOUSE, SENATE, STANDARD_CRACKDOWN, Members, Politician, yes_probability
from agents.politician import rule as member_rule
from model import calendar
from model.geography import DISTRICT_STATE, ELECTORAL_TOTAL, ELECTORAL_VOTES

# The parameters through which voters' exposure reaches political decisions: exposure_in_politics
# = false is the same model as all of them at 0.
EXPOSURE_WEIGHTS = (
    "exposure_weight",
    "candidate_exposure_weight",
    "rescission_exposure_weight",
    "crypto_vote_weight",
)
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(9)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _erfc(z: np.ndarray) -> np.ndarray:
    """math.erfc elementwise (a handful of values per call; the C library's, bit for bit)."""
    return np.array([math.erfc(x) for x in z.ravel().tolist()]).reshape(z.shape)


# --- vote counting (pure functions; the tests check them on hand-made cases)
def chamber_passes(yes: int, members: int, two_thirds: bool = False) -> bool:
    """Whether `yes` of `members` votes carry a chamber: a strict majority, or two thirds."""
    return 3 * yes >= 2 * members if two_thirds else 2 * yes > members


def signs(kind: str, administration_stance: float) -> bool:
    """Whether the administration signs a bill of `kind` (-1 hostile .. +1 friendly stance)."""
    direction, _ = BILLS[kind]
    return administration_stance < 0.0 if direction < 0 else administration_stance >= 0.0


def bill_outcome(
    kind: str,
    house_yes: int,
    senate_yes: int,
    administration_stance: float,
    house_members: int = HOUSE,
    senate_members: int = SENATE,
    cloture: int = 0,
) -> tuple[bool, str]:
    """(passed, how): a House majority, a Senate majority with at least `cloture` votes (60 under
    the filibuster), then the signature or a two-thirds override of a veto."""
    if not chamber_passes(house_yes, house_members):
        return False, "failed in the House"
    if senate_yes < cloture:
        return False, "filibustered in the Senate"
    if not chamber_passes(senate_yes, senate_members):
        return False, "failed in the Senate"
    if signs(kind, administration_stance):
        return True, "signed"
    if chamber_passes(house_yes, house_members, True) and chamber_passes(senate_yes, senate_members, True):
        return True, "veto overridden"
    return False, "vetoed"


def at_least(p: np.ndarray, k: int) -> np.ndarray:
    """P(at least k yes votes) for independent votes with probabilities p (rows: scenarios).

    Normal approximation to the Poisson-binomial count with continuity correction; exact when
    every p is 0 or 1.
    """
    if k > p.shape[-1]:
        return np.zeros(p.shape[:-1])  # more votes needed than there are voters
    mu = p.sum(axis=-1)
    sd = np.sqrt((p * (1.0 - p)).sum(axis=-1))
    safe = np.where(sd > 0, sd, 1.0)
    approx = 0.5 * _erfc((k - 0.5 - mu) / safe / math.sqrt(2.0))
    return np.where(sd > 0, approx, (mu >= k - 1e-9).astype(float))


def pass_probabilities(
    house_stance: np.ndarray,
    senate_stance: np.ndarray,
    kind: str,
    administration_stance: float,
    mood_sd: float,
    cloture: int = 0,
) -> tuple[float, float]:
    """(chance both chambers pass a bill of `kind` introduced now, chance it becomes law),
    averaging over the bill's national mood shock (Gauss-Hermite); the Senate needs at least
    `cloture` votes besides a majority; a bill the administration would veto needs two thirds
    of both chambers to become law."""
    shocks = (mood_sd * _NODES)[:, None]
    ph = yes_probability(house_stance[None, :], kind, shocks)
    ps = yes_probability(senate_stance[None, :], kind, shocks)
    nh, ns = len(house_stance), len(senate_stance)
    both = _WEIGHTS @ (at_least(ph, nh // 2 + 1) * at_least(ps, max(ns // 2 + 1, cloture)))
    if signs(kind, administration_stance):
        return float(both), float(both)
    override = _WEIGHTS @ (at_least(ph, math.ceil(2 * nh / 3)) * at_least(ps, math.ceil(2 * ns / 3)))
    return float(both), float(override)


def pass_probability(
    house_stance: np.ndarray,
    senate_stance: np.ndarray,
    kind: str,
    administration_stance: float | None,
    mood_sd: float,
    cloture: int = 0,
) -> float:
    """Chance a bill of `kind` introduced now becomes law (None: both chambers pass, ignoring
    the administration); see `pass_probabilities`."""
    stance = 0.0 if administration_stance is None else administration_stance
    congress, law = pass_probabilities(house_stance, senate_stance, kind, stance, mood_sd, cloture)
    return congress if administration_stance is None else law


def stratified_normal(n: int, rng: np.random.Generator) -> np.ndarray:
    """n standard-normal draws, one per 1/n quantile band in random order (tight calibration)."""
    u = (rng.permutation(n) + rng.random(n)) / n
    inv = NormalDist().inv_cdf
    return np.array([inv(min(max(x, 1e-9), 1 - 1e-9)) for x in u])


def next_election(quarter: int, senate_class: int | None = None) -> int:
    """First House election quarter at or after `quarter` (for a senator: of its class)."""
    k = max(0, math.ceil((quarter - calendar.FIRST_HOUSE_ELECTION) / 8))
    if senate_class is not None:
        while k % 3 != senate_class:
            k += 1
    return calendar.FIRST_HOUSE_ELECTION + 8 * k


class Politics:
    """Congress, the administration, bills and elections; the moat metrics."""

    def __init__(self, model):
        self.model = model
        self.params = p = model.params
        self.rng = rng = model.streams["politics"]
        # the weights exposure acts through: every one 0 when it is switched off
        self.w = {name: p[name] if p["exposure_in_politics"] else 0.0 for name in EXPOSURE_WEIGHTS}
        geo = model.geography
        self.seat_lean = {"house": geo.district_lean, "senate": geo.state_lean()}
        self.seats_per_state = np.bincount(DISTRICT_STATE, minlength=geo.n_states)
        self.votes = {
            "house": np.full(HOUSE, p["votes_per_district"]),
            "senate": p["votes_per_district"] * self.seats_per_state.astype(float),
        }
        self.administration = p["administration_stance_initial"]
        self.next_administration: float | None = None
        self.inauguration_q = -1
        self.rule_action_q = -1
        self.final_q = -1
        self.law: str | None = None  # "crackdown" or "protection" once a bill has passed
        self.crackdown_laws = 0
        self.protection_laws = 0
        self.last_pass_probability = 0.0
        self.popular_vote_r = 0.0
        self.electoral_votes_r = 0
        self._event = {"election": "", "bill": "", "members_replaced": 0}
        self._scandal = self._scandal_term = 0.0
        self._observe_constituents()
        self._proximity_q = -1
        self._first_congress(rng)
        self._settle_lobbying()
        self.close_quarter()

    # --- quarter-0 Congress
    def _first_congress(self, rng: np.random.Generator) -> None:
        """The 119th Congress (Jan 2025): seats by lean, ideology by party (stratified draws)."""
        p = self.params
        house_party = self._parties(self.seat_lean["house"], p["house_republican_seats"], rng)
        senate_state = np.repeat(np.arange(len(self.seats_per_state)), 2)
        senate_party = self._parties(
            self.seat_lean["senate"][senate_state], p["senate_republican_seats"], rng
        )
        # the two senators of a state sit in different classes (33 / 34 / 33 seats)
        senate_class = np.where(np.arange(SENATE) % 2 == 0, senate_state % 3, (senate_state + 1) % 3)
        party = np.concatenate([house_party, senate_party])
        z = np.empty(len(party))
        for side in (1, -1):
            idx = np.flatnonzero(party == side)
            z[idx] = stratified_normal(len(idx), rng)
        ideology = np.where(party > 0, p["ideology_mean_r"], p["ideology_mean_d"]) + p["ideology_sd"] * z
        concern = self._concern(len(party), rng)
        seat = np.concatenate([np.arange(HOUSE), senate_state])
        senate_class = np.concatenate([np.full(HOUSE, -1), senate_class])
        self.model.member_table = Members(seat, party, ideology, concern, senate_class, self.model.quarter)
        self.settle(np.arange(HOUSE + SENATE))

    def _parties(self, lean: np.ndarray, republicans: int, rng: np.random.Generator) -> np.ndarray:
        """+1 for the `republicans` seats with the most Republican lean (plus noise), else -1."""
        score = lean + self.params["seat_party_noise"] * rng.standard_normal(len(lean))
        party = -np.ones(len(lean), np.int64)
        party[np.argsort(-score)[:republicans]] = 1
        return party

    def _concern(self, n: int, rng: np.random.Generator) -> np.ndarray:
        m = min(max(self.params["reelection_concern_mean"], 1e-3), 1 - 1e-3)
        return rng.beta(4 * m, 4 * (1 - m), n)

    def _settle_lobbying(self) -> None:
        """Quarter-0 lobbying stocks at the steady state of the industry's spending."""
        p, t = self.params, self.table
        share = self._lobbying_shares()
        stock = p["industry_lobbying_usd"] / max(1.0 - p["lobbying_memory"], 1e-6)
        t.lobbying[:] = stock * share
        self.settle(np.arange(t.n))

    @property
    def table(self) -> Members:
        """Congress's columns (row = slot)."""
        return self.model.member_table

    @property
    def members(self) -> list[Politician]:
        """Every sitting member, by slot: the House by district, then the Senate by state (Mesa agents)."""
        return [self.model.politician(slot) for slot in range(self.table.n)]

    # --- what members read
    def pull(self, rows) -> member_rule.Pull:
        """What moves the members of `rows` this quarter (agents/politician/rule.py)."""
        t = self.table
        rows = np.asarray(rows, np.int64)
        house = t.house[rows]
        pressure = np.where(
            house,
            self.pressure["house"][np.where(house, t.seat[rows], 0)],
            self.pressure["senate"][np.where(house, 0, t.seat[rows])],
        )
        return member_rule.Pull(
            self.lobbying_effect(t.lobbying[rows]), self._scandal_term, self.proximity(rows), pressure
        )

    def update_stances(self, rows) -> None:
        """Stances of `rows` move part of the way to this quarter's targets."""
        member_rule.update_stances(self.table, rows, self.pull(rows), self.params["stance_adjust_speed"])

    def settle(self, rows) -> None:
        """Members of `rows` take their targets at once."""
        member_rule.settle(self.table, rows, self.pull(rows))

    def proximity(self, rows) -> np.ndarray:
        """Weight of re-election in each stance of `rows`: 0.5 just after an election, 1 in its quarter."""
        q = self.model.quarter
        if self._proximity_q != q:
            self._proximity_q = q
            near = [1.0 - 0.5 * (next_election(q, c) - q) / 24.0 for c in range(3)]
            near.append(1.0 - 0.5 * (next_election(q) - q) / 8.0)
            self._proximity = np.array(near)
        return self._proximity[self.table.senate_class[rows]]  # the House's is last: senate_class -1

    def lobbying_effect(self, stock_usd):
        """Stance added by lobbying stocks (log-odds, elementwise over USD stocks)."""
        p = self.params
        ratio = np.asarray(stock_usd, float) / p["lobbying_ref_usd"]
        # math.log1p per member (535 values), not numpy's: numpy's differs from the C library's
        # in the last bit for ~5% of inputs, and stances must not depend on which one runs.
        return p["lobbying_weight"] * np.array([math.log1p(x) for x in ratio.tolist()])

    def scandal_term(self) -> float:
        """Stance lost to this quarter's scandal salience (log-odds)."""
        return self._scandal_term

    def crackdown_threat(self) -> float:
        """Last quarter's chance that both chambers would pass a standard crackdown (0-1)."""
        return self.last_pass_probability

    # --- the quarter
    def before_quarter(self, q: int) -> None:
        """Calendar: a new administration takes office; its rule actions fall due."""
        self._event = {"election": "", "bill": "", "members_replaced": 0}
        if q == self.inauguration_q and self.next_administration is not None:
            self.administration = self.next_administration
            self.next_administration = None
            self.rule_action_q = q + self.params["rule_action_lag"]
        if q == self.rule_action_q:
            self._rule_action(q)
        if q == self.final_q and self.model.regulation.status == "proposed":
            self.model.regulation.set_status("final", q, "administration finalises the rule")

    def after_quarter(self, q: int) -> None:
        """After the market clears: constituents, lobbying, stances, bills, then elections."""
        self._scandal = self.model.scandal
        self._scandal_term = self.params["scandal_weight"] * self._scandal
        self._observe_constituents()
        self._distribute_lobbying()
        self.update_stances(np.arange(self.table.n))
        self._bills(q)
        if calendar.is_house_election(q):
            self._event["election"] = "house"
            self._elections(q)
        if calendar.is_presidential_election(q):
            self._event["election"] = "presidential"
            self._presidential(q)
        self.close_quarter()

    def rescission_probability(self) -> float:
        """Chance the administration rescinds the DOL rule when it acts on it (0-1).

        logistic((rescind_threshold - stance - rescission_exposure_weight x exposure index)
        / rescind_spread): a hostile administration rescinds, unless what voters hold in their
        plans makes the rescission costly; no single stance threshold decides.
        """
        p, reg = self.params, self.model.regulation
        if self.administration > 0.0 or self.law == "protection" or reg.status in ("rescinded", "codified"):
            return 0.0
        gap = (
            p["rescind_threshold"]
            - self.administration
            - self.w["rescission_exposure_weight"] * self.exposure_index
        )
        return float(logistic(gap / p["rescind_spread"]))

    def _rule_action(self, q: int) -> None:
        """The administration acts on the DOL rule (see the module docstring)."""
        reg = self.model.regulation
        chance = self.rescission_probability()
        if chance > 0.0 and self.rng.random() < chance:
            reg.set_status("rescinded", q, "the administration rescinds the rule")
        elif self.administration > 0 and reg.status == "rescinded" and self.law != "crackdown":
            reg.set_status("proposed", q, "friendly administration re-proposes the rule")
            self.final_q = q + 3

    # --- constituents
    def exposure(self) -> np.ndarray:
        """What each participant has at stake as a voter (exposure units, 0 without crypto).

        stake / (stake + exposure_half_stake_usd), saturating in the dollars held; times
        max(0, 1 + exposure_gain_weight x last quarter's return on them, clipped to +-1), so
        gains strengthen and losses weaken it; times the issue's salience, 1 +
        exposure_news_salience x |4-quarter log return| + scandal salience.
        """
        rows, values = self._holders_exposure()
        out = np.zeros(self.model.population.n)
        out[rows] = values
        return out

    def _holders_exposure(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows of the participants holding crypto, their exposure): everyone else's is 0."""
        p, pop, m = self.params, self.model.population, self.model
        rows = np.flatnonzero(pop.holds)
        stake = (pop.units_active[rows] + pop.units_default[rows]) * pop.price
        saturation = stake / (stake + p["exposure_half_stake_usd"])
        last_gain = pop.last_gain[rows]
        base = stake - last_gain
        ret = np.clip(np.divide(last_gain, base, out=np.zeros_like(base), where=base > 0), -1.0, 1.0)
        gain = np.maximum(1.0 + p["exposure_gain_weight"] * ret, 0.0)
        salience = 1.0 + p["exposure_news_salience"] * abs(m.market.trailing_log_return()) + self._scandal
        return rows, saturation * gain * salience

    @property
    def interest(self) -> np.ndarray:
        """Each participant's exposure as last observed (exposure units; elections read it)."""
        if self._interest is None:
            rows, values = self._exposure_now
            self._interest = np.zeros(self.model.population.n)
            self._interest[rows] = values
        return self._interest

    def _observe_constituents(self) -> None:
        """Per seat: holders, participants and exposure per voter; the constituent pressure.

        Sums run over the participants holding crypto only: everyone else adds exactly 0.
        """
        pop = self.model.population
        w = pop.weight
        self._exposure_now = rows, values = self._holders_exposure()
        self._interest = None
        holding = np.flatnonzero(pop.holds)
        sums = np.stack(
            [
                np.bincount(pop.district[holding], minlength=HOUSE) * w,  # holders, people
                pop.district_count() * w,  # participants, people
                np.bincount(pop.district[rows], weights=values, minlength=HOUSE)
                * w,  # exposure, people x units
            ]
        )
        by_state = np.stack(
            [np.bincount(DISTRICT_STATE, weights=row, minlength=len(self.seats_per_state)) for row in sums]
        )
        self.pressure, self.participants, self.voter_share = {}, {}, {}
        for chamber, s in (("house", sums), ("senate", by_state)):
            self.pressure[chamber] = self.w["exposure_weight"] * s[2] / self.votes[chamber]
            self.participants[chamber] = s[1]
            self.voter_share[chamber] = np.minimum(s[0] / self.votes[chamber], 1.0)
        total_votes = self.votes["house"].sum()
        self.national_voter_share = float(min(sums[0].sum() / total_votes, 1.0))
        self.exposure_index = float(sums[2].sum() / total_votes)

    # --- lobbying
    def _lobbying_shares(self) -> np.ndarray:
        """Share of this quarter's lobbying each member receives: proportional to p(1 - p)."""
        pr = logistic(self.stances())
        w = pr * (1.0 - pr)
        total = w.sum()
        # Every member certain either way (stances saturate at extreme parameter values):
        # nobody is persuadable more than anyone else, so the money is spread evenly.
        return w / total if total > 0 else np.full(len(w), 1.0 / len(w))

    def _distribute_lobbying(self) -> None:
        p, t = self.params, self.table
        total = p["industry_lobbying_usd"] + self.model.products.lobbying_usd()
        t.lobbying[:] = p["lobbying_memory"] * t.lobbying + total * self._lobbying_shares()

    # --- bills
    def _bills(self, q: int) -> None:
        """Crackdown and protection bills arrive stochastically and are voted on."""
        p, m = self.params, self.model
        u = self.rng.random(3)  # always three draws: common random numbers across scenarios
        crisis = m.litigation.crisis(m.market.recent_drawdown(), self._scandal)
        rate_c = (
            p["crackdown_bill_rate"]
            * (1.0 + p["bill_crisis_sensitivity"] * crisis)
            * (1.0 + max(0.0, -self.administration))
        )
        rate_p = p["protection_bill_rate"] * (1.0 + max(0.0, self.administration))
        if m.regulation.status == "rescinded" and self.law != "crackdown":
            rate_p *= 1.0 + p["codify_response"]  # Congress answers a rescission with a codifying bill
        results = []
        if self.law != "crackdown" and u[0] < -math.expm1(-rate_c):
            kind = "crackdown_ban" if u[1] < p["ban_share"] else "crackdown_tighten"
            results.append(self.vote_on(kind, q))
        if self.law != "protection" and u[2] < -math.expm1(-rate_p):
            results.append(self.vote_on("protection", q))
        self._event["bill"] = "; ".join(results)

    def vote_on(self, kind: str, q: int) -> str:
        """Every member votes on a bill of `kind`; enact it if it passes. A one-line record."""
        shock = float(self.rng.normal(0.0, self.params["mood_sd"]))
        n = self.table.n
        yes = member_rule.votes(self.table, np.arange(n), kind, shock, self.rng.random(n))
        hy, sy = int(yes[:HOUSE].sum()), int(yes[HOUSE:].sum())
        passed, how = bill_outcome(kind, hy, sy, self.administration, cloture=self.params["senate_cloture"])
        if passed:
            self._enact(kind, q)
        return f"{kind}: House {hy}-{HOUSE - hy}, Senate {sy}-{SENATE - sy}, {how}"

    def _enact(self, kind: str, q: int) -> None:
        reg, products = self.model.regulation, self.model.products
        if kind == "protection":
            self.law = "protection"
            self.protection_laws += 1
            products.set_banned(False)
            reg.set_status("codified", q, "protection law codifies the safe harbour")
            return
        self.law = "crackdown"
        self.crackdown_laws += 1
        if kind == "crackdown_ban":
            products.set_banned(True)
            reg.set_status("rescinded", q, "crackdown law removes crypto from plans")
        else:
            reg.set_status("rescinded", q, "crackdown law tightens the rule")

    # --- elections
    def _elections(self, q: int) -> None:
        """The House and one Senate class are elected (the class up rotates)."""
        k = (q - calendar.FIRST_HOUSE_ELECTION) // 8
        house = list(range(HOUSE))
        senate = (HOUSE + np.flatnonzero(self.table.senate_class[HOUSE:] == k % 3)).tolist()
        swing = float(self.rng.normal(0.0, self.params["national_swing_sd"]))  # toward Republicans
        replaced = self._contest("house", house, swing) + self._contest("senate", senate, swing)
        self._event["members_replaced"] = replaced

    def _candidates(self, party: np.ndarray, pressure: np.ndarray):
        """(ideology, its exposure part) of new candidates of `party`: a draw from the party,
        moved a share `replacement_pull` of the seat's constituent pressure toward the seat."""
        p = self.params
        draw = np.where(party > 0, p["ideology_mean_r"], p["ideology_mean_d"]) + p[
            "ideology_sd"
        ] * self.rng.standard_normal(len(party))
        exposure = p["replacement_pull"] * pressure
        return draw + exposure, exposure

    def _contest(self, chamber: str, slots: list[int], swing: float) -> int:
        """Elect the seats held by `slots`; the number of members replaced."""
        if not slots:
            return 0
        p, rng, t = self.params, self.rng, self.table
        slots = np.asarray(slots, np.int64)
        seats = t.seat[slots]
        party = t.party[slots]
        pressure = self.pressure[chamber][seats]
        retire = rng.random(len(slots)) < p["retirement_rate"]
        ch_ideo, ch_exp = self._candidates(-party, pressure)
        new_ideo, new_exp = self._candidates(party, pressure)
        concern = p["reelection_concern_mean"]
        inc_stance = np.where(retire, new_ideo + concern * pressure, t.stance[slots])
        ch_stance = ch_ideo + concern * pressure
        advantage = np.where(retire, 0.0, p["incumbency_advantage"])
        share = self._vote_share(chamber, seats, party, inc_stance, ch_stance, advantage)
        share = share + swing * party + rng.normal(0.0, p["district_swing_sd"], len(slots))
        keep = share > 0.5
        conc = self._concern(len(slots), rng)
        out = ~keep | retire
        if not out.any():
            return 0
        same = keep[out]  # an open seat the incumbent's party keeps
        t.replace(
            slots[out],
            np.where(same, party[out], -party[out]),
            np.where(same, new_ideo[out], ch_ideo[out]),
            np.where(same, new_exp[out], ch_exp[out]),
            conc[out],
            self.model.quarter,
        )
        self.settle(slots[out])
        return int(out.sum())

    def _vote_share(self, chamber, seats, inc_party, inc_stance, ch_stance, advantage) -> np.ndarray:
        """Incumbent-side vote share per contested seat: 401(k) participants and other voters."""
        p, pop = self.params, self.model.population
        home = pop.district if chamber == "house" else DISTRICT_STATE[pop.district]
        pos = np.full(len(self.seat_lean[chamber]), -1)
        pos[seats] = np.arange(len(seats))
        j = pos[home]
        voting = j >= 0
        j = j[voting]
        gap = np.tanh(inc_stance / 2.0) - np.tanh(ch_stance / 2.0)
        u = (
            p["party_vote_weight"] * pop.party_lean[voting] * inc_party[j]
            + self.w["crypto_vote_weight"] * self.interest[voting] * gap[j]
            + advantage[j]
        )
        count = np.bincount(j, minlength=len(seats))
        part = np.bincount(j, weights=logistic(u), minlength=len(seats)) / np.maximum(count, 1)
        f = np.minimum(self.participants[chamber][seats] / self.votes[chamber][seats], 1.0)
        other = logistic(
            p["party_vote_weight"] * np.tanh(self.seat_lean[chamber][seats]) * inc_party + advantage
        )
        return f * part + (1.0 - f) * other

    def _presidential(self, q: int) -> None:
        """The presidential election, won in the Electoral College.

        Each party's candidate has a crypto stance drawn from the party's and pulled toward the
        voters' stake by candidate_exposure_weight x the national exposure index. Participants
        vote by party lean and, weighted by their exposure, by the candidates' stance gap; other
        voters by their district's lean. Each state's Republican share (plus a national and a
        state swing) gives its electoral votes (House seats + 2; DC's 3 go to the Democrat).
        """
        p, pop, rng = self.params, self.model.population, self.rng
        pull = self.w["candidate_exposure_weight"] * self.exposure_index
        s_r = float(np.clip(rng.normal(p["candidate_stance_r"], p["candidate_stance_sd"]) + pull, -1, 1))
        s_d = float(np.clip(rng.normal(p["candidate_stance_d"], p["candidate_stance_sd"]) + pull, -1, 1))
        u = p["party_vote_weight"] * pop.party_lean + self.w["crypto_vote_weight"] * self.interest * (
            s_r - s_d
        )
        states = len(self.seats_per_state)
        home = DISTRICT_STATE[pop.district]
        count = np.bincount(home, minlength=states)
        part = np.bincount(home, weights=logistic(u), minlength=states) / np.maximum(count, 1)
        district_votes = self.votes["house"]
        lean_vote = district_votes * logistic(p["party_vote_weight"] * np.tanh(self.seat_lean["house"]))
        other = np.bincount(DISTRICT_STATE, weights=lean_vote, minlength=states) / self.votes["senate"]
        f = np.minimum(self.participants["senate"] / self.votes["senate"], 1.0)
        swing = float(rng.normal(0.0, p["national_swing_sd"]))
        share = f * part + (1.0 - f) * other + swing + rng.normal(0.0, p["district_swing_sd"], states)
        self.electoral_votes_r = int(ELECTORAL_VOTES[share > 0.5].sum())
        self.popular_vote_r = float((share * self.votes["senate"]).sum() / self.votes["senate"].sum())
        winner = s_r if 2 * self.electoral_votes_r > ELECTORAL_TOTAL else s_d
        if q == p["forced_turn_quarter"]:
            winner = p["forced_turn_stance"]
        self.next_administration = winner
        self.inauguration_q = q + 1

    # --- metrics
    def stances(self) -> np.ndarray:
        """Every member's stance, House (by district) then Senate (log-odds)."""
        return self.table.stance.copy()

    def close_quarter(self) -> None:
        """Compute the quarter's political outputs and the crackdown threat managers read next."""
        p = self.params
        stance, shadow = self.table.stance.copy(), self.table.shadow.copy()
        h, s = slice(0, HOUSE), slice(HOUSE, None)
        cloture = p["senate_cloture"]
        flips = int(((stance > 0) & (shadow <= 0)).sum()) - int(((stance <= 0) & (shadow > 0)).sum())
        against = logistic(stance[h]) - logistic(shadow[h])
        congress, law = pass_probabilities(
            stance[h], stance[s], STANDARD_CRACKDOWN, self.administration, p["mood_sd"], cloture
        )
        self.last_pass_probability = congress
        self._snapshot = {
            "moat_index": flips / len(stance),
            "moat_votes_house": float(against.sum()),
            "crackdown_pass_probability": law,
            "crackdown_pass_probability_no_exposure": pass_probability(
                shadow[h], shadow[s], STANDARD_CRACKDOWN, self.administration, p["mood_sd"], cloture
            ),
            "crackdown_congress_probability": congress,
            "crackdown_votes_house": float(yes_probability(stance[h], STANDARD_CRACKDOWN).sum()),
            "pro_crypto_share_house": float((stance[h] > 0).mean()),
            "pro_crypto_share_senate": float((stance[s] > 0).mean()),
            "administration_stance": float(self.administration),
            "voter_exposure": self.national_voter_share,
            "exposure_index": self.exposure_index,
            "rescission_probability": self.rescission_probability(),
            "popular_vote_r": self.popular_vote_r,
            "electoral_votes_r": self.electoral_votes_r,
            "crackdown_laws": self.crackdown_laws,
            "protection_laws": self.protection_laws,
        }

    def metrics(self) -> dict:
        """This quarter's political outputs (see model/outputs.py and the README's definitions)."""
        return {
            **self._snapshot,
            "election": self._event["election"],
            "bill": self._event["bill"],
            "members_replaced": self._event["members_replaced"],
        }

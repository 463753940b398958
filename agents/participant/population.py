"""The participants' columnar state and their quarter, run as vectorised passes.

One row per participant agent. Money columns are US dollars per real person the agent stands
for; the model multiplies sums by `weight` (real participants per agent) for US-scale outputs.
Crypto is held in units of the asset (`units_active` by own choice, `units_default` through the
default product's sleeve); dollar values are units times the current price. The decision rule
lives in agents/participant/rule.py and the money each quarter moves (contributions, orders,
fills at the weeks' prices, fees, returns, the no-crypto counterfactual) in accounts.py; this
module owns the state, its initialisation from the calibration figures, the decision pass,
ageing, retirement and entry.

Calibration figures used here (copied, with sources):
* balances by age, average / median, end 2024 (Vanguard How America Saves 2025):
  <25 $7,351 / $2,816; 25-34 $42,640 / $16,255; 35-44 $103,552 / $39,958; 65+ $272,588 / $88,488;
  45-54 and 55-64 not published there, interpolated. All participants: $148,153 / $38,176.
* deferral rates by age: 5.5% (<25), 6.8%, 7.3%, 7.9%, 9.3%, 10.1% (65+) (same source).
* employer match: most common 50% on the first 6% of pay; 96% of plans contribute (Vanguard).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.participant import rule as rules
from agents.rows import Departures

# Age bands: lower and upper age, share of participants (assumption, chosen so the mixture's
# mean balance is within 6% of Vanguard's $148,153), mean and median balance (Vanguard HAS
# 2025; 45-54 and 55-64 interpolated), deferral rate (Vanguard HAS 2025), median salary
# (assumption, of the order of BLS median earnings by age).
AGE_BANDS = (
    # lo, hi, share, mean bal, median bal, deferral, median salary
    (21.0, 25.0, 0.06, 7_351.0, 2_816.0, 0.055, 32_000.0),
    (25.0, 35.0, 0.21, 42_640.0, 16_255.0, 0.068, 55_000.0),
    (35.0, 45.0, 0.23, 103_552.0, 39_958.0, 0.073, 70_000.0),
    (45.0, 55.0, 0.22, 170_000.0, 62_000.0, 0.079, 78_000.0),
    (55.0, 65.0, 0.20, 240_000.0, 80_000.0, 0.093, 75_000.0),
    (65.0, 70.0, 0.08, 272_588.0, 88_488.0, 0.101, 65_000.0),
)
_BAND = np.array(AGE_BANDS).T  # columns of AGE_BANDS: lo, hi, share, mean, median, deferral, salary
VANGUARD_MEAN_BALANCE = 148_153.0
VANGUARD_MEDIAN_BALANCE = 38_176.0


@dataclass
class Exits:
    """Who retired at the start of a quarter and what they took with them."""

    rows: np.ndarray  # rows whose person retired (now entrants)
    units: float  # crypto units sold as their balances are paid out, per represented person, summed
    ratio: np.ndarray  # each retiree's balance over the no-crypto counterfactual at retirement
    ratio_at_shadow: np.ndarray  # the same with their crypto valued at the no-401(k) price
    held: np.ndarray  # whether each retiree ever held crypto in the plan


@dataclass
class EmployerView:
    """Per-employer arrays participants read this quarter (index = employer index)."""

    offers: np.ndarray  # bool: crypto option on the menu
    cap: np.ndarray  # share of contributions and balance
    fee: np.ndarray  # share of assets a year
    cue: np.ndarray  # external attention cues this quarter (newly offering + education + marketing)
    sleeve: np.ndarray  # crypto share of the default target-date product
    sleeve_fee: np.ndarray  # fee of the default product's crypto sleeve, share of assets a year
    auto_enrol: np.ndarray  # bool: new workers start in the plan's default product
    match_rate: np.ndarray
    match_cap: np.ndarray
    size_weight: np.ndarray  # relative chance a new worker joins this employer
    balance_factor: np.ndarray  # relative balance level of the plan-size segment


def _mean_one_lognormal(rng: np.random.Generator, sd: float, size: int) -> np.ndarray:
    """Lognormal draws with mean 1 and log-spread `sd` (traits that scale a mean behaviour)."""
    return np.exp(sd * rng.standard_normal(size) - 0.5 * sd**2)


def _lognormal_mean_median(rng, mean, median, size):
    """Lognormal draws with the given mean and median."""
    sigma = np.sqrt(2.0 * np.log(mean / median))
    return median * np.exp(sigma * rng.standard_normal(size))


class Population:
    """All participants as columns; `weight` real people per row."""

    def __init__(
        self,
        params: dict,
        employers: EmployerView,
        district_share: np.ndarray,
        district_lean: np.ndarray,
        rng: np.random.Generator,
    ):
        self.p = params
        self.rng = rng
        self.n = n = params["n_participants"]
        self.weight = params["us_participants"] / n
        self.k = rules.Coefficients.from_params(params)
        self.n_employers = len(employers.size_weight)
        self.district_lean = district_lean
        self._emp_prob = employers.size_weight / employers.size_weight.sum()
        self._district_prob = district_share
        # indices as numpy's native index type: every gather and bincount reads them as is
        self.employer = np.zeros(n, np.intp)
        self.district = np.zeros(n, np.intp)
        for name in (
            "age",
            "retire_age",
            "salary",
            "deferral",
            "party_lean",
            "risk_target",
            "affinity",
            "attentiveness",
            "trend_trait",
            "loss_aversion",
            "balance_other",
            "units_active",
            "units_default",
            "cost_active",
            "cost_default",
            "counterfactual",
            "alloc",
            "last_gain",
        ):
            setattr(self, name, np.zeros(n))
        self.price = 1.0  # USD per unit of crypto, marked by the model after each quarter
        self.in_default = np.zeros(n, bool)
        # held crypto in the plan at some quarter end since the order (or at quarter 0): a holder
        # in the retirement outputs; everyone else's balance ratio is exactly 1
        self.held = np.zeros(n, bool)
        # Who holds each row (a person's number; entrants count on) and who left when: the Mesa
        # handles of rows (agents/rows.py) read them.
        self.ident = np.arange(n, dtype=np.int64)
        self.next_ident = n
        self.departures = Departures()
        self.entered = np.zeros(n, np.int32)  # quarter the person behind the row entered
        rows = np.arange(n)
        self._draw_people(rows, initial=True, employers=employers)
        self.district[:] = rng.choice(len(district_share), n, p=district_share)
        self._draw_party(rows)
        raw_total = (self.balance_other.sum()) * self.weight
        self.balance_scale = params["total_401k_assets_usd"] / raw_total if raw_total > 0 else 1.0
        self.balance_other *= self.balance_scale
        self.counterfactual[:] = self.balance_other
        self.degree = params["social_degree"] if n >= 2 else 0
        drawn = self._draw_contacts(self.degree, params["network_local_share"])
        self.contacts = self._contact_matrix(drawn) if self.degree else None
        self.interest_by_employer = np.zeros(self.n_employers)
        self.peer_share = np.zeros(n)
        # each participant's chance of reviewing the allocation in the last decision pass (None
        # until a pass has run, and again once anything it read may have changed)
        self.attention: np.ndarray | None = None
        self._employer_count: np.ndarray | None = None
        self._district_count: np.ndarray | None = None

    # --- initial draws and entrants
    def _draw_people(self, rows: np.ndarray, initial: bool, employers: EmployerView) -> None:
        """Draw age, pay, saving and behavioural traits for `rows` (new people in those rows)."""
        rng, p, m = self.rng, self.p, len(rows)
        lo_, hi_, shares, mean_, median_, deferral_, salary_ = _BAND
        if initial:
            band = rng.choice(len(AGE_BANDS), m, p=shares / shares.sum())
            lo = lo_[band]
            hi = hi_[band]
            age = lo + (hi - lo) * rng.random(m)
        else:
            age = rng.uniform(p["entry_age_min"], p["entry_age_max"], m)
            band = np.zeros(m, np.int64)
        self.age[rows] = age
        retire = rng.normal(p["retirement_age"], p["retirement_age_sd"], m)
        # Workers already past their drawn age keep working a while (exponential, mean 3
        # years): retiring them all at once would empty a fifth of the assets in one quarter.
        later = age + 0.25 + rng.exponential(p["late_retirement_mean_years"], m)
        self.retire_age[rows] = np.where(retire > age + 0.25, retire, later)
        self.employer[rows] = rng.choice(self.n_employers, m, p=self._emp_prob)
        med_salary = salary_[band]
        self.salary[rows] = med_salary * np.exp(p["salary_sd"] * rng.standard_normal(m))
        deferral = deferral_[band]
        self.deferral[rows] = np.clip(deferral * _mean_one_lognormal(rng, p["deferral_sd"], m), 0.01, 0.5)
        mean = mean_[band]
        median = median_[band]
        bal = _lognormal_mean_median(rng, mean, median, m) * employers.balance_factor[self.employer[rows]]
        if not initial:
            bal *= self.balance_scale
        self.balance_other[rows] = bal
        self.counterfactual[rows] = bal
        for column in (self.units_active, self.units_default, self.cost_active, self.cost_default):
            column[rows] = 0.0
        self.alloc[rows] = 0.0
        self.held[rows] = False
        self.last_gain[rows] = 0.0
        self.risk_target[rows] = p["target_allocation"] * np.exp(p["risk_target_sd"] * rng.standard_normal(m))
        self.affinity[rows] = (
            p["affinity_mean"]
            + p["affinity_age_slope"] * (age - 40.0)
            + p["affinity_sd"] * rng.standard_normal(m)
        )
        self.attentiveness[rows] = _mean_one_lognormal(rng, p["attentiveness_sd"], m)
        self.trend_trait[rows] = _mean_one_lognormal(rng, p["trend_trait_sd"], m)
        self.loss_aversion[rows] = 1.0 + (p["loss_aversion_mean"] - 1.0) * _mean_one_lognormal(
            rng, p["loss_aversion_sd"], m
        )
        # Auto-enrolled workers mostly stay in the plan's default product (Madrian & Shea 2001);
        # others choose a target-date or managed default less often.
        auto = employers.auto_enrol[self.employer[rows]]
        stay = np.where(auto, p["default_fund_stay_share"], p["voluntary_default_share"])
        self.in_default[rows] = rng.random(m) < stay

    def _draw_party(self, rows: np.ndarray) -> None:
        """Party lean (-1 Democratic to +1 Republican) around the district's lean; crypto affinity
        rises slightly with it (Gallup 2025: 18% of conservatives vs 10% of Democrats own crypto)."""
        lean = np.tanh(
            self.district_lean[self.district[rows]]
            + self.p["party_lean_sd"] * self.rng.standard_normal(len(rows))
        )
        self.party_lean[rows] = lean
        self.affinity[rows] += self.p["affinity_party_slope"] * lean

    def _contact_matrix(self, contacts: np.ndarray):
        """The contacts as a sparse n x n matrix of counts (row i: whom i sees; a contact drawn
        twice counts twice), so counting contacts who hold crypto is one matrix product."""
        from scipy.sparse import csr_matrix

        n, degree = contacts.shape
        indptr = np.arange(0, n * degree + 1, degree, dtype=np.int64)
        return csr_matrix((np.ones(n * degree, np.int16), contacts.ravel(), indptr), shape=(self.n, self.n))

    def _draw_contacts(self, degree: int, local_share: float) -> np.ndarray:
        """Social contacts: `degree` per participant, a share from the same district (rows)."""
        n, rng = self.n, self.rng
        if degree == 0:
            return np.zeros((n, 0), np.int32)
        order = np.argsort(self.district, kind="stable")
        counts = np.bincount(self.district, minlength=len(self._district_prob))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        d = self.district[:, None]
        local = order[starts[d] + (rng.random((n, degree)) * counts[d]).astype(np.int64)]
        anywhere = rng.integers(0, n, (n, degree))
        # row numbers fit 32 bits (n_participants <= 20,000,000): half the memory, faster gathers
        return np.where(rng.random((n, degree)) < local_share, local, anywhere).astype(np.int32)

    # --- quantities the rest of the model reads
    @property
    def crypto_active(self) -> np.ndarray:
        """Crypto held by own choice, USD per represented person at the current price."""
        return self.units_active * self.price

    @property
    def crypto_default(self) -> np.ndarray:
        """Crypto held through the default product's sleeve, USD at the current price."""
        return self.units_default * self.price

    @property
    def holds(self) -> np.ndarray:
        """Whether each participant holds any crypto (actively or through a default product)."""
        return (self.units_active > 0.0) | (self.units_default > 0.0)

    @property
    def balance(self) -> np.ndarray:
        """Total balance per represented person, US dollars."""
        return self.balance_other + (self.units_active + self.units_default) * self.price

    @property
    def balance_ratio(self) -> np.ndarray:
        """Balance over the balance the same person would have with no crypto ever (ratio)."""
        return self.balance / self.counterfactual

    def note_holders(self) -> None:
        """Mark everyone holding crypto now as a holder (they stay one until they retire)."""
        self.held |= (self.units_active > 0.0) | (self.units_default > 0.0)

    def holder_ratios(self, rows: np.ndarray, price: float | None = None) -> np.ndarray:
        """Balance ratios of the participants in `rows` (the same values as balance_ratio[rows]);
        with `price` (USD per unit), their crypto valued at that price instead of the market's."""
        held = (self.units_active[rows] + self.units_default[rows]) * (self.price if price is None else price)
        return (self.balance_other[rows] + held) / self.counterfactual[rows]

    def employer_count(self) -> np.ndarray:
        """Participant agents per employer (int; kept until entrants take new jobs)."""
        if self._employer_count is None:
            self._employer_count = np.bincount(self.employer, minlength=self.n_employers)
        return self._employer_count

    def district_count(self) -> np.ndarray:
        """Participant agents per congressional district (int; kept until entrants arrive)."""
        if self._district_count is None:
            self._district_count = np.bincount(self.district, minlength=len(self._district_prob))
        return self._district_count

    def update_peer_share(self) -> None:
        """Share of coworkers and of contacts holding crypto, as seen at the start of the quarter."""
        holds = self.holds
        count = self.employer_count()
        cw = np.bincount(self.employer, weights=holds, minlength=self.n_employers) / np.maximum(count, 1)
        degree = self.degree
        w = self.p["coworker_weight"] if degree else 1.0
        # contacts holding, counted exactly in integers: the same shares as a mean over floats
        social = (self.contacts @ holds.astype(np.int16)) / degree if degree else 0.0
        self.peer_share = w * cw[self.employer] + (1.0 - w) * social

    # --- the quarter
    def retire_and_enter(
        self, quarter: int, employers: EmployerView, shadow_price: float | None = None
    ) -> Exits:
        """Retire everyone at or past retirement age (balances leave) and put entrants in their rows.

        Returns what left: the rows, the crypto units sold as their balances are paid out
        (withdrawals, per represented person) and each retiree's balance ratio at retirement,
        also with their crypto valued at `shadow_price` (USD per unit; the market's when None).
        """
        self.attention = None
        rows = np.flatnonzero(self.age >= self.retire_age)
        exits = Exits(
            rows=rows,
            units=float((self.units_active[rows] + self.units_default[rows]).sum()),
            ratio=self.holder_ratios(rows),
            ratio_at_shadow=self.holder_ratios(rows, shadow_price),
            held=self.held[rows],
        )
        if len(rows):
            self._employer_count = self._district_count = None
            self.departures.add(quarter, self.ident[rows])
            self.ident[rows] = self.next_ident + np.arange(len(rows))
            self.next_ident += len(rows)
            self._draw_people(rows, initial=False, employers=employers)
            self.entered[rows] = quarter
            self._draw_party(rows)
        return exits

    def decide_all(
        self, employers: EmployerView, offered: np.ndarray, cap: np.ndarray, env: rules.Market
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every participant's decision this quarter in one vectorised pass (see rule.py).

        cap: each participant's allowed crypto share (the plan's cap, lowered by any glide path).
        Returns (move, panic): whether the balance is moved to the new allocation, and panic sales.
        """
        e = self.employer
        u = self.rng.random((3, self.n))
        cue = employers.cue[e]
        self.attention = rules.attention_probability(self.attentiveness, cue, self.peer_share, env, self.k)
        new_alloc, move, panic, util = rules.decide(
            self.affinity,
            self.trend_trait,
            self.attentiveness,
            self.loss_aversion,
            self.risk_target,
            self.alloc,
            self.units_active > 0.0,
            offered,
            cap,
            employers.fee[e],
            cue,
            self.peer_share,
            u[0],
            u[1],
            u[2],
            env,
            self.k,
            self.attention,
        )
        interested = (util > 0.0).astype(float)
        count = self.employer_count()
        self.interest_by_employer = np.bincount(
            e, weights=interested, minlength=self.n_employers
        ) / np.maximum(count, 1)
        self.alloc = new_alloc
        return move, panic

    def glide(self, years: float, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Share of a cap or sleeve left at each participant's age under a glide path of `years`
        before retirement (1 further out, falling linearly to 0 at retirement; 1 when years is 0)."""
        left = self.retire_age[rows] - self.age[rows]
        if years <= 0.0:
            return np.ones_like(left)
        return np.clip(left / years, 0.0, 1.0)

    def age_one_quarter(self) -> None:
        """Everyone ages a quarter and gets a quarter's wage growth."""
        self.age += 0.25
        self.salary *= (1.0 + self.p["wage_growth_annual"]) ** 0.25

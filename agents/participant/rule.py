"""The participant decision rule, written once for a whole population or a single participant.

Every function here is elementwise: called with numpy arrays it decides for all participants
in one vectorised pass; called with Python floats it decides for one participant (that is how
`Participant.decide` runs the same rule one agent at a time, for the benchmark and the tests).

Per quarter, for a participant whose plan offers crypto:
* attention: P(review) = 1 - exp(-h) with the hazard
      h = attention_base * attentiveness            (inertia: most quarters nothing happens)
        + innovation_strength * cue                 (innovation channel: plan newly offering,
                                                     employer education, manager marketing)
        + imitation_strength * peer_share           (imitation channel: coworkers and contacts)
        + news_attention * |trailing return|        (large price moves make news)
        + drawdown_attention * drawdown             (a risk warning points holders at falls)
        + scandal news
* utility of holding crypto:
      u = affinity - warning_shift + extrapolation * trend_trait * trailing_return
          + peer_weight * peer_share - fee_sensitivity * fee_percent + safety_weight * clarity
* an attentive participant sets the allocation (share of contributions and target share of
  balance) to 0 if u <= 0, else min(cap, risk_target * (1 + u / 2)), where risk_target is the
  participant's preferred allocation (median `target_allocation`);
* with a mandatory risk warning (`risk_warning`), the warning lowers utility by
  `warning_uptake_cut`, scales trend chasing by (1 - `warning_trend_cut`) and adds
  `warning_drawdown_attention` to the attention hazard per unit drawdown; without it these are 0;
* a holder whose crypto is down more than `panic_threshold` from its recent peak panics (sells
  everything, allocation to 0) with probability 1 - exp(-panic_sensitivity * (lambda - 1) *
  (drawdown - panic_threshold)), lambda being the participant's loss aversion.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Coefficients(NamedTuple):
    """The behavioural parameters the rule reads (see model/parameters.py for units)."""

    attention_base: float
    innovation_strength: float
    imitation_strength: float
    news_attention: float
    extrapolation: float
    peer_weight: float
    fee_sensitivity: float
    safety_weight: float
    panic_threshold: float
    panic_sensitivity: float
    move_balance_share: float
    warning_shift: float = 0.0
    drawdown_attention: float = 0.0

    @classmethod
    def from_params(cls, params: dict) -> Coefficients:
        """The rule's coefficients, with the risk warning's effects when `risk_warning` is on."""
        own = {name: params[name] for name in cls._fields if name in params}
        if params.get("risk_warning", False):
            own["extrapolation"] = params["extrapolation"] * (1.0 - params["warning_trend_cut"])
            own["warning_shift"] = params["warning_uptake_cut"]
            own["drawdown_attention"] = params["warning_drawdown_attention"]
        return cls(**own)


class Market(NamedTuple):
    """What every participant observes about the market and the rules this quarter."""

    trailing_return: float  # log price change over the last 4 quarters
    drawdown: float  # fall from the 4-quarter peak, share of 1
    clarity: float  # regulatory clarity, 0-1
    news: float  # extra attention hazard from scandals and other news, per quarter


def utility(affinity, trend_trait, peer_share, fee, env: Market, k: Coefficients):
    """Net attraction of holding crypto (utility units); fee is a share of assets a year."""
    return (
        affinity
        - k.warning_shift
        + k.extrapolation * trend_trait * env.trailing_return
        + k.peer_weight * peer_share
        - k.fee_sensitivity * 100.0 * fee
        + k.safety_weight * env.clarity
    )


def attention_probability(attentiveness, cue, peer_share, env: Market, k: Coefficients):
    """Chance of reviewing the allocation this quarter (share of 1)."""
    hazard = (
        k.attention_base * attentiveness
        + k.innovation_strength * cue
        + k.imitation_strength * peer_share
        + k.news_attention * abs(env.trailing_return)
        + k.drawdown_attention * env.drawdown
        + env.news
    )
    return -np.expm1(-hazard)


def desired_allocation(u, risk_target, cap):
    """Allocation chosen on review: share of contributions and of balance, 0 up to the cap."""
    return np.where(u > 0.0, np.minimum(cap, risk_target * (1.0 + 0.5 * u)), 0.0)


def panic_probability(loss_aversion, env: Market, k: Coefficients):
    """Chance that a holder sells all crypto this quarter after a drawdown (share of 1)."""
    excess = max(env.drawdown - k.panic_threshold, 0.0)
    return -np.expm1(-k.panic_sensitivity * (loss_aversion - 1.0) * excess)


def decide(
    affinity,
    trend_trait,
    attentiveness,
    loss_aversion,
    risk_target,
    alloc,
    holds,
    offered,
    cap,
    fee,
    cue,
    peer_share,
    u_attend,
    u_move,
    u_panic,
    env: Market,
    k: Coefficients,
    attention=None,
):
    """One quarter's choice: (new allocation, whether the balance is moved to it, panic, utility).

    Inputs are per participant (arrays or scalars): traits, current allocation (share), whether
    crypto is held, whether the plan offers it, the plan's cap (share) and fee (share a year),
    the external cue (count of this quarter's cues), the peer share, and three uniforms;
    `attention`: the chance of reviewing, when the caller has computed attention_probability
    already.
    """
    u = utility(affinity, trend_trait, peer_share, fee, env, k)
    if attention is None:
        attention = attention_probability(attentiveness, cue, peer_share, env, k)
    panic = holds & offered & (u_panic < panic_probability(loss_aversion, env, k))
    attend = offered & ~panic & (u_attend < attention)
    chosen = desired_allocation(u, risk_target, cap)
    kept = np.where(offered, np.minimum(alloc, cap), 0.0)
    new_alloc = np.where(panic, 0.0, np.where(attend, chosen, kept))
    move = attend & (u_move < k.move_balance_share)
    return new_alloc, move, panic, u

"""The inspector's memory: one chosen participant, employer or politician, followed over time.

A `Follower` holds one snapshot per quarter, taken after each step. A participant is followed
as a person (the agent handle, not the row: when the participant retires its row goes to an
entrant, and the follower then reports the retirement instead of switching to someone else).
An employer is followed as itself. A politician is followed by seat: after an election the
seat's new member is shown, with its own member id.
"""

from __future__ import annotations

from typing import Any

from agents.participant import Participant
from viz.charts import is_pro_crypto, member_label, politicians

KINDS = ("participant", "employer", "politician")
# the series drawn over time for each kind (the snapshot has more)
PLOTTED = {
    "participant": ("crypto share of balance", "chosen allocation", "peer share"),
    "employer": ("offers crypto", "peer offer share", "perceived litigation"),
    "politician": ("stance",),
}


def candidates(model, kind: str) -> list:
    """The agents of `kind` the user can choose from, in index order."""
    if kind == "participant":
        return list(model.population.agent)  # by row
    if kind == "employer":
        return list(model.employers)
    if kind == "politician":
        return politicians(model)
    raise ValueError(f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}")


def available_kinds(model) -> list[str]:
    """Kinds with at least one agent in this model (politicians only with the politics module)."""
    return [k for k in KINDS if candidates(model, k)]


def snapshot(kind: str, agent, quarter: int) -> dict[str, Any]:
    """What the inspector shows about `agent` at `quarter` (dollars in US dollars, shares of 1)."""
    out: dict[str, Any] = {"quarter": quarter}
    if kind == "participant":
        if agent.row is None:
            return {**out, "retired": True, "left quarter": agent.left_quarter}
        balance = agent.balance
        crypto = agent.crypto_active + agent.crypto_default
        out.update(
            {
                "age": round(agent.age, 1),
                "employer": agent.employer,
                "state": agent.state,
                "salary ($/yr)": round(agent.salary),
                "balance ($)": round(balance),
                "crypto ($)": round(crypto),
                "crypto share of balance": crypto / balance if balance > 0 else 0.0,
                "chosen allocation": agent.alloc,
                "peer share": agent.peer_share,
                "affinity": agent.affinity,
                "loss aversion": agent.loss_aversion,
                "in default product": bool(agent.in_default),
                "district": agent.district,
            }
        )
    elif kind == "employer":
        out.update(
            {
                "offers crypto": float(agent.offers_crypto),
                "cap": agent.cap,
                "offered since": agent.offered_since,
                "segment": ("small", "mid", "large")[agent.segment],
                "caution": agent.caution,
                "auto-enrol": agent.auto_enrol,
                "peer offer share": agent.peer_offer_share(),
                "perceived litigation": agent.perceived_litigation(),
                "offer score (log-odds)": agent.offer_score(),
                "last sued": agent.sued_quarter,
                "peers": len(agent.peers),
            }
        )
    else:
        out["member"] = member_label(agent)
        out["member id"] = agent.unique_id
        for name, value in sorted(vars(agent).items()):
            if (
                not name.startswith("_")
                and name not in ("model", "pos", "cell", "party")
                and (value is None or isinstance(value, (bool, int, float, str)))
            ):
                out[name] = value
        out["stance"] = float(getattr(agent, "stance", 0.0))
        out["pro crypto"] = is_pro_crypto(agent)
    return out


class Follower:
    """Follows one agent of one kind and keeps its snapshot for every quarter since it was chosen."""

    def __init__(self, model, kind: str, index: int):
        pool = candidates(model, kind)
        if not 0 <= index < len(pool):
            raise ValueError(f"{kind} index {index} is out of range; allowed: 0 to {len(pool) - 1}")
        self.model = model
        self.kind = kind
        self.index = index
        self.agent = pool[index]
        self.history: list[dict[str, Any]] = []
        self.record(model.quarter)

    def record(self, quarter: int) -> None:
        """Add this quarter's snapshot (called by the page model after each step)."""
        if self.kind == "politician":
            self.agent = candidates(self.model, self.kind)[self.index]  # the seat's current member
        self.history.append(snapshot(self.kind, self.agent, quarter))

    @property
    def label(self) -> str:
        """How the page names the followed agent."""
        if isinstance(self.agent, Participant):
            return f"participant {self.index} (agent id {self.agent.unique_id})"
        return f"{self.kind} {self.index}"

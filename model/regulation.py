"""The DOL rule: its status and the regulatory clarity employers read.

The status follows a scheduled timeline (proposed, then final) unless politics sets it: once
`set_status` has been called (a hostile administration rescinds, a protection law codifies the
safe harbour), the schedule no longer applies.

The schedule: proposed in `rule_proposed_quarter`, final in `rule_final_quarter`, or, when
`rule_final_spread` is above 0, in a quarter drawn uniformly from there to `spread` quarters
later (the regulation stream). An observed history (model/history.py) replaces what it records:
the quarter of its proposal, and of its final rule if there is one; without a final rule the
final quarter is no earlier than the quarter after the history's `as_of` date.
"""

from __future__ import annotations

from model.calendar import quarter_of

STATUSES = ("order_only", "proposed", "final", "rescinded", "codified")


class RuleTimeline:
    """Where the DOL rule stands in a quarter, and how clear the rules are (0-1)."""

    def __init__(self, params: dict, rng=None, history=None):
        self.proposed_q = params["rule_proposed_quarter"]
        self.final_q = params["rule_final_quarter"]
        spread = params["rule_final_spread"]
        if history is not None:
            proposed, final = history.event("rule_proposed"), history.event("rule_final")
            if proposed is not None:
                self.proposed_q = quarter_of(proposed.date)
            if final is not None:
                self.final_q, spread = quarter_of(final.date), 0
            elif self.final_q >= 0:
                self.final_q = max(self.final_q, quarter_of(history.as_of) + 1)
        if spread > 0 and self.final_q >= 0:
            self.final_q += int(rng.integers(0, spread + 1))
        self._clarity = {
            "order_only": params["clarity_order_only"],
            "proposed": params["clarity_proposed"],
            "final": params["clarity_final"],
            "rescinded": params["clarity_rescinded"],
            "codified": params["clarity_final"],
        }
        self.status = "order_only"
        self.overridden = False
        self.history: list[tuple[int, str, str]] = []
        self.update(0)

    def update(self, quarter: int) -> None:
        """Advance the scheduled timeline to `quarter` (no effect once politics has taken over)."""
        if self.overridden:
            return
        status = "order_only"
        if 0 <= self.proposed_q <= quarter:
            status = "proposed"
        if 0 <= self.final_q <= quarter:
            status = "final"
        if status != self.status:
            self.history.append((quarter, status, "schedule"))
        self.status = status

    def set_status(self, status: str, quarter: int, reason: str) -> None:
        """Politics changes the rule (rescission, codification); the schedule stops applying."""
        if status not in STATUSES:
            raise ValueError(f"unknown rule status {status!r}; allowed: {', '.join(STATUSES)}")
        self.overridden = True
        if status != self.status:
            self.history.append((quarter, status, reason))
        self.status = status

    @property
    def clarity(self) -> float:
        """Regulatory clarity (safe-harbour certainty) employers and participants perceive, 0-1."""
        return self._clarity[self.status]

    @property
    def permits_new_offers(self) -> bool:
        """Whether plans may add a crypto option (not after a rescission)."""
        return self.status != "rescinded"

"""The DOL rule: its status and the regulatory clarity employers read.

The status follows a scheduled timeline (proposed, then final) unless politics sets it: once
`set_status` has been called (a hostile administration rescinds, a protection law codifies the
safe harbour), the schedule no longer applies.
"""

from __future__ import annotations

STATUSES = ("order_only", "proposed", "final", "rescinded", "codified")


class RuleTimeline:
    """Where the DOL rule stands in a quarter, and how clear the rules are (0-1)."""

    def __init__(self, params: dict):
        self.proposed_q = params["rule_proposed_quarter"]
        self.final_q = params["rule_final_quarter"]
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

"""The observed history as data: the crypto price since the order and the DOL rule's events.

A history file is TOML (the shipped one is model/history/observed.toml)::

    [history]
    as_of = "2026-08-21"                  # the last date its sources cover
    description = "..."

    [[event]]                             # in time order
    date = "2026-03-31"
    kind = "rule_proposed"                # read by the model: rule_proposed, rule_final
    what = "..."                          # other kinds (order, note) are for readers
    source = "..."

    [[price]]                             # in time order, from the order on (a price path)
    date = "2025-08-10"
    price = 119249.0
    source = "..."

Every event and price names its source. The prices are a price path (model/price_path.py: the
exogenous market replays them, then draws); the events set the rule timeline: the quarter of
`rule_proposed` replaces `rule_proposed_quarter`, that of `rule_final` fixes
`rule_final_quarter`; while no final rule is recorded, the final rule cannot come before the
quarter after `as_of` (the model draws its quarter: `rule_final_spread`). Errors name the file,
the table and the key, in one line, before any work.
"""

from __future__ import annotations

import io
import re
import tomllib
from dataclasses import dataclass
from datetime import date

from model import inputs
from model import price_path as prices
from model.errors import InputError

EVENT_KINDS = ("order", "rule_proposed", "rule_final", "note")


@dataclass(frozen=True)
class Event:
    """One dated event of the observed history."""

    date: date
    kind: str
    what: str
    source: str


@dataclass(frozen=True)
class History:
    """A validated observed history."""

    as_of: date
    description: str
    events: tuple[Event, ...]
    prices: prices.PricePath

    def event(self, kind: str) -> Event | None:
        """The first event of `kind`, or None."""
        return next((e for e in self.events if e.kind == kind), None)


def _date(value, where: str, name: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{value!r} is not a date", source=name, key=where, allowed="a date as YYYY-MM-DD")


def _text(table: dict, key: str, where: str, name: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError("missing or empty", source=name, key=f"{where}.{key}", allowed="a quoted text")
    return value.strip()


def parse(content: bytes, name: str) -> History:
    """The history in a TOML file's bytes, or an InputError naming the file, the table and the key."""
    try:
        doc = tomllib.load(io.BytesIO(content))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", source=name) from None
    unknown = set(doc) - {"history", "event", "price"}
    if unknown:
        raise InputError(
            f"unknown section {sorted(unknown)[0]!r}",
            source=name,
            allowed="[history], [[event]] and [[price]]",
        )
    head = doc.get("history")
    if not isinstance(head, dict):
        raise InputError(
            "no [history] section", source=name, allowed="a [history] table with as_of and description"
        )
    as_of = _date(head.get("as_of"), "history.as_of", name)
    events = []
    for i, table in enumerate(doc.get("event", []), start=1):
        where = f"event[{i}]"
        when = _date(table.get("date"), f"{where}.date", name)
        kind = _text(table, "kind", where, name)
        if kind not in EVENT_KINDS:
            raise InputError(
                f"unknown kind {kind!r}", source=name, key=f"{where}.kind", allowed=", ".join(EVENT_KINDS)
            )
        if events and when < events[-1].date:
            raise InputError(
                f"{when} comes before the event before",
                source=name,
                key=f"{where}.date",
                allowed="events in time order",
            )
        if when > as_of:
            raise InputError(
                f"{when} is after as_of ({as_of})",
                source=name,
                key=f"{where}.date",
                allowed=f"dates up to {as_of}",
            )
        events.append(
            Event(when, kind, _text(table, "what", where, name), _text(table, "source", where, name))
        )
    rows = doc.get("price", [])
    lines = ["date,price"]
    for i, table in enumerate(rows, start=1):
        where = f"price[{i}]"
        _text(table, "source", where, name)  # every price names its source
        when = _date(table.get("date"), f"{where}.date", name)
        if when > as_of:
            raise InputError(
                f"{when} is after as_of ({as_of})",
                source=name,
                key=f"{where}.date",
                allowed=f"dates up to {as_of}",
            )
        value = table.get("price")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(
                f"{value!r} is not a number", source=name, key=f"{where}.price", allowed="a positive number"
            )
        lines.append(f"{when.isoformat()},{float(value)!r}")
    try:
        path = prices.parse("\n".join(lines).encode(), name)
    except InputError as exc:  # the price parser counts CSV rows: row k is [[price]] number k - 1
        found = re.match(r"row (\d+): (.*)", exc.problem)
        key, problem = (f"price[{int(found[1]) - 1}]", found[2]) if found else ("price", exc.problem)
        raise InputError(problem, source=name, key=key, allowed=exc.allowed) from None
    return History(as_of, str(head.get("description", "")).strip(), tuple(events), path)


inputs.register(
    inputs.Role(
        "history",
        "an observed history: crypto prices and the DOL rule's events with their sources (TOML)",
        parse=parse,
        scenario_key=True,
    )
)

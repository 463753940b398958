"""Data collection: Mesa's DataCollector over the quarter's output row, and agents on request.

The step builds each quarter's output row once (model/record.py, model/outputs.py); the
collector keeps one model reporter per output (picklable, Mesa's API: `get_model_vars_dataframe`,
`model_vars`) and appends the row's values as they are: every output is a number or a string,
so the copy Mesa makes of each reporter's result is not needed. Model reporters a user adds and
agent reporters are collected as Mesa collects them.

Agent-level data costs nothing until a user asks for it (`Crypto401kModel.collect_agents`):
agent-type reporters of a row agent (participant, employer, member of Congress) are then
recorded for a fixed sample of its rows every few quarters (`AgentSample`), into Mesa's own
agent-type records, so `get_agenttype_vars_dataframe(Participant)` reads them. Mesa would walk
every agent of the type each quarter (100,000 participants' handles made and read); a sample
reads only its rows, and only in the quarters it is due. Recording only reads: the outputs are
the same with or without it.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from functools import partial
from typing import Any

import mesa
import numpy as np

from model.outputs import read

# What `collect_agents` records when the user names no reporters (attributes of the agent
# classes; `ident` tells apart the successive occupants of a row).
DEFAULT_AGENT_REPORTERS: dict[str, tuple[str, ...]] = {
    "Participant": (
        "ident",
        "age",
        "salary",
        "balance",
        "crypto_active",
        "crypto_default",
        "alloc",
        "in_default",
        "balance_ratio",
    ),
    "Employer": ("segment", "plan_participants", "offers_crypto", "cap", "educating"),
    "Politician": ("ident", "chamber", "party", "seat", "stance", "shadow", "concern", "pro_crypto"),
}
_IMMUTABLE = (str, int, bool, float, tuple)  # values Mesa records without a copy


@dataclass(frozen=True)
class AgentSample:
    """The rows of one row-agent type whose agents are recorded, and how often.

    rows: the rows followed, increasing (each record reads the row's occupant at that quarter).
    every: a record at every quarter divisible by `every` (quarter 0 included).
    agent: the model's accessor of a row's agent (e.g. `model.participant`).
    """

    rows: np.ndarray
    every: int
    agent: Callable[[int], mesa.Agent]


class OutputCollector(mesa.DataCollector):
    """Mesa's DataCollector, reading each quarter's output row as the step left it."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.samples: dict[type, AgentSample] = {}

    def follow(self, agent_type: type, reporters: dict[str, Any], sample: AgentSample) -> None:
        """Record `reporters` (Mesa agent reporters: attribute names, functions of an agent, or
        [function, [args]]) for the agents of `sample` from now on."""
        for name, reporter in reporters.items():
            self._new_agenttype_reporter(agent_type, name, reporter)
        self.samples[agent_type] = sample

    def collect(self, model):
        row = model.record.row
        mine = {n: r for n, r in self.model_reporters.items() if n not in row}
        for name, values in self.model_vars.items():
            if name in row:
                values.append(row[name])
        by_mesa = {t: r for t, r in self.agenttype_reporters.items() if t not in self.samples}
        if not mine and hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)  # Mesa notes the step with the model reporters
        if mine or self.agent_reporters or by_mesa:
            outputs, types = self.model_reporters, self.agenttype_reporters
            self.model_reporters, self.agenttype_reporters = mine, by_mesa
            try:
                super().collect(model)
            finally:
                self.model_reporters, self.agenttype_reporters = outputs, types
        for agent_type, sample in self.samples.items():
            if model.quarter % sample.every == 0:
                self.record_sample(model, agent_type)

    def record_sample(self, model, agent_type: type) -> None:
        """This quarter's record of the sampled agents of `agent_type`, in Mesa's format: per
        agent (time, unique_id, value of each reporter), under Mesa's time of the quarter."""
        sample = self.samples[agent_type]
        reporters = list(self.agenttype_reporters[agent_type].values())
        records = []
        for r in sample.rows.tolist():
            agent = sample.agent(r)
            values = [rep(agent) for rep in reporters]
            records.append(
                (
                    model.time,
                    agent.unique_id,
                    *(v if isinstance(v, _IMMUTABLE) else deepcopy(v) for v in values),
                )
            )
        self._agenttype_records.setdefault(model.time, {})[agent_type] = records


def make_datacollector(names: list[str]) -> OutputCollector:
    """A collector with one model reporter per output name."""
    return OutputCollector(model_reporters={n: partial(read, name=n) for n in names})

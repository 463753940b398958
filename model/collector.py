"""Data collection: Mesa's DataCollector over the quarter's output row.

The step builds each quarter's output row once (model/record.py, model/outputs.py); the
collector keeps one model reporter per output (picklable, Mesa's API: `get_model_vars_dataframe`,
`model_vars`) and appends the row's values as they are: every output is a number or a string,
so the copy Mesa makes of each reporter's result is not needed. Model reporters a user adds and
agent reporters are collected as Mesa collects them.
"""

from __future__ import annotations

from functools import partial

import mesa

from model.outputs import read


class OutputCollector(mesa.DataCollector):
    """Mesa's DataCollector, reading each quarter's output row as the step left it."""

    def collect(self, model):
        row = model.record.row
        mine = {n: r for n, r in self.model_reporters.items() if n not in row}
        for name, values in self.model_vars.items():
            if name in row:
                values.append(row[name])
        if mine or self.agent_reporters or self.agenttype_reporters:
            outputs, self.model_reporters = self.model_reporters, mine
            try:
                super().collect(model)
            finally:
                self.model_reporters = outputs
        elif hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)


def make_datacollector(names: list[str]) -> OutputCollector:
    """A collector with one model reporter per output name."""
    return OutputCollector(model_reporters={n: partial(read, name=n) for n in names})

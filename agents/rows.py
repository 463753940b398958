"""Mesa agents that are handles on one row of a columnar table, made when first asked for.

Agent types with many members (participants, employers, members of Congress) keep their state
in a table of numpy columns, one row per agent, and decide in one vectorised pass. The Mesa agent
of a row is a thin handle whose attributes read and write that row (`Column`), so a Mesa user
inspects, follows and steps agents as usual while the model never pays for Python objects it does
not need: handles are made, and registered with Mesa, only when something reads Mesa's registry
(`model.agents`, `model.agents_by_type`, `model.agent_types`: the model syncs the handles first)
or asks for one agent (`Handles.get`). mesa-frames keeps agents as rows in the same spirit.

A row's occupant can change (a participant retires and a new worker takes the row, a member of
Congress loses a seat): each table has an `ident` column, the stable number of the row's current
occupant. A handle knows the ident it was made for; once the occupant has left, reading it raises
AttributeError naming the quarter it left, and at the next sync it is removed from Mesa's
registry. Tables log departures (`Departures`) so that quarter is known.

What a Mesa user gives up: a handle's `unique_id` is Mesa's registration number, given when the
handle is first made (so it depends on when the agent was first asked for); `ident` is the agent's
stable number within its type.
"""

from __future__ import annotations

from typing import ClassVar

import mesa
import numpy as np


class Departures:
    """Who left a table and when: one array of idents per quarter with departures."""

    def __init__(self) -> None:
        self._quarters: list[int] = []
        self._idents: list[np.ndarray] = []

    def add(self, quarter: int, idents: np.ndarray) -> None:
        """Remember that the occupants `idents` left in `quarter`."""
        if len(idents):
            self._quarters.append(quarter)
            self._idents.append(np.asarray(idents, np.int64).copy())

    def quarter_left(self, idents: np.ndarray) -> np.ndarray:
        """The quarter each of `idents` left (-1 for an ident that has not left)."""
        idents = np.asarray(idents, np.int64)
        if not self._idents:
            return np.full(len(idents), -1, np.int64)
        gone = np.concatenate(self._idents)
        when = np.repeat(self._quarters, [len(a) for a in self._idents])
        order = np.argsort(gone, kind="stable")
        gone, when = gone[order], when[order]
        pos = np.minimum(np.searchsorted(gone, idents), len(gone) - 1)
        return np.where(gone[pos] == idents, when[pos], -1)


class Column:
    """An attribute stored in the table column of the same name, at the handle's row."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        value = getattr(agent.table, self.name)[agent.current_row()]
        return value.item() if isinstance(value, np.generic) else value

    def __set__(self, agent, value):
        getattr(agent.table, self.name)[agent.current_row()] = value


class RowAgent(mesa.Agent):
    """A Mesa agent that is a handle on its row of a columnar table (see the module docstring).

    Subclasses name the model attribute holding their table in `TABLE` and declare their columns
    as `Column()` class attributes.
    """

    TABLE: ClassVar[str]
    KIND: ClassVar[str] = "agent"  # how messages name one of them

    def __init__(self, model, row: int, ident: int):
        super().__init__(model)
        self._row: int | None = row
        self.ident = int(ident)
        self._left: int | None = None

    @property
    def table(self):
        """The columns this handle reads (the model's `TABLE` attribute)."""
        return getattr(self.model, self.TABLE)

    @property
    def present(self) -> bool:
        """Whether the occupant this handle was made for still holds its row."""
        return self._row is not None and int(self.table.ident[self._row]) == self.ident

    @property
    def row(self) -> int | None:
        """The row this agent occupies (None once it has left)."""
        return self._row if self.present else None

    @property
    def left_quarter(self) -> int | None:
        """The quarter this agent left its row (None while it holds it)."""
        if self.present:
            return None
        if self._left is None:
            self._left = int(self.table.departures.quarter_left([self.ident])[0])
        return self._left

    def current_row(self) -> int:
        """The row this agent occupies, or AttributeError once it has left."""
        if not self.present:
            raise AttributeError(
                f"{self.KIND} {self.ident} has left (quarter {self.left_quarter}); its row belongs to someone else"
            )
        return self._row

    def leave(self, quarter: int) -> None:
        """The occupant has left: the handle forgets its row and leaves Mesa's registry."""
        self._row = None
        self._left = quarter
        self.remove()


class Handles:
    """The registered handles of one row-agent type: which row has a handle, for which occupant."""

    def __init__(self, cls: type[RowAgent]):
        self.cls = cls
        self.by_row: list[RowAgent | None] = []
        self.ident = np.zeros(0, np.int64)  # the occupant each row's handle was made for (-1: none)

    def _fit(self, n: int) -> None:
        if len(self.by_row) < n:
            self.by_row.extend([None] * (n - len(self.by_row)))
            self.ident = np.concatenate([self.ident, np.full(n - len(self.ident), -1, np.int64)])

    def sync(self, model) -> None:
        """Give every row a handle for its current occupant; retire handles of occupants who left."""
        table = getattr(model, self.cls.TABLE, None)
        if table is None:
            return
        self._fit(len(table.ident))
        stale = np.flatnonzero(self.ident[: len(table.ident)] != table.ident)
        if not len(stale):
            return
        old = [self.by_row[r] for r in stale.tolist()]
        leaving = [h for h in old if h is not None]
        if leaving:
            when = table.departures.quarter_left([h.ident for h in leaving])
            for h, q in zip(leaving, when.tolist(), strict=True):
                h.leave(q)
        cls, idents = self.cls, table.ident[stale].tolist()
        for r, ident in zip(stale.tolist(), idents, strict=True):
            self.by_row[r] = cls(model, r, ident)
        self.ident[stale] = table.ident[stale]

    def get(self, model, row: int) -> RowAgent:
        """The handle of `row`'s current occupant (made and registered if it does not exist yet)."""
        table = getattr(model, self.cls.TABLE)
        n = len(table.ident)
        if not 0 <= row < n:
            raise IndexError(f"{self.cls.KIND} row {row} out of range (0 to {n - 1})")
        self._fit(n)
        handle = self.by_row[row]
        ident = int(table.ident[row])
        if handle is None or handle.ident != ident:
            if handle is not None:
                handle.leave(int(table.departures.quarter_left([handle.ident])[0]))
            handle = self.by_row[row] = self.cls(model, row, ident)
            self.ident[row] = ident
        return handle

"""One browser session's run: the model as the page builds it, stepped up to its horizon.

`PageModel` is the command line's model (`Crypto401kModel(scenario, rng=seed, **overrides)`)
built from `viz.settings.Settings`, plus what the page needs: the scenario's horizon (Step,
Play and Run to end stop there), a per-quarter record of districts, members and employers for
the inspector and the district map, one followed participant, and caches for the quarters
table, the network layout and the participant sample. A lock keeps one step at a time (the
Step button, Play and Run to end run in different threads).

`build` makes the model a page asks for, at the quarter it asks for (a reload or a shared link
rebuilds the run step by step: the same seed gives the same quarters), using a model built
ahead of time at the default settings when it can.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import numpy as np

from model.model import Crypto401kModel
from viz import charts
from viz.follow import Follower, Records
from viz.settings import Settings

_serial = itertools.count(1)


class PageModel(Crypto401kModel):
    """The model of one page run (never stepped past its scenario's horizon)."""

    def __init__(self, settings: Settings):
        super().__init__(settings.scenario, rng=settings.seed, **settings.model_kwargs())
        self.settings = settings
        self.serial = next(_serial)  # tells one run of the page from the next (the page shows it)
        self.horizon = settings.horizon
        self.lock = threading.RLock()
        self.records = Records()
        self.records.record(self)
        self.follower: Follower | None = None
        self.running = self.quarter < self.horizon
        self._listeners: list[Callable[[], None]] = []
        self._table = None
        self._layout: charts.NetworkLayout | None = None
        self._sample: np.ndarray | None = None
        self._house_seats: np.ndarray | None = None

    def step(self) -> None:
        """One quarter, unless the horizon is reached; then the records and the followed person."""
        with self.lock:
            if self.quarter >= self.horizon:
                self.running = False
                return
            super().step()
            self.records.record(self)
            if self.follower is not None:
                self.follower.record(self)
            self.running = self.quarter < self.horizon

    def follow(self, row: int) -> Follower:
        """Follow the participant in `row` from now on (kept while they stay selected)."""
        if self.follower is None or self.follower.row != row:
            self.follower = Follower(self, row)
        return self.follower

    # --- views read these, once per quarter however many views there are
    def table(self):
        """The quarters table so far (built once per quarter; waits for a step in progress)."""
        with self.lock:
            if self._table is None or self._table[0] != self.quarter:
                self._table = (self.quarter, self.quarters_table())
            return self._table[1]

    @property
    def network_layout(self) -> charts.NetworkLayout:
        """The drawn employers and their positions, computed once per model (on first view)."""
        if self._layout is None:
            self._layout = charts.network_layout(self.employer_graph, self.settings.seed)
        return self._layout

    @property
    def participant_rows(self) -> np.ndarray:
        """The participants drawn on the scatter (a seeded sample of rows)."""
        if self._sample is None:
            self._sample = charts.participant_sample(self.population.n, self.settings.seed)
        return self._sample

    @property
    def house_seats(self) -> np.ndarray:
        """Hemicycle position of each House slot (fixed at quarter 0)."""
        if self._house_seats is None:
            self._house_seats = charts.house_seats(self.records.stance[0][:435])
        return self._house_seats

    # --- redraws after steps
    def add_view(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every redraw-worthy step; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def refresh_views(self) -> None:
        """Tell every view the model has moved."""
        for listener in list(self._listeners):
            listener()


# --- a model built ahead of time for the next page at the default settings
_spare: dict[Settings, PageModel] = {}
_spare_lock = threading.Lock()


def prepare(settings: Settings | None = None) -> None:
    """Build a model for `settings` (default: the page's) now, for the next page that asks.

    Building the default model takes about half a second; doing it while nobody waits (at
    server start, and after each page takes the spare) keeps it out of the first render.
    """
    s = Settings() if settings is None else settings
    m = PageModel(s)
    with _spare_lock:
        _spare.clear()  # one spare at a time (a model of the default size holds ~70 MB)
        _spare[s] = m


def new_model(settings: Settings, spare_wanted: bool = True) -> PageModel:
    """A fresh model for `settings`: the spare when it matches, else built now. Taking the
    spare starts building the next one unless `spare_wanted` is False (a full server)."""
    with _spare_lock:
        m = _spare.pop(settings, None)
    if m is None:
        m = PageModel(settings)
    if settings == Settings() and spare_wanted:
        thread = threading.Thread(target=prepare, daemon=True, name="crypto401k-spare-model")
        thread.current_context = None  # type: ignore[attr-defined]  (belongs to no page: viz/registry.py)
        thread.start()
    return m


def drop_spare() -> None:
    """Free the model built ahead (a full server wants its memory)."""
    with _spare_lock:
        _spare.clear()


def build(settings: Settings, quarter: int = 0, spare_wanted: bool = True) -> PageModel:
    """The model of `settings` stepped to `quarter` (at most its horizon), as Step would."""
    m = new_model(settings, spare_wanted)
    with m.lock:
        while m.quarter < min(quarter, m.horizon):
            m.step()
    return m

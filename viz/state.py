"""What the parts of one page share: its session (viz/registry.py) and its reactive state.

The page (viz/page.py) makes one `Ctx` per render and hands it to the sidebar (viz/sidebar.py)
and the views (viz/views.py). When the server releases the page's model (idle, or for another
page at the cap), `notice` says why first (the page then shows only the notice, so no part of
it reads the model), and the model becomes None; the notice offers to restore the run from
the page's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import solara

from viz.follow import interesting_participant
from viz.registry import Session


@dataclass(frozen=True)
class Ctx:
    """The session's state, handed to every part of the page."""

    session: Session
    model: solara.Reactive  # viz.session.PageModel, or None once released
    version: solara.Reactive  # bumped after steps: monitors and text re-render
    playing: solara.Reactive  # "", "play" or "end"
    pending: solara.Reactive  # Settings for the next Reset (valid values only)
    refused: solara.Reactive  # {box: message} for every box holding a refused value
    selection: solara.Reactive  # (kind, index) in the inspector
    comparison: solara.Reactive  # viz.ensemble.Comparison | None
    progress: solara.Reactive  # (status, done, total, runs ahead, pages ahead) of the running job
    tab: solara.Reactive  # index into viz.views.TABS
    notice: solara.Reactive  # why the page has no run ("" while it has one)

    def redraw(self, m) -> None:
        """Tell the views the model moved (charts redraw, text re-renders)."""
        self.session.touch()
        m.refresh_views()
        self.version.value += 1

    def fans(self) -> Any:
        """The comparison to draw on the charts: finished, its arm A the running settings (any seed)."""
        c = self.comparison.value
        m = self.model.value
        if c is not None and m is not None and c.finished and c.arms[0].settings.same_except_seed(m.settings):
            return c
        return None

    def select(self, kind: str, index: int | None) -> None:
        if index is not None:
            self.selection.value = (kind, int(index))

    def refuse(self, box: str, message: str | None) -> None:
        """Record that `box` holds a refused value (message) or no longer does (None)."""
        now = dict(self.refused.value)
        if message:
            now[box] = message
        else:
            now.pop(box, None)
        if now != self.refused.value:
            self.refused.value = now


def default_selection(m) -> tuple[str, int]:
    return ("participant", interesting_participant(m))

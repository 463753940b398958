"""Mesa's conventional entry file: `solara run app.py` (or `crypto401k viz`) serves the page.

The page itself lives in the `viz` package (viz/page.py: controls, views and the per-session
model; viz/charts.py: the chart options; viz/follow.py: the agent inspector).
"""

from viz.page import Page

__all__ = ["Page"]

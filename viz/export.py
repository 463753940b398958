"""What the page saves besides its charts (which save themselves, viz/chart.vue): the run's files
exactly as `crypto401k run` writes them for the quarters so far (quarters.csv, summary.json,
dashboard.png), the page's settings as a scenario file (viz/sharing.py) and a comparison's
per-seed outputs (viz/ensemble.py).

summary.json comes from the command line's own writer (experiments.single_run.write_outputs);
the dashboard is drawn by the command line's helper process, so matplotlib neither loads into
the server nor holds its interpreter lock while other pages step.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from experiments.reports.dashboard import DashboardProcess
from experiments.single_run import describe, write_outputs


def quarters_csv(m) -> str:
    """The run's quarters.csv so far, exactly as `crypto401k run` writes it."""
    with m.lock:
        return m.table().to_csv(index=False)


def summary_json(m) -> bytes:
    """The run's summary.json so far, as `crypto401k run` writes it for the same quarters."""
    with tempfile.TemporaryDirectory(prefix="crypto401k-page-") as tmp, m.lock:
        write_outputs(Path(tmp), m, m.table(), dashboard=False, inputs=m.spec.inputs)
        return (Path(tmp) / "summary.json").read_bytes()


def dashboard_png(m) -> bytes:
    """The run's dashboard.png so far, as `crypto401k run` draws it (in a helper process)."""
    with m.lock:
        table = m.table().copy()
        title, subtitle = m.scenario_name, describe(m, m.quarter)
    with tempfile.TemporaryDirectory(prefix="crypto401k-page-") as tmp, DashboardProcess() as drawer:
        path = Path(tmp) / "dashboard.png"
        drawer.submit(table, path, title, subtitle)
        drawer.finish()
        return path.read_bytes()

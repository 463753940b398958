"""`crypto401k docs`: regenerate the generated tables in docs/ODD.md and README.md."""

from __future__ import annotations

from cli.console import say


def docs() -> None:
    """Regenerate the parameter tables in docs/ODD.md and the outputs table in README.md."""
    from experiments.reports.odd_tables import ODD_PATH, README_PATH, write

    changed = write()
    say(f"{'updated' if changed else 'already up to date:'} {ODD_PATH}, {README_PATH}")

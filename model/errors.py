"""The one error type for bad user input (parameters, scenario, experiment and target files).

Every message names where the problem is (file and key), what is wrong, and what is allowed,
so the command line can print it as one line and exit with status 2 without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class InputError(ValueError):
    """Bad input from a user: a parameter, a scenario file, an experiment or target file."""

    def __init__(
        self, message: str, *, source: str | None = None, key: str | None = None, allowed: str | None = None
    ):
        self.source = source
        self.key = key
        self.allowed = allowed
        self.problem = message
        parts = []
        if source:
            parts.append(f"{source}:")
        if key:
            parts.append(f"'{key}':")
        parts.append(message)
        text = " ".join(parts)
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)

    def with_source(self, source: str) -> InputError:
        """The same error, attributed to a file (used when a check runs on a file's content)."""
        if self.source:
            return self
        return InputError(self.problem, source=source, key=self.key, allowed=self.allowed)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' hint for a misspelt name, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""

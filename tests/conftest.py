"""Shared test configuration: the Hypothesis profiles.

* "ci" (the default): few draws, derandomized, so `uv run pytest` is quick and repeatable.
* "long": at least 1,000 draws per property, for an overnight-style check
  (`HYPOTHESIS_PROFILE=long uv run pytest tests/test_properties.py --timeout=0`; pytest-timeout
  would otherwise stop it after 600 s).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile("ci", max_examples=25, derandomize=True, database=None, **_COMMON)
settings.register_profile("long", max_examples=1000, derandomize=False, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

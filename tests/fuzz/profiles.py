"""Hypothesis settings of the fuzz tests, by profile: ``FLOWAPP_FUZZ=ci`` (the default:
60 examples a test, about a minute for the whole folder on a loaded machine), ``dev``
(quick), ``deep`` (5,000 a test, for a long hunt). Examples are generated afresh each run,
so CI keeps exploring; a failure prints the example to replay it."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # a loaded CI machine makes timings meaningless; limits bound the work
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}
settings.register_profile("dev", max_examples=30, **_COMMON)
settings.register_profile("ci", max_examples=60, **_COMMON)
settings.register_profile("deep", max_examples=5000, **_COMMON)

FUZZ = settings.get_profile(os.environ.get("FLOWAPP_FUZZ", "ci"))
"""Use as a decorator: ``@FUZZ`` under ``@given``."""

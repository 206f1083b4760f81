"""Debian's Prometheus tools for the tests: found on PATH, required in CI."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.servers import unavailable

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "deploy" / "prometheus" / "flowapp-rules.yaml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "tests" / "flowapp-rules.test.yaml"


def tool(name: str) -> str:
    """The path of ``name``; skips the test without it, except in CI (.ci/run installs it)."""
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed (apt-get install prometheus prometheus-alertmanager)")
    return found

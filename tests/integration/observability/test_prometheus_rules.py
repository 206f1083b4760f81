"""The Prometheus rules in deploy/prometheus: valid, and behaving as their unit tests say
(``promtool test rules`` with fixture series, including cases that must not fire)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.integration.observability.prometheus_tools import RULE_TESTS, RULES, tool


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_the_rules_are_valid_and_pass_their_unit_tests() -> None:
    checked = promtool("check", "rules", str(RULES), cwd=RULES.parent)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_the_unit_tests_catch_a_rule_that_no_longer_fires(tmp_path: Path) -> None:
    """The same tests against a copy whose error-rate threshold was raised must fail."""
    (tmp_path / "tests").mkdir()
    shutil.copy(RULE_TESTS, tmp_path / "tests" / RULE_TESTS.name)
    rules = RULES.read_text()
    assert "ratio_rate5m > 0.05" in rules
    (tmp_path / RULES.name).write_text(rules.replace("ratio_rate5m > 0.05", "ratio_rate5m > 0.5"))
    tested = promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path / "tests")
    assert tested.returncode != 0
    assert "FlowappFunctionErrorRateHigh" in tested.stdout + tested.stderr

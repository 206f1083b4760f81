"""Every metric and label named by a dashboard panel, a dashboard variable or a rule is
one a live `flowapp up` exports, once it has run executions (completed and faulted),
function calls, webhook and cron events and timers."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.observability.shop import SHOP, run_traffic, scrape, wait_for
from tests.e2e.platform_process import flowapp_up
from tests.integration.observability.prometheus_tools import ROOT, RULES
from tests.integration.observability.promql_names import (
    check,
    dashboard_queries,
    exported_names,
    rule_queries,
)

DASHBOARDS = sorted((ROOT / "deploy" / "grafana").glob("*.json"))


def test_every_panel_and_rule_names_what_flowapp_up_exports(tmp_path: Path) -> None:
    with flowapp_up(tmp_path / "data", "--app", str(SHOP)) as platform:
        run_traffic(platform)
        # The cron trigger's events carry their fire time: its lag is measured too.
        wait_for(
            lambda: "flowapp_trigger_lag_seconds_count" in scrape(platform),
            what="a cron event",
        )
        exported = exported_names(scrape(platform))

    alerts, recorded = rule_queries(RULES)
    queries = [query for path in DASHBOARDS for query in dashboard_queries(path)]
    assert len(DASHBOARDS) == 2 and len(queries) > 30
    problems = [
        problem
        for query in [*queries, *alerts, *recorded.values()]
        for problem in check(query, exported, recorded)
    ]
    assert problems == [], "\n".join(problems)

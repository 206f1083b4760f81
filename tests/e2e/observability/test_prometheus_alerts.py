"""A real Prometheus scrapes a real `flowapp up` with its token and evaluates flowapp's
rules; failing executions make FlowappExecutionsFailing go pending, then firing, and a
real Alertmanager delivers it to a webhook receiver. The platform's own health alerts
must not fire meanwhile."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.observability.shop import SHOP, invoke
from tests.e2e.observability.stack import (
    alertmanager,
    alerts,
    prometheus,
    query,
    shortened_rules,
    wait_until,
    webhook_receiver,
)
from tests.e2e.platform_process import flowapp_up

FAILING = "FlowappExecutionsFailing"
HEALTH = {"FlowappEngineDown", "FlowappEngineAbsent", "FlowappTriggerDisconnected"}


def states(url: str, name: str) -> set[str]:
    return {a["state"] for a in alerts(url) if a["labels"]["alertname"] == name}


def test_failing_executions_fire_an_alert_that_alertmanager_delivers(tmp_path: Path) -> None:
    rules = shortened_rules(tmp_path, "4s")
    with (
        flowapp_up(tmp_path / "data", "--app", str(SHOP)) as platform,
        webhook_receiver() as (receiver_url, received),
        alertmanager(tmp_path / "alertmanager", receiver_url) as alertmanager_url,
        prometheus(
            tmp_path / "prometheus",
            target=platform.url.removeprefix("http://"),
            token=platform.token,
            rules=rules,
            alertmanager_url=alertmanager_url,
        ) as prometheus_url,
        platform.client() as api,
    ):
        up = 'up{job="flowapp"}'
        wait_until(
            lambda: [r for r in query(prometheus_url, up) if r["value"][1] == "1"],
            timeout=20,
            what="flowapp scraped with its token",
        )
        assert invoke(api, 1).status_code == 200
        faulted = 'flowapp_executions_finished_total{app="shop",status="faulted"}'
        wait_until(lambda: query(prometheus_url, faulted), timeout=20, what="the faulted series")
        assert states(prometheus_url, FAILING) == set()  # nothing failed yet

        for _ in range(2):
            assert invoke(api, -1).status_code == 502
        wait_until(
            lambda: "pending" in states(prometheus_url, FAILING),
            timeout=20,
            what=f"{FAILING} pending",
        )
        wait_until(
            lambda: "firing" in states(prometheus_url, FAILING),
            timeout=20,
            what=f"{FAILING} firing",
        )

        def delivered() -> list[dict[str, object]]:
            return [
                alert
                for alert in received.alerts()
                if alert["labels"]["alertname"] == FAILING and alert["status"] == "firing"
            ]

        alert = wait_until(delivered, timeout=20, what="the webhook notification")[0]
        assert alert["labels"]["app"] == "shop"
        assert alert["labels"]["severity"] == "warning"
        assert alert["annotations"]["summary"] == "shop: executions are failing"
        assert "executions of app shop faulted" in alert["annotations"]["description"]
        active = {a["labels"]["alertname"] for a in alerts(prometheus_url)}
        assert not active & HEALTH, active

"""One app: its calls and executions the way the original platform showed each node.

QPS, error rate by status class, latency p50/p95/p99 per function and per task
reference, cold starts, instances and restarts; ``$app`` picks the app, ``$revision``
and ``$function`` narrow it down (a canary revision next to the serving one, say).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as board

from deploy.grafana.panels import (
    RATE,
    Panels,
    Query,
    datasource_variable,
    label_variable,
    quantiles,
)

UID = "flowapp-app"
CALLS = '{app="$app", revision=~"$revision", function=~"$function"}'
RUNS = '{app="$app", revision=~"$revision"}'


def app() -> board.Dashboard:
    panels = Panels()
    dashboard = (
        board.Dashboard("flowapp / App")
        .uid(UID)
        .description("One app's functions, tasks and executions, by revision.")
        .tags(["flowapp"])
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("browser")
        .with_variable(datasource_variable())
        .with_variable(
            label_variable(
                "app",
                "label_values(flowapp_executions_started_total, app)",
                label="App",
                multi=False,
            )
        )
        .with_variable(
            label_variable(
                "revision",
                'label_values(flowapp_executions_started_total{app="$app"}, revision)',
                label="Revision",
            )
        )
        .with_variable(
            label_variable(
                "function",
                'label_values(flowapp_function_instances{app="$app"}, function)',
                label="Function",
            )
        )
    )
    dashboard = dashboard.with_row(panels.row("Calls"))
    for panel in (
        panels.graph(
            "Calls per second, by function",
            [
                Query(
                    f"sum by (function) (rate(flowapp_function_requests_total{CALLS}[{RATE}]))",
                    "{{function}}",
                ),
            ],
            unit="reqps",
        ),
        panels.graph(
            "Error rate by status class",
            [
                Query(
                    "sum by (code) "
                    f'(rate(flowapp_function_requests_total{CALLS[:-1]}, code!="2xx"}}[{RATE}]))'
                    " / ignoring (code) group_left "
                    f"sum(rate(flowapp_function_requests_total{CALLS}[{RATE}]))",
                    "{{code}}",
                )
            ],
            description="Calls that were not 2xx over all calls: 4xx, 5xx, timeout, "
            "unavailable, malformed.",
            unit="percentunit",
            stacked=True,
        ),
        panels.graph(
            "Call latency per function",
            quantiles(
                "flowapp_function_request_duration_seconds",
                CALLS,
                "function",
                legend="{{function}}",
            ),
            description="Queueing and cold starts included.",
            unit="s",
            width=24,
        ),
    ):
        dashboard = dashboard.with_panel(panel)
    dashboard = dashboard.with_row(panels.row("Tasks and executions"))
    for panel in (
        panels.graph(
            "Task latency per task reference",
            quantiles("flowapp_task_duration_seconds", RUNS, "task", legend="{{task}}"),
            unit="s",
            width=24,
        ),
        panels.graph(
            "Task runs per second, by task and status",
            [
                Query(
                    f"sum by (task, status) (rate(flowapp_task_runs_total{RUNS}[{RATE}]))",
                    "{{task}} {{status}}",
                )
            ],
            unit="ops",
        ),
        panels.graph(
            "Executions per second, by status",
            [
                Query(
                    f"sum by (status) (rate(flowapp_executions_finished_total{RUNS}[{RATE}]))",
                    "{{status}}",
                ),
                Query(f"sum(rate(flowapp_executions_started_total{RUNS}[{RATE}]))", "started"),
            ],
            unit="ops",
        ),
    ):
        dashboard = dashboard.with_panel(panel)
    dashboard = dashboard.with_row(panels.row("Instances"))
    for panel in (
        panels.graph(
            "Instances, by function and revision",
            [
                Query(
                    f"sum by (function, revision) (flowapp_function_instances{CALLS})",
                    "{{function}} {{revision}}",
                ),
                Query(
                    f"sum by (function) (flowapp_function_requests_in_flight{CALLS})",
                    "in flight {{function}}",
                ),
            ],
            width=8,
        ),
        panels.graph(
            "Cold starts",
            [
                Query(
                    "sum by (function) "
                    f"(increase(flowapp_function_cold_starts_total{CALLS}[{RATE}]))",
                    "{{function}}",
                )
            ],
            description="Calls that found no ready instance and waited for one to start.",
            width=8,
        ),
        panels.graph(
            "Restarts",
            [
                Query(
                    f"sum by (function) (increase(flowapp_function_restarts_total{CALLS}[{RATE}]))",
                    "{{function}}",
                )
            ],
            description="Instances that crashed or failed to start.",
            width=8,
        ),
    ):
        dashboard = dashboard.with_panel(panel)
    return dashboard

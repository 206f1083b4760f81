"""The platform overview: executions of every app, the engine, triggers and dead letters.

One dashboard for whoever runs flowapp: is work coming in and finishing, is the engine
keeping up (steps, commits, the outbox, timers), are the triggers connected and
delivering on time.
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

UID = "flowapp-overview"
APPS = '{app=~"$app"}'


def overview() -> board.Dashboard:
    panels = Panels()
    dashboard = (
        board.Dashboard("flowapp / Platform overview")
        .uid(UID)
        .description("Executions of every app, the engine's steps and commits, triggers.")
        .tags(["flowapp"])
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("browser")
        .with_variable(datasource_variable())
        .with_variable(
            label_variable(
                "app", "label_values(flowapp_executions_started_total, app)", label="App"
            )
        )
    )
    dashboard = dashboard.with_row(panels.row("Executions"))
    for panel in (
        panels.graph(
            "Executions started per second, by app",
            [
                Query(
                    f"sum by (app) (rate(flowapp_executions_started_total{APPS}[{RATE}]))",
                    "{{app}}",
                )
            ],
            unit="ops",
        ),
        panels.graph(
            "Executions finished per second, by app and status",
            [
                Query(
                    f"sum by (app, status) (rate(flowapp_executions_finished_total{APPS}[{RATE}]))",
                    "{{app}} {{status}}",
                )
            ],
            unit="ops",
        ),
        panels.graph(
            "Active executions, by app",
            [Query(f"sum by (app) (flowapp_executions_active{APPS})", "{{app}}")],
            description="Executions held in memory by the engine processes: running or waiting.",
            stacked=True,
        ),
        panels.graph(
            "Execution duration",
            quantiles("flowapp_execution_duration_seconds", APPS, "app", legend="{{app}}"),
            unit="s",
        ),
    ):
        dashboard = dashboard.with_panel(panel)
    dashboard = dashboard.with_row(panels.row("Engine"))
    for panel in (
        panels.graph(
            "Engine steps per second",
            [
                Query(
                    f"sum by (instance) (rate(flowapp_engine_step_duration_seconds_count[{RATE}]))",
                    "{{instance}}",
                )
            ],
            description="A step: one turn of an execution, its signals decided and committed.",
            unit="ops",
        ),
        panels.graph(
            "Engine step latency",
            quantiles(
                "flowapp_engine_step_duration_seconds", "", "instance", legend="{{instance}}"
            ),
            unit="s",
        ),
        panels.graph(
            "Commit latency",
            quantiles(
                "flowapp_store_commit_duration_seconds", "", "instance", legend="{{instance}}"
            ),
            description="One group commit: a transaction holding the checkpoints of many steps.",
            unit="s",
        ),
        panels.graph(
            "Checkpoints per commit",
            [
                Query(
                    f"sum by (instance) (rate(flowapp_store_commit_checkpoints_sum[{RATE}])) / "
                    f"sum by (instance) (rate(flowapp_store_commit_checkpoints_count[{RATE}]))",
                    "{{instance}}",
                )
            ],
        ),
        panels.graph(
            "Outbox backlog",
            [Query("sum by (instance) (flowapp_engine_outbox_backlog)", "{{instance}}")],
            description="Emitted events and other fire-and-forget commands not yet carried out.",
        ),
        panels.graph(
            "Timers: armed, and how late they fire",
            [
                Query("sum by (instance) (flowapp_engine_timers)", "armed {{instance}}"),
                Query(
                    "histogram_quantile(0.95, sum by (instance, le) "
                    f"(rate(flowapp_engine_timer_lateness_seconds_bucket[{RATE}])))",
                    "late p95 {{instance}} (s)",
                ),
            ],
        ),
    ):
        dashboard = dashboard.with_panel(panel)
    dashboard = dashboard.with_row(panels.row("Triggers"))
    for panel in (
        panels.graph(
            "Trigger events per second",
            [
                Query(
                    f"sum by (app, trigger) (rate(flowapp_trigger_events_total{APPS}[{RATE}]))",
                    "{{app}}/{{trigger}}",
                )
            ],
            unit="ops",
        ),
        panels.graph(
            "Trigger lag p95",
            [
                Query(
                    "histogram_quantile(0.95, sum by (app, trigger, le) "
                    f"(rate(flowapp_trigger_lag_seconds_bucket{APPS}[{RATE}])))",
                    "{{app}}/{{trigger}}",
                )
            ],
            description="From an event's own time to its execution created.",
            unit="s",
        ),
        panels.graph(
            "Redeliveries and dead letters",
            [
                Query(
                    "sum by (app, trigger) "
                    f"(increase(flowapp_trigger_redeliveries_total{APPS}[{RATE}]))",
                    "redelivered {{app}}/{{trigger}}",
                ),
                Query(
                    "sum by (app, trigger) "
                    f"(increase(flowapp_trigger_dead_letters_total{APPS}[{RATE}]))",
                    "dead-lettered {{app}}/{{trigger}}",
                ),
            ],
        ),
        panels.graph(
            "Triggers connected",
            [
                Query(
                    f"max by (app, trigger) (flowapp_trigger_connected{APPS})",
                    "{{app}}/{{trigger}}",
                )
            ],
            description="1 while a trigger is connected and delivering.",
        ),
    ):
        dashboard = dashboard.with_panel(panel)
    return dashboard

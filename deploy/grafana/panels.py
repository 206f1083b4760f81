"""The few kinds of panels flowapp's dashboards are made of, built with the Grafana
Foundation SDK, all reading the Prometheus data source chosen in ``$datasource``.

Queries use Grafana's ``$__rate_interval`` for rates and the dashboards' variables in
label matchers only; ``tests/integration/observability`` checks every metric and label
they name against a live ``flowapp up``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import count

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as board
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


def datasource_variable() -> board.DatasourceVariable:
    return (
        board.DatasourceVariable("datasource")
        .label("Data source")
        .type("prometheus")
        .current(VariableOption(selected=True, text="Prometheus", value="prometheus"))
    )


def label_variable(name: str, query: str, *, label: str, multi: bool = True) -> board.QueryVariable:
    """A variable offering the values of a label, as ``label_values(selector, label)``."""
    variable = (
        board.QueryVariable(name)
        .label(label)
        .query(query)
        .datasource(DATASOURCE)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(multi)
    )
    return variable.all_value(".*") if multi else variable


class Panels:
    """Numbers panels in the order they are made (Grafana wants ids unique per dashboard)."""

    def __init__(self) -> None:
        self._ids: Iterator[int] = count(1)

    def graph(
        self,
        title: str,
        queries: Sequence[Query],
        *,
        unit: str = "short",
        description: str = "",
        width: int = 12,
        stacked: bool = False,
    ) -> timeseries.Panel:
        panel = (
            timeseries.Panel()
            .id(next(self._ids))
            .title(title)
            .description(description)
            .datasource(DATASOURCE)
            .unit(unit)
            .min(0)
            .height(8)
            .span(width)
            .fill_opacity(10)
            .legend(
                common_builders.VizLegendOptions()
                .display_mode(common.LegendDisplayMode.TABLE)
                .placement(common.LegendPlacement.BOTTOM)
                .show_legend(True)
                .calcs(["mean", "max", "lastNotNull"])
            )
        )
        if stacked:
            panel = panel.stacking(
                common_builders.StackingConfig().mode(common.StackingMode.NORMAL)
            )
        for ref, query in zip("ABCDEFGH", queries, strict=False):
            panel = panel.with_target(_target(query, ref))
        return panel

    def number(
        self,
        title: str,
        query: Query,
        *,
        unit: str = "short",
        description: str = "",
        width: int = 6,
    ) -> stat.Panel:
        return (
            stat.Panel()
            .id(next(self._ids))
            .title(title)
            .description(description)
            .datasource(DATASOURCE)
            .unit(unit)
            .height(4)
            .span(width)
            .with_target(_target(query, "A"))
        )

    def row(self, title: str) -> board.Row:
        return board.Row(title).id(next(self._ids))


def quantiles(metric: str, selector: str, by: str, *, legend: str) -> list[Query]:
    """p50, p95 and p99 of a histogram, per ``by``."""
    return [
        Query(
            f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}_bucket{selector}[{RATE}])))",
            f"{legend} p{round(q * 100)}",
        )
        for q in (0.5, 0.95, 0.99)
    ]


def _target(query: Query, ref: str) -> prometheus.Dataquery:
    return (
        prometheus.Dataquery()
        .expr(query.expr)
        .legend_format(query.legend or "__auto")
        .ref_id(ref)
        .datasource(DATASOURCE)
        .range()
    )

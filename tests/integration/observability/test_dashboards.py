"""The Grafana dashboards: the committed JSON is what the code makes (``make
dashboards`` after a change), and the name checker the live test relies on catches what
it must."""

from __future__ import annotations

from pathlib import Path

from deploy.grafana.__main__ import DASHBOARDS, main, render
from tests.integration.observability.promql_names import Query, check, exported_names

CALL = 'app="shop",revision="r1",function="charge"'
EXPOSITION = f"""\
# TYPE flowapp_function_requests_total counter
flowapp_function_requests_total{{{CALL},code="2xx"}} 3
# TYPE flowapp_function_request_duration_seconds histogram
flowapp_function_request_duration_seconds_bucket{{{CALL},le="+Inf"}} 3
flowapp_function_request_duration_seconds_count{{{CALL}}} 3
flowapp_function_request_duration_seconds_sum{{{CALL}}} 0.3
"""


def test_the_committed_dashboards_are_what_the_code_makes() -> None:
    assert main(["--check"]) == 0


def test_a_stale_or_missing_dashboard_is_reported(tmp_path: Path) -> None:
    names = list(DASHBOARDS)
    (tmp_path / names[0]).write_text(render(DASHBOARDS[names[0]]).replace("Calls", "Cals"))
    assert main(["--check", "--out", str(tmp_path)]) == 1  # one stale, one missing
    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--check", "--out", str(tmp_path)]) == 0


def test_the_checker_names_unknown_metrics_and_labels() -> None:
    exported = exported_names(EXPOSITION)
    recorded = {
        "shop:calls:rate5m": Query(
            "record", "sum by (app, function) (rate(flowapp_function_requests_total[5m]))"
        )
    }
    good = [
        'sum by (function) (rate(flowapp_function_requests_total{app="$app"}[$__rate_interval]))',
        "histogram_quantile(0.95, sum by (function, le) "
        "(rate(flowapp_function_request_duration_seconds_bucket[5m])))",
        'shop:calls:rate5m{app="shop"} > 1',
        'up{job="flowapp"} == 0',
    ]
    for expr in good:
        assert check(Query("good", expr), exported, recorded) == []

    def problems(expr: str, label: str | None = None) -> str:
        return "\n".join(check(Query("bad", expr, label=label), exported, recorded))

    assert "`flowapp_function_calls_total` is not exported" in problems(
        "rate(flowapp_function_calls_total[5m])"
    )
    assert "label `status` (matcher" in problems('flowapp_function_requests_total{status="x"}')
    assert "label `task` (sum by/without)" in problems(
        "sum by (task) (flowapp_function_requests_total)"
    )
    assert "label `revision` (sum by/without)" in problems("sum by (revision) (shop:calls:rate5m)")
    assert "label `code` (on/ignoring)" in problems(
        "shop:calls:rate5m / on (code) shop:calls:rate5m"
    )
    assert "label_values lists `task`" in problems(
        'flowapp_function_requests_total{app="$app"}', "task"
    )

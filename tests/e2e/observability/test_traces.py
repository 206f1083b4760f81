"""OpenTelemetry traces of a real `flowapp up` with real function processes, exported to
an OTLP/HTTP receiver in the test: the tree of a fork/retry execution, the Python
function's own spans and the Node.js function's span under their tasks' spans, a
caller's trace continued, and a collector that does not answer costing nothing but the
spans (counted as dropped)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.e2e.observability.otlp import ReceivedSpan, otlp_receiver
from tests.e2e.observability.shop import wait_for
from tests.e2e.platform_process import ROOT, flowapp_up, free_port

TRACED = ROOT / "tests" / "fixtures" / "observability" / "traced"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def _by_id(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {span.span_id: span for span in spans}


def _complete(spans: list[ReceivedSpan], execution_id: str) -> bool:
    mine = [s for s in spans if s.attributes.get("flowapp.execution.id") == execution_id]
    names = [s.name for s in mine]
    return (
        "execution default.traced" in names
        and names.count("function flaky") >= 2
        and "function greet" in names
        and "function shout" in names
        and "compose greeting" in {s.name for s in spans}
    )


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    assert match is not None, f"{name} is not exported"
    return float(match.group(1))


def test_a_fork_retry_execution_is_one_trace_with_the_functions_spans(tmp_path: Path) -> None:
    with (
        otlp_receiver() as receiver,
        flowapp_up(
            tmp_path / "data",
            "--app",
            str(TRACED),
            env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url},
        ) as platform,
        platform.client() as api,
    ):
        caller = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
        answer = api.post(
            "/api/v1/apps/traced/executions",
            params={"wait": "30"},
            json={"name": "ada"},
            headers={"traceparent": caller},
        )
        assert answer.status_code == 200, answer.text
        execution_id = answer.json()["id"]
        spans = receiver.wait_for(lambda spans: _complete(spans, execution_id))
        trace = [s for s in spans if s.trace_id == CALLER_TRACE]
        by_id = _by_id(trace)

        # The execution continues the caller's trace, under the caller's span.
        (execution,) = [s for s in trace if s.name == "execution default.traced"]
        assert execution.parent_id == CALLER_SPAN
        assert execution.service == "flowapp"
        assert execution.attributes["flowapp.app"] == "traced"
        assert execution.attributes["flowapp.revision"]
        assert execution.attributes["flowapp.execution.status"] == "completed"

        def task(name: str) -> list[ReceivedSpan]:
            found = [s for s in trace if s.name == f"task {name}"]
            assert found, f"no span of task {name}: {sorted(s.name for s in trace)}"
            return sorted(found, key=lambda s: s.attributes["flowapp.task.attempt"])

        def ancestors(span: ReceivedSpan) -> list[str]:
            names = []
            while span.parent_id in by_id:
                span = by_id[span.parent_id]
                names.append(span.name)
            return names

        # Every task span hangs off the execution's span, through the fork.
        (both,) = task("both")
        assert both.parent_id == execution.span_id
        assert both.attributes["flowapp.task.reference"] == "/do/0/both"
        (hello,) = task("hello")
        assert "task both" in ancestors(hello)
        assert ancestors(hello)[-1] == "execution default.traced"

        # The retried call: two attempts, the first an error with its event, the second
        # with a retry event; each its own function span under it.
        wobbles = task("wobble")
        assert [w.attributes["flowapp.task.attempt"] for w in wobbles] == [1, 2]
        first, second = wobbles
        assert first.status == 2 and first.attributes["flowapp.task.status"] == "faulted"
        exception = dict(first.events)["exception"]
        assert exception["flowapp.error.status"] == 503
        assert second.status == 1 and second.attributes["flowapp.task.status"] == "completed"
        assert ("retry", {"flowapp.task.attempt": 2}) in second.events
        for wobble in wobbles:
            assert ancestors(wobble)[-1] == "execution default.traced"
            assert "task both" in ancestors(wobble)
        flaky = {s.parent_id: s for s in trace if s.name == "function flaky"}
        assert set(flaky) == {first.span_id, second.span_id}
        assert flaky[first.span_id].status == 2  # the function's own span saw the 503
        assert flaky[first.span_id].service == "traced.flaky"

        # The Python function's span under its task's, the author's span under that.
        (greet,) = [s for s in trace if s.name == "function greet"]
        assert greet.parent_id == hello.span_id
        assert (
            greet.attributes["flowapp.task.reference"] == hello.attributes["flowapp.task.reference"]
        )
        (composed,) = [s for s in trace if s.name == "compose greeting"]
        assert composed.parent_id == greet.span_id
        assert composed.attributes["greeting.name"] == "ada"
        assert hello.start <= greet.start <= composed.start <= composed.end <= greet.end
        assert greet.end <= hello.end

        # The Node.js host's span under its task's, sent as OTLP/JSON.
        (loud,) = task("loud")
        (shout,) = [s for s in trace if s.name == "function shout"]
        assert shout.parent_id == loud.span_id
        assert shout.service == "traced.shout"
        assert (
            shout.attributes["flowapp.task.reference"] == loud.attributes["flowapp.task.reference"]
        )
        assert shout.start <= shout.end

        # A webhook call without a traceparent starts a trace of its own.
        hooked = httpx.post(f"{platform.url}/hooks/traced", json={"name": "bo"}, timeout=30)
        assert hooked.status_code == 202, hooked.text
        hook_id = hooked.json()["id"]
        spans = receiver.wait_for(lambda spans: _complete(spans, hook_id))
        hooks = [s for s in spans if s.attributes.get("flowapp.execution.id") == hook_id]
        roots = [s for s in hooks if s.name.startswith("execution ")]
        assert len(roots) == 1 and roots[0].parent_id == ""
        assert roots[0].trace_id != CALLER_TRACE
        assert {s.trace_id for s in hooks} == {roots[0].trace_id}

        # With one, the webhook's execution continues the caller's trace.
        other_trace, other_span = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
        hooked = httpx.post(
            f"{platform.url}/hooks/traced",
            json={"name": "cy"},
            headers={"traceparent": f"00-{other_trace}-{other_span}-01"},
            timeout=30,
        )
        assert hooked.status_code == 202, hooked.text
        traced_id = hooked.json()["id"]
        spans = receiver.wait_for(lambda spans: _complete(spans, traced_id))
        continued = [s for s in spans if s.attributes.get("flowapp.execution.id") == traced_id]
        assert {s.trace_id for s in continued} == {other_trace}
        (root,) = [s for s in continued if s.name.startswith("execution ")]
        assert root.parent_id == other_span

        metrics = api.get("/metrics").text
        assert _metric(metrics, "flowapp_trace_spans_exported_total") >= len(trace)
        assert _metric(metrics, "flowapp_trace_spans_dropped_total") == 0


def test_an_unreachable_collector_breaks_nothing_and_counts_the_dropped_spans(
    tmp_path: Path,
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": nowhere, "OTEL_EXPORTER_OTLP_TIMEOUT": "1"}
    with (
        flowapp_up(tmp_path / "data", "--app", str(TRACED), env=env) as platform,
        platform.client() as api,
    ):
        for name in ("a", "b", "c"):
            answer = api.post(
                "/api/v1/apps/traced/executions", params={"wait": "30"}, json={"name": name}
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "completed"

        def dropped() -> bool:
            return _metric(api.get("/metrics").text, "flowapp_trace_spans_dropped_total") > 0

        wait_for(dropped, timeout=60, what="dropped spans to be counted")
        assert _metric(api.get("/metrics").text, "flowapp_trace_spans_exported_total") == 0


def test_append_display_traces_both_functions_under_the_execution(tmp_path: Path) -> None:
    example = ROOT / "examples" / "append-display"
    with (
        otlp_receiver() as receiver,
        flowapp_up(
            tmp_path / "data",
            "--app",
            str(example),
            env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url},
        ) as platform,
        platform.client() as api,
    ):
        answer = api.post(
            "/api/v1/apps/append-display/executions",
            params={"wait": "30"},
            json={"message": "hello"},
        )
        assert answer.status_code == 200, answer.text
        execution_id = answer.json()["id"]

        def done(spans: list[ReceivedSpan]) -> bool:
            names = {
                s.name for s in spans if s.attributes.get("flowapp.execution.id") == execution_id
            }
            return {
                "execution default.append-display",
                "function append",
                "function display",
            } <= names

        spans = receiver.wait_for(done)
    mine = [s for s in spans if s.attributes.get("flowapp.execution.id") == execution_id]
    by_name = {s.name: s for s in mine}
    execution = by_name["execution default.append-display"]
    assert {s.trace_id for s in mine} == {execution.trace_id}
    for task, function, service in (
        ("task append", "function append", "append-display.append"),
        ("task display", "function display", "append-display.display"),
    ):
        assert by_name[task].parent_id == execution.span_id
        assert by_name[function].parent_id == by_name[task].span_id
        assert by_name[function].service == service

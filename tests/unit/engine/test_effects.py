"""Tasks with effects (call, emit, listen, run) and execution control, on the pure engine."""

from __future__ import annotations

from flowapp.engine import decide, new_state
from flowapp.engine.signals import (
    Cancel,
    EffectSucceeded,
    Resume,
    RetryFailed,
    Start,
    Suspend,
)
from flowapp.engine.testing import SimulatedFailure, simulate
from flowapp.engine.testing import workflow_from_yaml as workflow

JSON = {"content-type": "application/json"}


def test_http_call_request_building_and_response_output():
    seen = []

    def http(cmd):
        seen.append(cmd)
        return {"status": 201, "headers": JSON, "body": '{"id": 7}'}

    sim = simulate(
        workflow("""
        do:
          - create:
              call: http
              with:
                method: post
                endpoint:
                  uri: https://api.example.com/pets/{petId}
                  authentication: {basic: {username: '${ .user }', password: secret}}
                headers: {X-Trace: '${ .trace }'}
                query: {verbose: true}
                body: {name: '${ .name }'}
                output: response
        """),
        {"petId": "a b", "user": "u", "trace": "t1", "name": "rex"},
        http=http,
    )
    (cmd,) = seen
    assert cmd.method == "POST"
    assert cmd.url == "https://api.example.com/pets/a%20b?verbose=true"
    assert cmd.headers["X-Trace"] == "t1"
    # Credentials are the runtime's to build at send time: no resolved header is saved.
    assert "Authorization" not in cmd.headers
    assert cmd.auth == {"scheme": "basic", "username": "u", "password": "secret"}
    assert cmd.body == {"name": "rex"}
    out = sim.output
    assert out["statusCode"] == 201 and out["content"] == {"id": 7}
    assert out["request"]["method"] == "post" and out["request"]["uri"] == cmd.url


def test_http_non_2xx_is_a_communication_error_with_that_status():
    sim = simulate(
        workflow("do:\n  - get: {call: http, with: {method: get, endpoint: 'http://x/y'}}\n"),
        http=lambda cmd: {"status": 503, "headers": {}, "body": "busy"},
    )
    assert sim.error["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/communication"
    assert sim.error["status"] == 503 and sim.error["instance"] == "/do/0/get"


def test_function_call_sends_input_or_with_and_an_idempotency_key():
    seen = []

    def functions(cmd):
        seen.append(cmd)
        return {"echo": cmd.data}

    sim = simulate(
        workflow(
            "do:\n  - a: {call: append}\n  - b: {call: display, with: {x: '${ .echo }'}}\n",
            app_functions=frozenset({"append", "display"}),
        ),
        {"msg": "hi"},
        functions=functions,
    )
    assert [c.function for c in seen] == ["append", "display"]
    assert seen[0].data == {"msg": "hi"} and seen[1].data == {"x": {"msg": "hi"}}
    assert seen[0].idempotency_key == "sim-1/do/0/a#1"
    assert sim.output == {"echo": {"x": {"msg": "hi"}}}


def test_use_functions_are_run_with_their_arguments():
    sim = simulate(
        workflow("""
        use:
          functions:
            greet:
              set: {greeting: '${ "hello " + .name }'}
        do:
          - hi: {call: greet, with: {name: '${ .who }'}}
        """),
        {"who": "bob"},
    )
    assert sim.output == {"greeting": "hello bob"}


def test_unsupported_calls_fault_clearly():
    sim = simulate(workflow("do:\n  - g: {call: 'log:1.0.0@global'}\n"))
    assert sim.error["status"] == 501 and "catalog" in sim.error["detail"]


def test_emit_outputs_the_event_with_filled_attributes():
    sim = simulate(
        workflow("""
        do:
          - tell:
              emit:
                event:
                  with:
                    source: https://example.com
                    type: com.example.greeted.v1
                    data: {greeting: '${ "Hello " + .name }'}
        """),
        {"name": "Ann"},
    )
    event = sim.output
    assert set(event) >= {"id", "specversion", "time", "source", "type", "data"}
    assert event["data"] == {"greeting": "Hello Ann"}
    assert sim.emitted == [event]


def test_listen_one_with_data_expression_and_read_modes():
    events = [
        {"id": "1", "source": "s", "type": "temp", "data": {"t": 36}},
        {"id": "2", "source": "s", "type": "temp", "data": {"t": 39}},
    ]
    doc = """
    do:
      - hot:
          listen:
            to: {one: {with: {type: temp, data: '${ .t > 38 }'}}}
            read: {read}
    """
    data = simulate(workflow(doc.replace("{read}", "data")), events=events)
    assert data.output == [{"t": 39}]
    envelope = simulate(workflow(doc.replace("{read}", "envelope")), events=events)
    assert envelope.output[0]["id"] == "2"
    subscribe = next(c for c in data.commands if c.kind == "subscribe")
    assert subscribe.attributes == [{"type": "temp"}]


def test_listen_all_waits_for_each_filter():
    sim = simulate(
        workflow("""
        do:
          - both:
              listen:
                to:
                  all:
                    - with: {type: a}
                    - with: {type: b}
        """),
        events=[{"type": "b", "data": 2}, {"type": "b", "data": 3}, {"type": "a", "data": 1}],
    )
    assert sim.output == [2, 1]


def test_listen_any_until_expression_and_until_events():
    sim = simulate(
        workflow("do:\n  - many: {listen: {to: {any: [], until: '( . | length ) > 2'}}}\n"),
        events=[{"type": "x", "data": i} for i in range(5)],
    )
    assert sim.output == [0, 1, 2]
    stop = simulate(
        workflow("""
        do:
          - readings:
              listen:
                to:
                  any: [{with: {type: reading}}]
                  until: {one: {with: {type: done}}}
        """),
        events=[
            {"type": "reading", "data": 1},
            {"type": "reading", "data": 2},
            {"type": "done", "data": 0},
        ],
    )
    assert stop.output == [1, 2]


def test_listen_correlation_keeps_the_first_value():
    sim = simulate(
        workflow("""
        do:
          - pair:
              listen:
                to:
                  all:
                    - with: {type: order}
                      correlate: {order: {from: .data.id}}
                    - with: {type: paid}
                      correlate: {order: {from: .data.id}}
        """),
        events=[
            {"type": "order", "data": {"id": 1}},
            {"type": "paid", "data": {"id": 2}},
            {"type": "paid", "data": {"id": 1}},
        ],
    )
    assert sim.output == [{"id": 1}, {"id": 1}]


def test_listen_foreach_processes_each_event():
    sim = simulate(
        workflow("""
        do:
          - each:
              listen:
                to: {any: [{with: {type: n}}], until: '( . | length ) >= 3'}
              foreach:
                item: ev
                do:
                  - double: {set: '${ $ev * 2 }'}
        """),
        events=[{"type": "n", "data": i} for i in (1, 2, 3)],
    )
    assert sim.output == [2, 4, 6]


def test_emitted_events_reach_a_listening_branch():
    sim = simulate(
        workflow("""
        do:
          - together:
              fork:
                branches:
                  - wait4:
                      listen: {to: {one: {with: {type: ping}}}}
                  - send:
                      emit: {event: {with: {source: 'https://me', type: ping, data: {n: 1}}}}
        """),
    )
    assert sim.output[0] == [{"n": 1}]


def test_run_workflow_and_process_results():
    sim = simulate(
        workflow("""
        do:
          - child:
              run: {workflow: {namespace: test, name: sub, version: '1.0.0', input: {x: 1}}}
          - shell:
              run:
                shell: {command: 'echo $1', arguments: ['${ .y }']}
                return: all
        """),
        children=lambda cmd: {"y": cmd.input["x"] + 1},
        processes=lambda cmd: {"code": 0, "stdout": " ".join(cmd.arguments) + "\n", "stderr": ""},
    )
    assert sim.output == {"code": 0, "stdout": "2\n", "stderr": ""}


def test_process_failure_faults_unless_the_code_is_returned():
    sim = simulate(
        workflow("do:\n  - bad: {run: {shell: {command: 'exit 3'}}}\n"),
        processes=lambda cmd: {"code": 3, "stdout": "", "stderr": "nope"},
    )
    assert sim.error["type"].endswith("/runtime") and "nope" in sim.error["detail"]


def test_cancel_stops_everything_in_flight():
    wf = workflow("do:\n  - pause: {wait: PT1H}\n")
    state = new_state("e1")
    decide(wf, state, Start({}), 0.0)
    assert state.status == "waiting"
    decision = decide(wf, state, Cancel(), 1.0)
    assert state.status == "cancelled"
    assert [c.kind for c in decision.commands] == ["cancel-effect"]
    assert [r.status for r in decision.task_runs] == ["cancelled"]


def test_suspend_defers_results_until_resume():
    wf = workflow("do:\n  - f: {call: fn}\n", app_functions=frozenset({"fn"}))
    state = new_state("e1")
    call = decide(wf, state, Start({}), 0.0).commands[0]
    decide(wf, state, Suspend(), 1.0)
    decide(wf, state, EffectSucceeded(call.effect_id, {"ok": 1}), 2.0)
    assert state.status == "suspended" and state.output is None
    decide(wf, state, Resume(), 3.0)
    assert state.status == "completed" and state.output == {"ok": 1}


def test_retry_from_failed_task_reuses_completed_outputs():
    wf = workflow(
        "do:\n  - a: {call: one}\n  - b: {call: two}\n",
        app_functions=frozenset({"one", "two"}),
    )
    calls = []

    def functions(cmd):
        calls.append(cmd.function)
        if cmd.function == "two" and calls.count("two") == 1:
            raise SimulatedFailure({"type": "https://x/e", "status": 500, "title": "boom"})
        return {cmd.function: True}

    first = simulate(wf, {}, functions=functions)
    assert first.status == "faulted"
    memo = {r.occurrence: r.output for r in first.task_runs() if r.status == "completed"}
    state = first.state
    decision = decide(wf, state, RetryFailed(memo), 10.0)
    (retry_call,) = [c for c in decision.commands if c.kind == "call-function"]
    assert retry_call.function == "two"  # `one` is not called again
    assert retry_call.idempotency_key == "sim-1~1/do/1/b#1"
    decide(wf, state, EffectSucceeded(retry_call.effect_id, {"two": True}), 11.0)
    assert state.status == "completed" and state.output == {"two": True}
    assert [r.name for r in decision.task_runs] == ["b"]


def test_a_retry_records_a_skipped_task_once():
    wf = workflow(
        "do:\n  - maybe: {if: .go, call: one}\n  - b: {call: two}\n",
        app_functions=frozenset({"one", "two"}),
    )

    def functions(cmd):
        raise SimulatedFailure({"type": "https://x/e", "status": 500, "title": "boom"})

    first = simulate(wf, {"go": False}, functions=functions)
    assert [(r.name, r.status) for r in first.task_runs()] == [
        ("maybe", "skipped"),
        ("b", "faulted"),
    ]
    done = ("completed", "skipped")
    memo = {r.occurrence: r.output for r in first.task_runs() if r.status in done}
    decision = decide(wf, first.state, RetryFailed(memo), 10.0)
    assert [c.function for c in decision.commands if c.kind == "call-function"] == ["two"]
    assert [(r.name, r.status) for r in decision.task_runs] == [("b", "running")]


def test_run_without_await_starts_the_work_and_passes_its_input_on():
    sim = simulate(
        workflow("""
        do:
          - child:
              run:
                workflow: {namespace: test, name: sub, version: '1.0.0', input: {x: 1}}
                await: false
          - shell:
              run:
                shell: {command: 'sleep 60'}
                await: false
        """),
        {"kept": True},
        children=lambda cmd: {"ignored": "child"},
        processes=lambda cmd: {"code": 0, "stdout": "ignored", "stderr": ""},
    )
    assert sim.status == "completed"
    assert sim.output == {"kept": True}
    started = [cmd for cmd in sim.commands if cmd.kind in ("start-workflow", "run-process")]
    assert [(cmd.kind, cmd.wait) for cmd in started] == [
        ("start-workflow", False),
        ("run-process", False),
    ]
    assert not sim.state.effects

"""for, fork, try/catch/retry, wait and timeouts on the pure engine (virtual time)."""

from __future__ import annotations

from flowapp.dsl import errors
from flowapp.engine.testing import SimulatedFailure, simulate
from flowapp.engine.testing import workflow_from_yaml as workflow


def test_for_binds_item_and_index_and_chains_iterations():
    sim = simulate(
        workflow("""
        do:
          - loop:
              for: {each: color, in: .colors}
              do:
                - mark:
                    set:
                      seen: '${ .seen + [ { c: $color, i: $index } ] }'
                      colors: '${ .colors }'
        """),
        {"colors": ["red", "green"], "seen": []},
    )
    assert sim.output["seen"] == [{"c": "red", "i": 0}, {"c": "green", "i": 1}]
    occurrences = [r.occurrence for r in sim.task_runs() if r.name == "mark"]
    assert occurrences == ["/do/0/loop[0]/do/0/mark", "/do/0/loop[1]/do/0/mark"]


def test_for_while_stops_early():
    sim = simulate(
        workflow("""
        do:
          - loop:
              for: {in: '[1,2,3,4,5]', each: n}
              while: '.total < 5'
              do:
                - add: {set: {total: '${ .total + $n }'}}
        """),
        {"total": 0},
    )
    assert sim.output == {"total": 6}


def test_fork_without_compete_returns_outputs_in_declaration_order():
    answers = {
        "slow": {"status": 200, "headers": {}, "body": '"s"'},
        "fast": {"status": 200, "headers": {}, "body": '"f"'},
    }
    sim = simulate(
        workflow("""
        do:
          - both:
              fork:
                branches:
                  - slow: {call: http, with: {method: get, endpoint: 'http://x/slow'}}
                  - fast: {call: http, with: {method: get, endpoint: 'http://x/fast'}}
        """),
        {},
        http=lambda cmd: answers[cmd.url.rsplit("/", 1)[1]],
    )
    assert sim.output == ["s", "f"]
    calls = [cmd for cmd in sim.commands if cmd.kind == "call-http"]
    assert len(calls) == 2  # both issued before either answered: concurrent


def test_fork_compete_first_wins_and_others_are_cancelled():
    sim = simulate(
        workflow("""
        do:
          - race:
              fork:
                compete: true
                branches:
                  - sleepy: {wait: PT1H}
                  - quick: {set: {winner: quick}}
        """),
        {},
    )
    assert sim.output == {"winner": "quick"}
    statuses = {r.name: r.status for r in sim.task_runs()}
    assert statuses["sleepy"] == "cancelled"
    assert any(cmd.kind == "cancel-effect" for cmd in sim.commands)


def test_fork_branch_fault_faults_the_fork():
    sim = simulate(
        workflow("""
        do:
          - both:
              fork:
                branches:
                  - ok: {wait: PT1S}
                  - bad: {raise: {error: {type: https://e/x, status: 418}}}
        """),
    )
    assert sim.error["instance"] == "/do/0/both/fork/branches/1/bad"
    assert {r.name: r.status for r in sim.task_runs()}["ok"] == "cancelled"


def _http_failure(status: int):
    def fail(cmd):
        raise SimulatedFailure(errors.error(errors.COMMUNICATION, "down", status=status))

    return fail


def test_try_catch_with_lenient_type_and_error_variable():
    sim = simulate(
        workflow("""
        do:
          - guarded:
              try:
                - call: {call: http, with: {method: get, endpoint: 'http://x/'}}
              catch:
                errors:
                  with:
                    type: https://serverlessworkflow.io/dsl/errors/types/communication
                    status: 404
                as: err
                do:
                  - keep: {set: {caught: '${ $err.status }', where: '${ $err.instance }'}}
        """),
        {},
        http=lambda cmd: {"status": 404, "headers": {}, "body": "no"},
    )
    assert sim.output == {"caught": 404, "where": "/do/0/guarded/try/0/call"}


def test_uncaught_status_faults():
    sim = simulate(
        workflow("""
        do:
          - guarded:
              try:
                - call: {call: http, with: {method: get, endpoint: 'http://x/'}}
              catch:
                errors: {with: {status: 503}}
        """),
        http=lambda cmd: {"status": 404, "headers": {}, "body": ""},
    )
    assert sim.status == "faulted" and sim.error["status"] == 404


def test_retry_exponential_backoff_then_success():
    sim_start = 1000.0
    attempts = []

    def flaky(cmd):
        attempts.append(cmd)
        if len(attempts) < 3:
            raise SimulatedFailure(errors.error(errors.COMMUNICATION, "busy", status=503))
        return {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "body": '{"ok": true}',
        }

    sim = simulate(
        workflow("""
        do:
          - guarded:
              try:
                - call: {call: http, with: {method: get, endpoint: 'http://x/'}}
              catch:
                errors: {with: {status: 503}}
                retry:
                  delay: {seconds: 2}
                  backoff: {exponential: {}}
                  limit: {attempt: {count: 5}}
        """),
        http=flaky,
        start=sim_start,
    )
    assert sim.output == {"ok": True}
    timers = [cmd.due_at for cmd in sim.commands if cmd.kind == "start-timer"]
    # first retry 2 s after the first failure; the second failure (at +2 s) waits 4 s more
    assert [round(t - sim_start, 3) for t in timers] == [2.0, 6.0]
    calls = [r for r in sim.task_runs() if r.name == "call"]
    assert [r.attempt for r in calls] == [1, 2, 3]
    assert [r.status for r in calls] == ["faulted", "faulted", "completed"]


def test_retry_exhausted_without_catch_do_faults():
    sim = simulate(
        workflow("""
        do:
          - guarded:
              try:
                - call: {call: http, with: {method: get, endpoint: 'http://x/'}}
              catch:
                retry: {delay: PT1S, limit: {attempt: {count: 2}}}
        """),
        http=_http_failure(500),
    )
    assert sim.status == "faulted"
    assert len([r for r in sim.task_runs() if r.name == "call"]) == 3


def test_retry_exhausted_falls_back_to_catch_do():
    sim = simulate(
        workflow("""
        use:
          retries:
            twice: {delay: PT0.1S, backoff: {linear: {}}, limit: {attempt: {count: 2}}}
        do:
          - guarded:
              try:
                - call: {call: http, with: {method: get, endpoint: 'http://x/'}}
              catch:
                retry: twice
                do:
                  - fallback: {set: {fallback: true}}
        """),
        http=_http_failure(500),
    )
    assert sim.output == {"fallback": True}


def test_catch_when_and_except_when():
    doc = """
    do:
      - guarded:
          try:
            - boom: {raise: {error: {type: https://e/x, status: '${ .status }'}}}
          catch:
            when: '$error.status >= 500'
            exceptWhen: '$error.status == 503'
    """
    assert simulate(workflow(doc), {"status": 500}).status == "completed"
    assert simulate(workflow(doc), {"status": 503}).status == "faulted"
    assert simulate(workflow(doc), {"status": 404}).status == "faulted"


def test_wait_then_continue_with_input():
    sim = simulate(workflow("do:\n  - pause: {wait: PT2H}\n  - done: {set: {done: true}}\n"), {})
    assert sim.output == {"done": True}
    assert sim.now >= 1_700_000_000 + 7200


def test_task_timeout_faults_with_408_and_can_be_caught():
    sim = simulate(
        workflow("""
        do:
          - slow: {wait: PT1M, timeout: {after: PT1S}}
        """),
    )
    assert sim.error["status"] == 408 and sim.error["instance"] == "/do/0/slow"
    caught = simulate(
        workflow("""
        use:
          timeouts:
            short: {after: {seconds: 1}}
        do:
          - guarded:
              try:
                - slow: {wait: PT1M, timeout: short}
              catch:
                errors: {with: {type: https://serverlessworkflow.io/spec/1.0.0/errors/timeout}}
                do:
                  - note: {set: {timedOut: true}}
        """),
    )
    assert caught.output == {"timedOut": True}


def test_workflow_timeout():
    sim = simulate(workflow("timeout: {after: PT5S}\ndo:\n  - pause: {wait: PT1M}\n"))
    assert sim.status == "faulted" and sim.error["status"] == 408 and sim.error["instance"] == "/"


def test_retry_attempt_duration_interrupts_a_slow_attempt():
    sim = simulate(
        workflow("""
        do:
          - guarded:
              try:
                - slow: {wait: PT1M}
              catch:
                retry: {limit: {attempt: {count: 1, duration: PT1S}}}
        """),
    )
    assert sim.status == "faulted" and sim.error["status"] == 408
    assert [r.status for r in sim.task_runs() if r.name == "slow"] == ["cancelled", "cancelled"]

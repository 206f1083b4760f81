"""Sequencing, flow directives, data flow, set/switch/raise/do on the pure engine."""

from __future__ import annotations

from flowapp.engine.testing import simulate
from flowapp.engine.testing import workflow_from_yaml as workflow


def test_sequence_runs_in_declaration_order_and_chains_outputs():
    sim = simulate(
        workflow("""
        do:
          - a: {set: {n: 1}}
          - b: {set: {n: '${ .n + 1 }'}}
          - c: {set: {n: '${ .n * 10 }'}}
        """),
        {},
    )
    assert sim.status == "completed"
    assert sim.output == {"n": 20}
    assert sim.names() == ["a", "b", "c"]


def test_then_jumps_to_a_named_task_and_end_stops():
    sim = simulate(
        workflow("""
        do:
          - first: {set: {v: [1]}, then: third}
          - second: {set: {v: '${ .v + [2] }'}, then: end}
          - third: {set: {v: '${ .v + [3] }'}, then: second}
          - fourth: {set: {v: never}}
        """),
        {},
    )
    assert sim.output == {"v": [1, 3, 2]}
    assert sim.names() == ["first", "third", "second"]


def test_exit_leaves_only_the_enclosing_do():
    sim = simulate(
        workflow("""
        do:
          - outer:
              do:
                - a: {set: {v: a}, then: exit}
                - b: {set: {v: b}}
          - after: {set: {v: '${ .v + "-after" }'}}
        """),
        {},
    )
    assert sim.output == {"v": "a-after"}


def test_end_inside_nested_do_ends_the_workflow_and_completes_ancestors():
    sim = simulate(
        workflow("""
        do:
          - outer:
              do:
                - a: {set: {v: a}, then: end}
          - after: {set: {v: never}}
        """),
        {},
    )
    assert sim.output == {"v": "a"}
    assert [(r.name, r.status) for r in sim.task_runs()] == [
        ("outer", "completed"),
        ("a", "completed"),
    ]


def test_if_false_skips_the_task_and_passes_input_through():
    sim = simulate(
        workflow("""
        do:
          - maybe: {if: '.go', set: {touched: true}}
        """),
        {"go": False},
    )
    assert sim.output == {"go": False}
    [run] = sim.task_runs()
    assert (run.name, run.status, run.input, run.output) == (
        "maybe", "skipped", {"go": False}, {"go": False}
    )  # fmt: skip
    assert run.ended_at is not None and not run.began


def test_a_skipped_task_is_recorded_where_it_stands_and_issues_nothing():
    sim = simulate(
        workflow(
            """
        do:
          - outer:
              do:
                - first: {set: {n: 1}}
                - maybe: {if: '.n > 1', call: notify}
                - last: {set: {n: 2}}
        """,
            app_functions=frozenset({"notify"}),
        ),
        {},
    )
    assert sim.status == "completed" and sim.output == {"n": 2}
    assert [(r.name, r.status) for r in sim.task_runs()] == [
        ("outer", "completed"),
        ("first", "completed"),
        ("maybe", "skipped"),
        ("last", "completed"),
    ]
    outer, _, maybe, _ = sim.task_runs()
    assert maybe.parent_id == outer.id and maybe.reference == "/do/0/outer/do/1/maybe"
    assert not [c for c in sim.commands if c.kind == "call-function"]


def test_input_from_output_as_and_export_as():
    sim = simulate(
        workflow("""
        do:
          - pick:
              input: {from: .user}
              set: {name: '${ .name }', raw: '${ $task.input.user.name }'}
              output: {as: '{ greeting: ("hi " + .name), raw }'}
              export: {as: '$context + { seen: $output.greeting }'}
          - use: {set: {ctx: '${ $context }', prev: '${ . }'}}
        """),
        {"user": {"name": "ada"}},
    )
    assert sim.output == {"ctx": {"seen": "hi ada"}, "prev": {"greeting": "hi ada", "raw": "ada"}}


def test_workflow_input_from_and_output_as():
    sim = simulate(
        workflow("""
        input: {from: '${ .payload }'}
        output: {as: '${ { result: ., original: $workflow.input } }'}
        do:
          - double: {set: '${ . * 2 }'}
        """),
        {"payload": 21},
    )
    assert sim.output == {"result": 42, "original": {"payload": 21}}


def test_switch_default_and_fallthrough():
    doc = """
    do:
      - route:
          switch:
            - small: {when: '.n < 10', then: small}
            - other: {then: big}
      - small: {set: {size: small}, then: end}
      - big: {set: {size: big}}
    """
    assert simulate(workflow(doc), {"n": 1}).output == {"size": "small"}
    assert simulate(workflow(doc), {"n": 100}).output == {"size": "big"}


def test_raise_faults_with_instance_pointing_at_the_task():
    sim = simulate(
        workflow("""
        do:
          - check:
              raise:
                error:
                  type: https://example.com/errors/bad
                  status: 422
                  title: Bad input
                  detail: '${ "value " + (.v | tostring) + " is too big" }'
        """),
        {"v": 7},
    )
    assert sim.status == "faulted"
    assert sim.error == {
        "type": "https://example.com/errors/bad",
        "status": 422,
        "title": "Bad input",
        "detail": "value 7 is too big",
        "instance": "/do/0/check",
    }


def test_raise_reusable_error():
    sim = simulate(
        workflow("""
        use:
          errors:
            notFound: {type: https://example.com/not-found, status: 404}
        do:
          - fail: {raise: {error: notFound}}
        """),
    )
    assert sim.error["status"] == 404 and sim.error["instance"] == "/do/0/fail"


def test_failing_expression_faults_with_expression_error():
    sim = simulate(workflow("do:\n  - bad: {set: {x: '${ .a.b.c + 1 }'}}\n"), {"a": "text"})
    assert sim.status == "faulted"
    assert sim.error["type"].endswith("/errors/expression")
    assert sim.error["status"] == 400
    assert sim.error["instance"] == "/do/0/bad"


def test_schemas_validate_input_and_output():
    doc = """
    input:
      schema:
        format: json
        document: {type: object, required: [n], properties: {n: {type: integer}}}
    do:
      - out:
          set: {n: '${ .n }'}
          output:
            schema: {format: json, document: {type: object, properties: {n: {maximum: 5}}}}
    """
    bad_input = simulate(workflow(doc), {"n": "x"})
    assert bad_input.error["type"].endswith("/errors/validation")
    assert "/n" in bad_input.error["detail"]
    bad_output = simulate(workflow(doc), {"n": 9})
    assert bad_output.error["instance"] == "/do/0/out"
    assert simulate(workflow(doc), {"n": 3}).output == {"n": 3}


def test_a_thousand_sequential_tasks_do_not_grow_the_stack():
    tasks = "\n".join(f"  - t{i}: {{set: '${{ . + 1 }}'}}" for i in range(1000))
    sim = simulate(workflow("do:\n" + tasks + "\n"), 0)
    assert sim.output == 1000

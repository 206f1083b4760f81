"""Semantic checks on schema-valid documents, and the validator that runs all stages."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowapp.dsl.checks import check_semantics
from flowapp.dsl.problems import DefinitionError
from flowapp.dsl.schema import official_schema_problems
from flowapp.dsl.source import parse_text
from flowapp.dsl.validate import ensure_valid, load_source, load_text, validate_source

HEADER = "document: {dsl: '1.0.3', namespace: test, name: unit, version: '1.0.0'}\n"
FIXTURES = Path(__file__).parents[2] / "fixtures"


def semantic(body: str, known: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    doc = parse_text(HEADER + body)
    assert official_schema_problems(doc) == [], "the checks assume a schema-valid document"
    return [(p.pointer, p.message) for p in check_semantics(doc, known_functions=known)]


def pointers(body: str, known: frozenset[str] = frozenset()) -> list[str]:
    return [pointer for pointer, _ in semantic(body, known)]


# --- flow directives -------------------------------------------------------------------


def test_directives_may_name_tasks_of_their_list_and_keywords() -> None:
    body = """do:
  - a: {set: {x: 1}, then: c}
  - b: {set: {x: 1}, then: exit}
  - c:
      switch:
        - one: {when: .one, then: a}
        - two: {when: .two, then: continue}
        - other: {then: end}
"""
    assert semantic(body) == []


def test_a_directive_naming_no_task_of_its_list() -> None:
    body = "do:\n  - a: {set: {x: 1}, then: setBlue}\n  - b: {set: {x: 1}}\n"
    ((pointer, message),) = semantic(body)
    assert pointer == "/do/0/a/then"
    assert message.startswith("`then: setBlue` targets no task in this list; tasks here: a, b")


def test_a_directive_cannot_leave_its_list() -> None:
    body = """do:
  - outer:
      do:
        - inner: {set: {x: 1}, then: after}
  - after:
      switch:
        - back: {when: .again, then: inner}
"""
    assert pointers(body) == ["/do/0/outer/do/0/inner/then", "/do/1/after/switch/0/back/then"]


def test_duplicate_task_names_in_one_list() -> None:
    body = "do:\n  - a: {set: {x: 1}}\n  - b: {set: {x: 1}}\n  - a: {set: {x: 2}}\n"
    assert semantic(body) == [
        (
            "/do/2/a",
            "duplicate task name 'a' in this list (also at /do/0/a); "
            "a flow directive naming it is ambiguous",
        )
    ]


def test_the_same_name_in_different_lists_is_fine() -> None:
    body = "do:\n  - a:\n      do:\n        - a: {set: {x: 1}}\n"
    assert semantic(body) == []


TASK_LISTS = [
    ("do:\n  - t:\n      do:\n        - x: {set: {a: 1}, then: nope}\n", "/do/0/t/do/0/x/then"),
    (
        "do:\n  - t:\n      for: {in: .items}\n      do:\n        - x: {set: {a: 1}, then: nope}\n",
        "/do/0/t/do/0/x/then",
    ),
    (
        "do:\n  - t:\n      try:\n        - x: {set: {a: 1}, then: nope}\n      catch: {}\n",
        "/do/0/t/try/0/x/then",
    ),
    (
        "do:\n  - t:\n      try: []\n"
        "      catch:\n        do:\n          - x: {wait: PT1S, then: nope}\n",
        "/do/0/t/catch/do/0/x/then",
    ),
    (
        "do:\n  - t:\n      fork:\n        branches:\n          - x: {set: {a: 1}, then: nope}\n",
        "/do/0/t/fork/branches/0/x/then",
    ),
    (
        "do:\n  - t:\n      listen: {to: {one: {with: {type: t}}}}\n"
        "      foreach:\n        do:\n          - x: {set: {a: 1}, then: nope}\n",
        "/do/0/t/foreach/do/0/x/then",
    ),
    (
        "use:\n  extensions:\n    - log:\n        extend: all\n"
        "        after:\n          - x: {set: {a: 1}, then: nope}\n"
        "do:\n  - t: {set: {a: 1}}\n",
        "/use/extensions/0/log/after/0/x/then",
    ),
    (
        "use:\n  functions:\n    f: {set: {a: 1}, then: nope}\ndo:\n  - t: {call: f}\n",
        "/use/functions/f/then",
    ),
    (
        "do:\n  - t:\n      call: asyncapi\n      with:\n        document: {endpoint: 'https://x'}\n"
        "        operation: op\n        subscription:\n          consume: {amount: 1}\n"
        "          foreach:\n            do:\n              - x: {set: {a: 1}, then: nope}\n",
        "/do/0/t/with/subscription/foreach/do/0/x/then",
    ),
]


@pytest.mark.parametrize(("body", "pointer"), TASK_LISTS, ids=lambda v: str(v)[-30:])
def test_every_task_list_is_checked(body: str, pointer: str) -> None:
    assert pointers(body) == [pointer]


# --- references to reusable components -------------------------------------------------


def test_defined_references_are_fine() -> None:
    body = """use:
  errors:
    notFound: {type: 'https://example.com/not-found', status: 404}
  retries:
    fast: {delay: PT1S}
  timeouts:
    quick: {after: PT5S}
  authentications:
    petAuth:
      basic: {use: petSecret}
  secrets: [petSecret, token]
  catalogs:
    mine: {endpoint: 'https://example.com/catalog'}
  functions:
    greet: {set: {greeting: hello}}
timeout: quick
do:
  - a:
      try:
        - b: {raise: {error: notFound}, timeout: quick}
      catch: {retry: fast}
  - c:
      call: http
      with:
        method: get
        endpoint: {uri: 'https://example.com', authentication: {use: petAuth}}
        headers: {Authorization: '${ "Bearer " + $secrets.token }'}
  - d: {call: greet}
  - e: {call: 'log:1.0.0@mine'}
  - f: {call: 'log:1.0.0@default'}
  - g: {call: 'https://example.com/functions/log.yaml'}
  - h: {call: sendEmail}
"""
    assert semantic(body, frozenset({"sendEmail"})) == []


@pytest.mark.parametrize(
    ("body", "pointer", "message"),
    [
        (
            "do:\n  - a: {raise: {error: notFound}}\n",
            "/do/0/a/raise/error",
            "error 'notFound' is not defined in use.errors (no use.errors)",
        ),
        (
            "use: {retries: {slow: {delay: PT1M}}}\ndo:\n  - a: {try: [], catch: {retry: fast}}\n",
            "/do/0/a/catch/retry",
            "retry policy 'fast' is not defined in use.retries (use.retries defines: slow)",
        ),
        (
            "do:\n  - a: {wait: PT1S, timeout: quick}\n",
            "/do/0/a/timeout",
            "timeout 'quick' is not defined in use.timeouts (no use.timeouts)",
        ),
        (
            "timeout: slow\ndo:\n  - a: {wait: PT1S}\n",
            "/timeout",
            "timeout 'slow' is not defined in use.timeouts (no use.timeouts)",
        ),
        (
            "do:\n  - a: {call: 'log:1.0.0@mine'}\n",
            "/do/0/a/call",
            "catalog 'mine' is not defined in use.catalogs (no use.catalogs)",
        ),
    ],
)
def test_undefined_components(body: str, pointer: str, message: str) -> None:
    assert semantic(body) == [(pointer, message)]


def test_undefined_functions() -> None:
    body = "use: {functions: {known: {set: {a: 1}}}}\ndo:\n  - a: {call: known}\n"
    body += "  - b: {call: sendEmail}\n"
    ((pointer, message),) = semantic(body)
    assert pointer == "/do/1/b/call"
    assert message.startswith("function 'sendEmail' is not defined")
    assert semantic(body, frozenset({"sendEmail"})) == []


AUTH_SITES = [
    ("http", "{method: get, endpoint: {uri: 'https://x', authentication: AUTH}}", "endpoint/"),
    ("openapi", "{document: {endpoint: 'https://x'}, operationId: o, authentication: AUTH}", ""),
    (
        "openapi",
        "{document: {endpoint: {uri: 'https://x', authentication: AUTH}}, operationId: o}",
        "document/endpoint/",
    ),
    (
        "grpc",
        "{proto: {endpoint: 'https://x'}, method: m, service: {name: s, host: h, "
        "authentication: AUTH}}",
        "service/",
    ),
]


@pytest.mark.parametrize(("call", "with_", "where"), AUTH_SITES, ids=lambda v: str(v)[:40])
def test_authentication_references_and_secrets(call: str, with_: str, where: str) -> None:
    base = f"/do/0/a/with/{where}authentication"
    reference = with_.replace("AUTH", "{use: missingAuth}")
    secret = with_.replace("AUTH", "{bearer: {use: missingSecret}}")
    assert pointers(f"do:\n  - a: {{call: {call}, with: {reference}}}\n") == [f"{base}/use"]
    assert pointers(f"do:\n  - a: {{call: {call}, with: {secret}}}\n") == [f"{base}/bearer/use"]


def test_secrets_of_reusable_policies_and_expressions() -> None:
    body = """use:
  authentications:
    petAuth: {oauth2: {use: clientSecret}}
  secrets: [known]
do:
  - a:
      set:
        dotted: ${ $secrets.known + $secrets.unknown }
        bracketed: ${ $secrets["other"] }
"""
    assert semantic(body) == [
        (
            "/use/authentications/petAuth/oauth2/use",
            "secret 'clientSecret' is not declared in use.secrets (declared: known)",
        ),
        ("/do/0/a/set/dotted", "secret 'unknown' is not declared in use.secrets (declared: known)"),
        (
            "/do/0/a/set/bracketed",
            "secret 'other' is not declared in use.secrets (declared: known)",
        ),
    ]


def test_a_custom_function_s_arguments_are_data_not_policies_or_tasks() -> None:
    body = "do:\n  - a: {call: 'https://x/f.yaml', with: {authentication: {use: anything}}}\n"
    assert semantic(body) == []
    body = "do:\n  - a: {call: 'https://x/f.yaml', with: {subscription: {foreach: {do: [1]}}}}\n"
    assert semantic(body) == []


# --- expressions -------------------------------------------------------------------------


def test_expressions_anywhere_must_compile() -> None:
    body = """do:
  - a:
      set:
        whole: ${ .a ||| }
        inside: 'total: ${ .a + } items'
        unterminated: 'hello ${ .name'
        fine: ${ .a | length }
"""
    assert semantic(body) == [
        (
            "/do/0/a/set/whole",
            "expression does not compile: syntax error, unexpected '|' (in `.a |||`)",
        ),
        (
            "/do/0/a/set/inside",
            "expression does not compile: syntax error, unexpected end of file (in `.a +`)",
        ),
        (
            "/do/0/a/set/unterminated",
            "expression does not compile: unterminated `${` (in `hello ${ .name`)",
        ),
    ]


ALWAYS_EXPRESSIONS = [
    ("do:\n  - a: {set: {x: 1}, if: BAD}\n", "/do/0/a/if"),
    ("do:\n  - a: {set: {x: 1}, input: {from: BAD}}\n", "/do/0/a/input/from"),
    ("do:\n  - a: {set: {x: 1}, output: {as: BAD}}\n", "/do/0/a/output/as"),
    ("do:\n  - a: {set: {x: 1}, export: {as: BAD}}\n", "/do/0/a/export/as"),
    ("input: {from: BAD}\ndo:\n  - a: {set: {x: 1}}\n", "/input/from"),
    ("do:\n  - a: {switch: [{x: {when: BAD, then: end}}]}\n", "/do/0/a/switch/0/x/when"),
    ("do:\n  - a: {for: {in: BAD}, do: []}\n", "/do/0/a/for/in"),
    ("do:\n  - a: {for: {in: .x}, while: BAD, do: []}\n", "/do/0/a/while"),
    ("do:\n  - a: {try: [], catch: {when: BAD}}\n", "/do/0/a/catch/when"),
    ("do:\n  - a: {try: [], catch: {exceptWhen: BAD}}\n", "/do/0/a/catch/exceptWhen"),
    ("do:\n  - a: {try: [], catch: {retry: {when: BAD}}}\n", "/do/0/a/catch/retry/when"),
    (
        "use: {retries: {r: {exceptWhen: BAD}}}\ndo:\n  - a: {wait: PT1S}\n",
        "/use/retries/r/exceptWhen",
    ),
    ("do:\n  - a: {listen: {to: {any: [], until: BAD}}}\n", "/do/0/a/listen/to/until"),
    (
        "do:\n  - a: {listen: {to: {one: {with: {type: t}, correlate: {id: {from: BAD}}}}}}\n",
        "/do/0/a/listen/to/one/correlate/id/from",
    ),
    (
        "schedule: {on: {all: [{with: {type: t}, correlate: {id: {from: BAD}}}]}}\n"
        "do:\n  - a: {wait: PT1S}\n",
        "/schedule/on/all/0/correlate/id/from",
    ),
    (
        "use: {extensions: [{e: {extend: all, when: BAD}}]}\ndo:\n  - a: {wait: PT1S}\n",
        "/use/extensions/0/e/when",
    ),
]


@pytest.mark.parametrize(("body", "pointer"), ALWAYS_EXPRESSIONS, ids=lambda v: str(v)[-28:])
def test_fields_that_are_always_expressions_accept_bare_jq(body: str, pointer: str) -> None:
    assert semantic(body.replace("BAD", ".ok and (.x > 1)")) == []
    assert pointers(body.replace("BAD", "'.x >'")) == [pointer]
    assert pointers(body.replace("BAD", "'${ .x > }'")) == [pointer]


def test_loose_mode_skips_bare_jq_but_not_runtime_expressions() -> None:
    body = "evaluate: {mode: loose}\ndo:\n  - a: {set: {x: '${ .a > }'}, if: '.a >'}\n"
    assert pointers(body) == ["/do/0/a/set/x"]
    assert pointers(body.replace("loose", "strict")) == ["/do/0/a/set/x", "/do/0/a/if"]


def test_documentation_schemas_and_scripts_are_not_expressions() -> None:
    body = """document:
  dsl: '1.0.3'
  namespace: test
  name: unit
  version: '1.0.0'
  summary: Uses ${ as a literal
  metadata: {note: '${ not jq'}
do:
  - a:
      input:
        schema:
          document: {type: string, pattern: '^\\$\\{.+\\}$'}
      run:
        script:
          language: js
          code: 'console.log(`${a.b(}`)'
      metadata: {shown: '${ nope'}
"""
    doc = parse_text(body)
    assert official_schema_problems(doc) == []
    assert check_semantics(doc) == []


# --- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize("duration", ["PT1S", "P2W", "P1DT2H30M", "PT0.5S", "${ .delay }"])
def test_durations_flowapp_can_run(duration: str) -> None:
    assert semantic(f"do:\n  - a: {{wait: '{duration}'}}\n") == []


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ("do:\n  - a: {wait: P1Y}\n", "/do/0/a/wait"),
        ("do:\n  - a: {wait: PT1S, timeout: {after: P1M}}\n", "/do/0/a/timeout/after"),
        ("timeout: {after: P2Y}\ndo:\n  - a: {wait: PT1S}\n", "/timeout/after"),
        ("use: {timeouts: {t: {after: P1M}}}\ndo:\n  - a: {wait: PT1S}\n", "/use/timeouts/t/after"),
        ("schedule: {every: P1M}\ndo:\n  - a: {wait: PT1S}\n", "/schedule/every"),
        (
            "do:\n  - a: {try: [], catch: {retry: {limit: {attempt: {duration: P1Y}}}}}\n",
            "/do/0/a/catch/retry/limit/attempt/duration",
        ),
        (
            "do:\n  - a: {try: [], catch: {retry: {jitter: {from: PT1S, to: P1M}}}}\n",
            "/do/0/a/catch/retry/jitter/to",
        ),
        (
            "do:\n  - a: {call: mcp, with: {method: tools/list,"
            " transport: {stdio: {command: c}}, timeout: P1M}}\n",
            "/do/0/a/with/timeout",
        ),
        (
            "do:\n  - a: {run: {container: {image: i,"
            " lifetime: {cleanup: eventually, after: P1M}}}}\n",
            "/do/0/a/run/container/lifetime/after",
        ),
    ],
)
def test_durations_in_years_or_months_are_refused(body: str, pointer: str) -> None:
    ((found, message),) = semantic(body)
    assert found == pointer
    assert "counts years or months" in message


# --- the validator -----------------------------------------------------------------------


def test_semantics_run_only_on_a_schema_valid_document() -> None:
    doc = parse_text(HEADER + "do:\n  - a: {set: 5, then: nowhere}\n")
    assert [p.pointer for p in validate_source(doc)] == ["/do/0/a/set"]


def test_version_and_semantic_problems_come_together_in_file_order() -> None:
    text = HEADER.replace("1.0.3", "2.0.0") + "do:\n  - a: {wait: PT1S, then: nowhere}\n"
    found = validate_source(parse_text(text))
    assert [(p.pointer, p.line) for p in found] == [("/document/dsl", 1), ("/do/0/a/then", 3)]


def test_known_functions_reach_the_checks() -> None:
    doc = parse_text(HEADER + "do:\n  - a: {call: append}\n")
    assert len(validate_source(doc)) == 1
    assert validate_source(doc, known_functions=frozenset({"append"})) == []


def test_ensure_valid_raises_with_every_problem() -> None:
    doc = parse_text(HEADER + "do:\n  - a: {raise: {error: e1}}\n  - b: {raise: {error: e2}}\n")
    with pytest.raises(DefinitionError) as caught:
        ensure_valid(doc)
    assert [p.pointer for p in caught.value.problems] == [
        "/do/0/a/raise/error",
        "/do/1/b/raise/error",
    ]
    valid = parse_text(HEADER + "do:\n  - a: {set: {x: 1}}\n")
    assert ensure_valid(valid) is valid


def test_load_text_and_load_source() -> None:
    assert load_text(HEADER + "do:\n  - a: {wait: PT1S}\n", file="w.yaml").file == "w.yaml"
    assert load_source(FIXTURES / "spec" / "examples" / "do-single.yaml").data["do"]
    with pytest.raises(DefinitionError) as caught:
        load_source(FIXTURES / "invalid" / "semantic-undefined-error.yaml")
    assert caught.value.problems[0].pointer == "/do/0/fail/raise/error"

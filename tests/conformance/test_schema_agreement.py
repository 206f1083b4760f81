"""Our validator against the official schema, on the specification's documents and our own.

- Every example and every conformance-kit workflow of the specification is valid for
  jsonschema with the official schema and for ``validate_source`` (no false alarms).
- Every invalid fixture in ``tests/fixtures/invalid`` is reported at the pointer and line
  its header names, with the words it names::

      # expect: <pointer> <words expected in the message>     (pointer ``/`` = the root)
      # line: <line the problem is reported at>

  and for each one the verdicts agree: the official schema rejects it exactly when our
  schema check reports a problem (``schema-*`` fixtures), and accepts it when only our
  semantic checks object (``semantic-*``); ``syntax-*`` fixtures do not parse.
- The specification's own invalid fixtures are rejected.

The specification's files are read from ``tests/fixtures/spec`` (copied unchanged) so that
the tests run in any clone; when the shared specification folder is next to the checkout,
the copies are checked against it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.schema import official_schema_problems
from flowapp.dsl.source import SourceDocument, parse_text, read_source
from flowapp.dsl.validate import validate_source
from tests.conformance.gherkin import parse_features

ROOT = Path(__file__).parents[2]
SPEC = ROOT / "tests" / "fixtures" / "spec"
INVALID = ROOT / "tests" / "fixtures" / "invalid"
SHARED_SPEC = ROOT / ".." / "shared" / "spec" / "serverless-workflow"
SCHEMA = ROOT / "flowapp" / "dsl" / "schema" / "workflow.yaml"

EXAMPLES = sorted((SPEC / "examples").glob("*.yaml"))
SPEC_INVALID = sorted((SPEC / "invalid").glob("*.yaml"))
FIXTURES = sorted(INVALID.glob("*.yaml"))


def _kit_workflows() -> list[tuple[str, str]]:
    workflows = []
    for scenario in parse_features(sorted((SPEC / "ctk").glob("*.feature"))):
        for step in scenario.steps:
            if step.text.startswith("a workflow with definition") and step.doc:
                workflows.append((scenario.id, step.doc))
    return workflows


KIT_WORKFLOWS = _kit_workflows()


@cache
def official() -> Draft202012Validator:
    """The official schema as jsonschema reads it, with no help from flowapp."""
    return Draft202012Validator(YAML(typ="safe", pure=True).load(SCHEMA.read_text("utf-8")))


def officially_valid(data: Any) -> bool:
    return bool(official().is_valid(data))


def test_the_specification_corpus_is_complete() -> None:
    assert len(EXAMPLES) == 66
    assert len(SPEC_INVALID) == 3
    assert len(list((SPEC / "ctk").glob("*.feature"))) == 11
    assert len(KIT_WORKFLOWS) == 21
    assert len(FIXTURES) >= 30


@pytest.mark.skipif(not SHARED_SPEC.is_dir(), reason="the shared specification is not here")
def test_copies_are_unchanged() -> None:
    pairs = [(SCHEMA, SHARED_SPEC / "schema" / "workflow.yaml")]
    pairs += [(path, SHARED_SPEC / "examples" / path.name) for path in EXAMPLES]
    pairs += [(path, SHARED_SPEC / "invalid" / path.name) for path in SPEC_INVALID]
    pairs += [(path, SHARED_SPEC / "ctk" / "features" / path.name) for path in SPEC.glob("ctk/*")]
    for copy, original in pairs:
        assert copy.read_bytes() == original.read_bytes(), copy


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_spec_examples_are_valid_for_both(path: Path) -> None:
    doc = read_source(path)
    assert officially_valid(doc.data)
    assert validate_source(doc) == []


@pytest.mark.parametrize("workflow", KIT_WORKFLOWS, ids=lambda w: w[0])
def test_kit_workflows_are_valid_for_both(workflow: tuple[str, str]) -> None:
    doc = parse_text(workflow[1], workflow[0])
    assert officially_valid(doc.data)
    assert validate_source(doc) == []


@pytest.mark.parametrize("path", SPEC_INVALID, ids=lambda p: p.stem)
def test_spec_invalid_fixtures_are_rejected(path: Path) -> None:
    try:
        doc = read_source(path)
    except DefinitionError as error:  # listen-any-until-any-until.yaml repeats `do:`
        assert error.problems[0].line > 0
        return
    assert not officially_valid(doc.data)
    assert official_schema_problems(doc)
    assert validate_source(doc)


def _expectation(path: Path) -> tuple[str, str, int]:
    first, second = path.read_bytes().decode("ascii", errors="replace").splitlines()[:2]
    pointer, _, words = first.removeprefix("# expect: ").partition(" ")
    line = int(second.removeprefix("# line: "))
    return ("" if pointer == "/" else pointer), words, line


def _problems(path: Path) -> tuple[SourceDocument | None, list[Problem]]:
    try:
        doc = read_source(path)
    except DefinitionError as error:
        return None, list(error.problems)
    return doc, validate_source(doc)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_invalid_fixture_is_reported_where_its_header_says(path: Path) -> None:
    pointer, words, line = _expectation(path)
    _, problems = _problems(path)
    matching = [p for p in problems if p.pointer == pointer and words in p.message]
    assert matching, f"expected {pointer!r} with {words!r}, got {[str(p) for p in problems]}"
    assert {p.line for p in matching} == {line}
    assert all(p.file == str(path) for p in problems)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_invalid_fixture_verdicts_agree_with_the_official_schema(path: Path) -> None:
    doc, _ = _problems(path)
    kind = path.stem.split("-", 1)[0]
    assert kind in ("schema", "semantic", "syntax")
    if doc is None:
        assert kind == "syntax"
        return
    rejected = not officially_valid(doc.data)
    assert rejected == bool(official_schema_problems(doc))
    assert rejected == (kind == "schema")

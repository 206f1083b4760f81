"""Fuzzing the YAML/FlowApp loader: whatever the text, reading and checking it ends in a
``DefinitionError`` with located problems (or a valid app), never another exception.

The loader is what every request's resource goes through (``check_files``, in memory,
as ``POST /validate`` and ``POST /apps`` run it) and what ``flowapp validate`` runs."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from flowapp.apps.loader import check_files
from flowapp.dsl.problems import DefinitionError
from flowapp.dsl.source import parse_text
from flowapp.local.catalog import project_files
from flowapp.server import platform as p

from .profiles import FUZZ
from .strategies import EXAMPLE_FILES, EXAMPLE_RESOURCE, as_text, mutated, yaml_text

PLAIN = {
    "document": {"dsl": "1.0.3", "namespace": "default", "name": "plain", "version": "1.0.0"},
    "do": [{"first": {"set": {"a": 1}}}, {"second": {"call": "greet", "with": {"b": 2}}}],
}


def read(text: str) -> None:
    try:
        parse_text(text, "flowapp.yaml")
    except DefinitionError as error:
        assert error.problems and all(problem.file == "flowapp.yaml" for problem in error.problems)


def check(files: dict[str, bytes]) -> None:
    try:
        check_files(files)
    except DefinitionError as error:
        assert error.problems
        assert all(isinstance(problem.message, str) for problem in error.problems)


@FUZZ
@given(st.text(max_size=400))
@example("a: " + "[" * 1000)
@example("a: &a [*a]\nb: {<<: *a}\n")
@example("!!python/object/apply:os.system ['true']\n")
def test_any_text_is_read_or_refused_with_problems(text: str) -> None:
    read(text)


@FUZZ
@given(yaml_text)
def test_yaml_shaped_text_is_read_or_refused_with_problems(text: str) -> None:
    read(text)
    check({**EXAMPLE_FILES, "flowapp.yaml": text.encode("utf-8", "surrogatepass")})


@FUZZ
@given(mutated(EXAMPLE_RESOURCE), st.sampled_from(["pretty", "flat"]))
@example({**EXAMPLE_RESOURCE, "document": 5}, "flat")
@example({**EXAMPLE_RESOURCE, "metadata": [1]}, "flat")
def test_a_flowapp_with_any_part_replaced_is_checked_without_crashing(
    resource: dict[str, Any], style: str
) -> None:
    check({**EXAMPLE_FILES, "flowapp.yaml": as_text(resource, style).encode()})


@FUZZ
@given(mutated(EXAMPLE_RESOURCE) | mutated(PLAIN), st.sampled_from(["pretty", "flat"]))
@example({"document": 5, "do": []}, "flat")
@example({"document": [1], "do": []}, "flat")
def test_a_request_resource_becomes_a_project_or_an_invalid_resource(
    resource: dict[str, Any], style: str
) -> None:
    """What ``POST /apps`` and ``/validate`` do with a resource's text: project files in
    memory (starter code for valid names and paths only), then the check."""
    try:
        files = project_files(as_text(resource, style), "flowapp.yaml")
    except (p.InvalidResource, p.PayloadTooLarge) as error:
        assert error.detail
        return
    assert all(".." not in name.split("/") and not name.startswith("/") for name in files)
    check(files)

"""Adding a function to flowapp.yaml changes one place and keeps the rest of the text."""

from __future__ import annotations

import pytest

from flowapp.apps.errors import ScaffoldError
from flowapp.apps.yamledit import add_function_entry

HEAD = """\
# The shop: comments, alignment and quoting are the user's own.
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: shop}
spec:
  triggers:                       # event sources
    - name: api
      http: {path: "/hooks/orders"}
"""
TAIL = """\
  workflowRef: workflow.yaml      # the workflow
  delivery: {retry: 3}
"""
ENTRY = {"runtime": "node", "path": "functions/resize"}
LINE = "resize: {runtime: node, path: functions/resize}"


def add(functions: str) -> str:
    return add_function_entry(HEAD + functions + TAIL, "resize", ENTRY)


def test_an_entry_is_added_as_one_line_after_the_others() -> None:
    functions = (
        "  functions:                      # one folder per node\n"
        "    append:  {runtime: python, path: functions/append}   # aligned\n"
        "    display: {runtime: node,   path: functions/display}\n"
    )
    assert add(functions) == HEAD + functions + "    " + LINE + "\n" + TAIL


def test_a_comment_under_the_last_entry_stays_with_it() -> None:
    functions = (
        "  functions:\n"
        "    append:\n"
        "      runtime: python\n"
        "      # about append\n"
        "  # about the workflow\n"
    )
    expected = functions.replace(
        "  # about the workflow", "    " + LINE + "\n  # about the workflow"
    )
    assert add(functions) == HEAD + expected + TAIL


@pytest.mark.parametrize("empty", ["  functions: {}   # none yet\n", "  functions:   # none yet\n"])
def test_an_empty_functions_mapping_becomes_a_block(empty: str) -> None:
    expected = "  functions:   # none yet\n    " + LINE + "\n"
    assert add(empty) == HEAD + expected + TAIL


def test_a_missing_functions_key_is_added_above_the_workflow() -> None:
    assert add("") == HEAD + "  functions:\n    " + LINE + "\n" + TAIL


def test_a_flow_style_mapping_falls_back_to_a_round_trip() -> None:
    edited = add("  functions: {append: {runtime: python, path: functions/append}}\n")
    assert "  functions:\n    append: {runtime: python, path: functions/append}\n" in edited
    assert "    " + LINE + "\n" in edited
    assert "# The shop: comments" in edited and "# the workflow" in edited


def test_a_four_space_indented_file_keeps_its_indentation() -> None:
    text = (
        "apiVersion: flowapp.dev/v1alpha1\nkind: FlowApp\nmetadata:\n    name: shop\nspec:\n"
        "    functions: {}\n    workflowRef: workflow.yaml\n"
    )
    expected = text.replace("functions: {}", "functions:\n        " + LINE)
    assert add_function_entry(text, "resize", ENTRY) == expected


def test_a_declared_name_is_refused() -> None:
    with pytest.raises(ScaffoldError, match="function `resize` is already declared"):
        add("  functions:\n    resize: {runtime: python}\n")


def test_unreadable_yaml_is_refused() -> None:
    with pytest.raises(ScaffoldError, match=r"flowapp\.yaml cannot be read"):
        add_function_entry("spec: {functions: [\n", "resize", ENTRY)


def test_a_file_without_spec_is_refused() -> None:
    with pytest.raises(ScaffoldError, match="no `spec` mapping"):
        add_function_entry("kind: FlowApp\n", "resize", ENTRY)


def test_crlf_line_endings_are_kept() -> None:
    text = (HEAD + "  functions:\n    append: {runtime: python}\n" + TAIL).replace("\n", "\r\n")
    edited = add_function_entry(text, "resize", ENTRY)
    assert edited == text.replace("  workflowRef", "    " + LINE + "\r\n  workflowRef")

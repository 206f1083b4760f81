"""Expressions that read secrets by name: a secret that was not supplied is the spec's
authorization error, never a silent ``null``."""

from __future__ import annotations

import pytest

from flowapp.dsl.expressions import (
    ExpressionError,
    MappingScope,
    SecretUnavailable,
    compile_expression,
    compile_string,
    secrets_read,
)


def test_the_names_an_expression_reads_are_found_in_both_notations() -> None:
    source = '$secrets.apiKey + $secrets["db-password"] + $secrets . apiKey'
    assert secrets_read(source) == ("apiKey", "db-password")


def test_reading_a_supplied_secret_gives_its_value() -> None:
    expression = compile_expression('"Bearer " + $secrets.apiKey')
    assert expression.evaluate(None, MappingScope({"secrets": {"apiKey": "k"}})) == "Bearer k"


def test_reading_a_secret_that_was_not_supplied_is_an_authorization_error() -> None:
    expression = compile_expression("$secrets.apiKey")
    with pytest.raises(SecretUnavailable) as raised:
        expression.evaluate(None, MappingScope({"secrets": {"other": "x"}}))
    assert raised.value.kind == "authorization" and raised.value.name == "apiKey"
    with pytest.raises(SecretUnavailable):
        expression.evaluate(None, MappingScope({}))  # no secrets at all


def test_a_supplied_null_is_a_value_not_a_missing_secret() -> None:
    expression = compile_expression("$secrets.apiKey")
    assert expression.evaluate(None, MappingScope({"secrets": {"apiKey": None}})) is None


def test_other_expression_failures_stay_expression_errors() -> None:
    with pytest.raises(ExpressionError) as raised:
        compile_expression('error("boom")').evaluate(None)
    assert raised.value.kind == "expression"


def test_loose_strings_do_not_hide_a_missing_secret() -> None:
    template = compile_string("$secrets.apiKey", loose=True)
    with pytest.raises(SecretUnavailable):
        template.render(None, MappingScope({"secrets": {}}))

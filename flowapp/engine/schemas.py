"""JSON Schema validation of data (``input.schema``, ``output.schema``, ``export.schema``).

Validators are built once per schema object and shared: building one costs far more than
validating with it.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from flowapp.dsl.model import SchemaSpec

_validators: dict[int, tuple[SchemaSpec, Draft202012Validator]] = {}


def _validator(schema: SchemaSpec) -> Draft202012Validator:
    cached = _validators.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    validator = Draft202012Validator(dict(schema.document))
    _validators[id(schema)] = (schema, validator)
    return validator


def schema_problems(schema: SchemaSpec, value: Any, limit: int = 5) -> list[str]:
    """Human-readable violations, each prefixed with the JSON pointer of the bad value."""
    problems = []
    for failure in _validator(schema).iter_errors(value):
        pointer = "".join(f"/{part}" for part in failure.absolute_path) or "/"
        problems.append(f"{pointer}: {failure.message}")
        if len(problems) >= limit:
            break
    return problems

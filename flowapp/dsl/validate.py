"""The validator behind ``flowapp validate``: text in, every problem out, in file order.

A document passes through three stages, each reporting ``Problem`` objects with locations:
parsing (``source``: syntax, duplicate keys, not a mapping), the official schema
(``schema``: structure, with messages per task type) and, only when the structure is
valid, the semantic checks (``checks``: flow targets, references, jq, durations), which
rely on the structure the schema guarantees. ``ensure_valid`` and the ``load_*`` helpers
raise one ``DefinitionError`` holding all of them.
"""

from __future__ import annotations

import os

from flowapp.dsl.checks import check_embedded_expressions, check_semantics
from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.schema import check_dsl_version, official_schema_problems
from flowapp.dsl.source import SourceDocument, parse_text, read_source

NO_FUNCTIONS: frozenset[str] = frozenset()


def validate_source(
    doc: SourceDocument, *, known_functions: frozenset[str] = NO_FUNCTIONS
) -> list[Problem]:
    """Every problem in a parsed document, sorted by line and column; empty if it is valid.

    ``known_functions`` names functions defined outside the workflow (a FlowApp's
    ``spec.functions``) that ``call:`` may use.
    """
    structure = official_schema_problems(doc)
    problems = structure + check_dsl_version(doc)
    if not structure:  # the semantic checks rely on the structure the schema guarantees
        problems += check_semantics(doc, known_functions=known_functions)
    else:  # jq compiles wherever it is written: report that too
        problems += check_embedded_expressions(doc)
    return sorted(dict.fromkeys(problems), key=lambda p: (p.line, p.column, p.pointer))


def ensure_valid(
    doc: SourceDocument, *, known_functions: frozenset[str] = NO_FUNCTIONS
) -> SourceDocument:
    """Return ``doc`` if it is valid; otherwise raise ``DefinitionError`` with every problem."""
    problems = validate_source(doc, known_functions=known_functions)
    if problems:
        raise DefinitionError(problems)
    return doc


def load_source(
    path: str | os.PathLike[str], *, known_functions: frozenset[str] = NO_FUNCTIONS
) -> SourceDocument:
    """Read, parse and validate a workflow file; raise ``DefinitionError`` if it is not usable."""
    return ensure_valid(read_source(path), known_functions=known_functions)


def load_text(
    text: str, *, file: str = "<input>", known_functions: frozenset[str] = NO_FUNCTIONS
) -> SourceDocument:
    """Parse and validate workflow text; raise ``DefinitionError`` if it is not usable."""
    return ensure_valid(parse_text(text, file), known_functions=known_functions)

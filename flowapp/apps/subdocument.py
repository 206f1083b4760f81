"""A value inside a parsed document, presented as a document of its own.

A FlowApp may hold its workflow inline (``spec.workflow``). The workflow validator
(``flowapp.dsl.validate``) and the runtime speak workflow pointers (``/do/0/append``), while
a user needs the line in ``flowapp.yaml``. Rather than teach the validator about prefixes,
:func:`sub_document` re-keys the positions recorded by ``parse_text`` (flowapp.yaml is parsed
once): the result is an ordinary ``SourceDocument`` whose data is the workflow, whose
pointers are relative to it, and whose lines are those of the enclosing file. Problems it
produces are then moved back under the prefix with :func:`under` when they are shown next
to the resource's own problems.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from flowapp.dsl.problems import Problem, split_pointer
from flowapp.dsl.source import SourceDocument


def sub_document(doc: SourceDocument, pointer: str) -> SourceDocument:
    """The mapping at ``pointer`` in ``doc``, with pointers relative to it."""
    data = value_at(doc.data, pointer)
    if not isinstance(data, dict):
        raise TypeError(f"{pointer} in {doc.file} is not a mapping")
    positions = {
        key[len(pointer) :]: position
        for key, position in doc.positions.items()
        if key == pointer or key.startswith(pointer + "/")
    }
    return SourceDocument(doc.file, data, positions)


def under(prefix: str, problems: Iterable[Problem]) -> list[Problem]:
    """``problems`` of a sub-document, with pointers relative to the enclosing document."""
    return [replace(problem, pointer=prefix + problem.pointer) for problem in problems]


def value_at(data: Any, pointer: str) -> Any:
    """The value at a JSON pointer, or None where the path does not exist."""
    for token in split_pointer(pointer):
        if isinstance(data, dict):
            data = data.get(token)
        elif isinstance(data, list) and token.isdigit() and int(token) < len(data):
            data = data[int(token)]
        else:
            return None
    return data

"""Problems found in a document, each with the place it was found.

Every check in flowapp (schema, references, expressions, FlowApp resources) reports a
``Problem``; a loader gathers all of them and raises one ``DefinitionError`` so a user sees
every mistake at once, each as ``file:line:column: /json/pointer: message``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a document. ``line`` and ``column`` are 1-based; 0 if unknown."""

    pointer: str
    message: str
    file: str = "<input>"
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        where = self.file if not self.line else f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.pointer or '/'}: {self.message}"


class DefinitionError(Exception):
    """A document that cannot be used, with every problem found in it."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def escape_pointer_token(token: str | int) -> str:
    """Escape one JSON pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join("/" + escape_pointer_token(t) for t in tokens)


def split_pointer(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]

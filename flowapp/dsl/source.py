"""Source documents: YAML or JSON text parsed into plain data that remembers where it was written.

Every later check (schema, semantics, FlowApp resources) reports a ``Problem`` with a JSON
pointer; ``SourceDocument.locate`` turns that pointer into the line and column a user can
jump to. The text is parsed once by ruamel.yaml's round-trip loader (YAML 1.2, so JSON is
read by the same loader), its line/column records are copied into one flat map of
``pointer -> (line, column)``, and the data is converted to plain JSON values (``dict``,
``list``, ``str``, ``int``, ``float``, ``bool``, ``None``). Nothing keeps a ruamel object.

Syntax errors, duplicate keys, an empty document or one that is not a mapping raise
``DefinitionError`` with a single problem at the place of the error.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from flowapp.dsl.problems import DefinitionError, Problem, join_pointer, split_pointer

Position = tuple[int, int]


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """A parsed document: its plain data and the position of every value in the text."""

    file: str
    data: dict[str, Any]
    positions: Mapping[str, Position] = field(default_factory=dict, repr=False, compare=False)

    def locate(self, pointer: str) -> Position:
        """1-based (line, column) of the value at ``pointer``, or of its nearest ancestor."""
        tokens = split_pointer(pointer)
        while True:
            found = self.positions.get(join_pointer("", *tokens))
            if found is not None:
                return found
            if not tokens:
                return (1, 1)
            tokens.pop()

    def problem(self, pointer: str, message: str) -> Problem:
        line, column = self.locate(pointer)
        return Problem(pointer, message, self.file, line, column)


class _JsonConstructor(RoundTripConstructor):
    """Round-trip constructor that keeps timestamps as the text written: the data is JSON."""


_JsonConstructor.add_constructor("tag:yaml.org,2002:timestamp", _JsonConstructor.construct_yaml_str)


def parse_text(
    text: str,
    file: str = "<input>",
    *,
    allow_empty: bool = False,
    what: str = "a workflow document",
) -> SourceDocument:
    """Parse YAML or JSON text into a ``SourceDocument``; raise ``DefinitionError`` if unusable.
    With ``allow_empty``, a document with nothing but comments is an empty mapping; ``what``
    names the document in the message when it is not a mapping."""
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _JsonConstructor
    try:
        loaded = yaml.load(text)
    except YAMLError as exc:
        raise DefinitionError([_syntax_problem(exc, text, file)]) from None
    if loaded is None:
        if allow_empty:
            return SourceDocument(file, {}, {"": (1, 1)})
        raise DefinitionError([Problem("", "the document is empty", file, 1, 1)])
    if not isinstance(loaded, CommentedMap):
        found = "a list" if isinstance(loaded, CommentedSeq) else f"`{loaded}`"
        message = f"{what} must be a mapping of keys to values, found {found}"
        line, column = (loaded.lc.line + 1, loaded.lc.col + 1) if found == "a list" else (1, 1)
        raise DefinitionError([Problem("", message, file, line, column)])
    converter = _Converter(file)
    converter.positions[""] = (loaded.lc.line + 1, loaded.lc.col + 1)
    data = converter.plain(loaded, "")
    return SourceDocument(file, data, converter.positions)


def read_source(
    path: str | os.PathLike[str], *, allow_empty: bool = False, what: str = "a workflow document"
) -> SourceDocument:
    """Read and parse a UTF-8 file; an unreadable or undecodable file is a ``DefinitionError``.
    ``allow_empty`` and ``what`` are as for ``parse_text``."""
    file = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DefinitionError([Problem("", f"cannot read the file: {reason}", file)]) from None
    return parse_bytes(raw, file, allow_empty=allow_empty, what=what)


def parse_bytes(
    raw: bytes, file: str, *, allow_empty: bool = False, what: str = "a workflow document"
) -> SourceDocument:
    """``parse_text`` of a file's bytes, which must be UTF-8 (a byte order mark is dropped)."""
    try:
        text = raw.decode("utf-8-sig")  # a byte order mark is allowed and dropped
    except UnicodeDecodeError as exc:
        line, column = _byte_position(raw, exc.start)
        message = f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        raise DefinitionError([Problem("", message, file, line, column)]) from None
    return parse_text(text, file, allow_empty=allow_empty, what=what)


def _byte_position(raw: bytes, offset: int) -> Position:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


_DUPLICATE_KEY = re.compile(r'found duplicate key "(.*?)" with value')


def _syntax_problem(exc: YAMLError, text: str, file: str) -> Problem:
    if isinstance(exc, ReaderError):  # a character YAML does not allow; no mark, an offset
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Problem("", f"character U+{code:04X} is not allowed in YAML", file, line, column)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    problem = str(getattr(exc, "problem", None) or exc).strip()
    duplicate = _DUPLICATE_KEY.search(problem)
    if duplicate:
        message = f"duplicate key '{duplicate.group(1)}': a key may appear only once in a mapping"
    else:
        context = getattr(exc, "context", None)
        message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    return Problem("", message, file, line, column)


class _Converter:
    """Turns ruamel's round-trip objects into plain values, recording each value's position."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[str, Position] = {}

    def plain(self, node: Any, pointer: str) -> Any:
        if isinstance(node, CommentedMap):
            return self._mapping(node, pointer)
        if isinstance(node, CommentedSeq):
            return self._sequence(node, pointer)
        if isinstance(node, ScalarBoolean | bool):
            return bool(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            if not math.isfinite(node):
                self._fail(pointer, f"`{node}` is not a JSON number")
            return float(node)
        if isinstance(node, str) or node is None:
            return None if node is None else str(node)
        self._fail(pointer, f"a {type(node).__name__} value cannot be represented in JSON")

    def _mapping(self, node: CommentedMap, pointer: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in node.items():
            name = self._key(key, pointer)
            child = join_pointer(pointer, name)
            place = node.lc.data.get(key)  # absent for keys brought in by a `<<` merge
            if place is not None:
                # an empty value has no text of its own: its "position" is the next token
                keyed = _is_block(value) or (value is None and place[2] != place[0])
                line, column = (place[0], place[1]) if keyed else (place[2], place[3])
                self.positions[child] = (line + 1, column + 1)
            result[name] = self.plain(value, child)
        return result

    def _sequence(self, node: CommentedSeq, pointer: str) -> list[Any]:
        result: list[Any] = []
        for index, value in enumerate(node):
            child = join_pointer(pointer, index)
            place = node.lc.data.get(index)
            if place is not None:
                self.positions[child] = (place[0] + 1, place[1] + 1)
            result.append(self.plain(value, child))
        return result

    def _key(self, key: Any, pointer: str) -> str:
        # JSON object keys are strings; scalar keys are written as JSON would write them.
        if isinstance(key, str):
            return str(key)
        if isinstance(key, ScalarBoolean | bool):
            return "true" if key else "false"
        if key is None:
            return "null"
        if isinstance(key, int | float):
            return str(key)
        self._fail(pointer, "a mapping key must be a string, not a mapping or a list")

    def _fail(self, pointer: str, message: str) -> NoReturn:
        line, column = self.positions.get(pointer, (0, 0))
        raise DefinitionError([Problem(pointer, message, self.file, line, column)])


def _is_block(value: Any) -> bool:
    """A block mapping or list begins on the line after its key, so it is located at its key."""
    if isinstance(value, CommentedMap | CommentedSeq):
        return not value.fa.flow_style()
    return False

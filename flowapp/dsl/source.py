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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean
from ruamel.yaml.scanner import RoundTripScanner

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


@dataclass(frozen=True, slots=True)
class Limits:
    """What reading one document may cost; past a limit it is refused, not read further.

    A document comes from whoever holds a token (``POST /api/v1/validate`` takes a
    viewer's), and YAML can make a few hundred bytes cost gigabytes: nine levels of nine
    aliases are 387 million values once expanded. So the text, the nesting and the values
    (each use of an alias counting every value it brings) are bounded, and with a
    ``clock`` (seconds, monotonic: the shell passes one, the core reads none) so is the
    time spent. Limits are checked as the document is read, so the refusal costs at most
    what the limit allows.
    """

    max_bytes: int = 1 << 20
    max_depth: int = 64
    max_values: int = 100_000
    max_seconds: float = 10.0
    clock: Callable[[], float] | None = None


DEFAULT_LIMITS = Limits()


class DocumentTooLarge(DefinitionError):
    """A document past one of its ``Limits``; its single problem says which, and where."""


class _Budget:
    """The values left to read and the deadline, shared by the composer and the converter."""

    def __init__(self, limits: Limits, file: str) -> None:
        self.limits = limits
        self.file = file
        self.values = 0
        self.deadline = limits.clock() + limits.max_seconds if limits.clock else None

    def spend(self, line: int, column: int, cost: int = 1) -> None:
        self.values += cost
        if self.values > self.limits.max_values:
            message = (
                f"the document holds more than {self.limits.max_values:,} values (each use of "
                "an alias counts every value it brings): it is too large to read"
            )
            self.refuse(message, line, column)
        clock = self.limits.clock
        checked = self.values % 256 == 0 or cost > 1
        if clock is not None and self.deadline is not None and checked:  # noqa: SIM102
            if clock() > self.deadline:
                message = (
                    f"the document took more than {self.limits.max_seconds:g} s to read: "
                    "it is too large or too complex"
                )
                self.refuse(message, line, column)

    def refuse(self, message: str, line: int, column: int, pointer: str = "") -> NoReturn:
        raise DocumentTooLarge([Problem(pointer, message, self.file, line, column)])


class _JsonConstructor(RoundTripConstructor):
    """Round-trip constructor that keeps timestamps as the text written: the data is JSON."""


_JsonConstructor.add_constructor("tag:yaml.org,2002:timestamp", _JsonConstructor.construct_yaml_str)


class _CountingComposer(Composer):
    """Spends every node from the budget as it is composed, an alias costing every value
    of the node it refers to (merge keys included): a document too large once expanded is
    refused here, before ruamel's constructor expands merges (in time and memory that grow
    with the square of a chain of merges) and before it is all in memory."""

    budget: _Budget

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.sizes: dict[int, int] = {}  # id(node) -> the values it holds, aliases expanded
        # YAML lets a later anchor of the same name replace an earlier one: not a problem.
        self.warn_double_anchors = False

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        node = super().compose_node(parent, index)
        mark = event.start_mark
        if isinstance(event, AliasEvent):  # a node still being composed refers to itself
            self.budget.spend(mark.line + 1, mark.column + 1, self.sizes.get(id(node), 1))
            return node
        self.budget.spend(mark.line + 1, mark.column + 1)
        self.sizes[id(node)] = 1 + sum(self.sizes.get(id(child), 1) for child in _children(node))
        return node


class _BoundedScanner(RoundTripScanner):
    """Refuses flow collections (``[``, ``{``) nested past the depth limit as it meets them:
    the scanner keeps every open bracket of a line as a possible simple key and looks at all
    of them for each new token, so a thousand ``[`` cost it seconds before the composer
    would see the first level too many."""

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
        max_depth = self.loader.max_depth  # YAML().max_depth, which the composer checks too
        if self.flow_level >= max_depth:
            mark = self.reader.get_mark()
            message = f"nested deeper than {max_depth} levels"
            raise MaxDepthExceededError(None, None, message, mark)
        super().fetch_flow_collection_start(TokenClass, to_push)


def _children(node: Any) -> list[Any]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def parse_text(
    text: str,
    file: str = "<input>",
    *,
    allow_empty: bool = False,
    what: str = "a workflow document",
    limits: Limits = DEFAULT_LIMITS,
) -> SourceDocument:
    """Parse YAML or JSON text into a ``SourceDocument``; raise ``DefinitionError`` if unusable
    (``DocumentTooLarge`` past ``limits``). With ``allow_empty``, a document with nothing
    but comments is an empty mapping; ``what`` names the document in the message when it is
    not a mapping."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise DocumentTooLarge([_over_size(size, limits, file)])
    budget = _Budget(limits, file)
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _JsonConstructor
    yaml.Composer = _CountingComposer
    yaml.Scanner = _BoundedScanner
    yaml.max_depth = limits.max_depth
    yaml.composer.budget = budget
    try:
        loaded = yaml.load(text)
    except MaxDepthExceededError as exc:
        mark = exc.problem_mark
        message = f"the document is nested deeper than {limits.max_depth} levels"
        budget.refuse(message, mark.line + 1 if mark else 0, mark.column + 1 if mark else 0)
    except YAMLError as exc:
        raise DefinitionError([_syntax_problem(exc, text, file)]) from None
    except RecursionError:  # merge keys (``<<``) chained deeper than the stack allows
        budget.refuse("the document's aliases and merges are nested too deeply", 0, 0)
    if loaded is None:
        if allow_empty:
            return SourceDocument(file, {}, {"": (1, 1)})
        raise DefinitionError([Problem("", "the document is empty", file, 1, 1)])
    if not isinstance(loaded, CommentedMap):
        found = "a list" if isinstance(loaded, CommentedSeq) else f"`{loaded}`"
        message = f"{what} must be a mapping of keys to values, found {found}"
        line, column = (loaded.lc.line + 1, loaded.lc.col + 1) if found == "a list" else (1, 1)
        raise DefinitionError([Problem("", message, file, line, column)])
    budget.values = 0  # now each value is counted every time an alias brings it in
    converter = _Converter(file, budget)
    converter.positions[""] = (loaded.lc.line + 1, loaded.lc.col + 1)
    data = converter.plain(loaded, "", 0)
    return SourceDocument(file, data, converter.positions)


def read_source(
    path: str | os.PathLike[str],
    *,
    allow_empty: bool = False,
    what: str = "a workflow document",
    limits: Limits = DEFAULT_LIMITS,
) -> SourceDocument:
    """Read and parse a UTF-8 file; an unreadable or undecodable file is a ``DefinitionError``.
    ``allow_empty``, ``what`` and ``limits`` are as for ``parse_text``; a file over
    ``limits.max_bytes`` is refused before it is read."""
    file = os.fspath(path)
    try:
        size = Path(path).stat().st_size
        if size > limits.max_bytes:
            raise DocumentTooLarge([_over_size(size, limits, file)])
        raw = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DefinitionError([Problem("", f"cannot read the file: {reason}", file)]) from None
    return parse_bytes(raw, file, allow_empty=allow_empty, what=what, limits=limits)


def parse_bytes(
    raw: bytes,
    file: str,
    *,
    allow_empty: bool = False,
    what: str = "a workflow document",
    limits: Limits = DEFAULT_LIMITS,
) -> SourceDocument:
    """``parse_text`` of a file's bytes, which must be UTF-8 (a byte order mark is dropped)."""
    if len(raw) > limits.max_bytes:
        raise DocumentTooLarge([_over_size(len(raw), limits, file)])
    try:
        text = raw.decode("utf-8-sig")  # a byte order mark is allowed and dropped
    except UnicodeDecodeError as exc:
        line, column = _byte_position(raw, exc.start)
        message = f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        raise DefinitionError([Problem("", message, file, line, column)]) from None
    return parse_text(text, file, allow_empty=allow_empty, what=what, limits=limits)


def _over_size(size: int, limits: Limits, file: str) -> Problem:
    message = f"the document is {size:,} bytes, over the limit of {limits.max_bytes:,}"
    return Problem("", message, file, 1, 1)


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
    """Turns ruamel's round-trip objects into plain values, recording each value's position.

    An alias is a reference to a node read earlier, so the same node may be converted many
    times: every conversion is spent from the budget, and the depth is checked again here,
    because an alias can refer to a node that contains it."""

    def __init__(self, file: str, budget: _Budget) -> None:
        self.file = file
        self.budget = budget
        self.positions: dict[str, Position] = {}

    def plain(self, node: Any, pointer: str, depth: int) -> Any:
        line, column = self.positions.get(pointer, (0, 0))
        self.budget.spend(line, column)
        if isinstance(node, CommentedMap | CommentedSeq):
            if depth >= self.budget.limits.max_depth:
                message = (
                    f"the document is nested deeper than {self.budget.limits.max_depth} levels"
                )
                self.budget.refuse(message, line, column, pointer)
            if isinstance(node, CommentedMap):
                return self._mapping(node, pointer, depth + 1)
            return self._sequence(node, pointer, depth + 1)
        if isinstance(node, ScalarBoolean | bool):
            return bool(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            if not math.isfinite(node):
                self._fail(pointer, f"`{node}` is not a JSON number")
            return float(node)
        if node is None:
            return None
        if isinstance(node, str):
            return self._text(node, pointer)
        self._fail(pointer, f"a {type(node).__name__} value cannot be represented in JSON")

    def _text(self, text: str, pointer: str) -> str:
        """Escapes (``"\\ud83d\\ude00"``, as JSON writes characters outside the BMP) may
        come as surrogate pairs, which are joined; half a pair (``"\\ud800"``) is not
        Unicode text, and nothing downstream (a digest, a store, a response) can encode it."""
        if text.isascii():
            return str(text)
        try:
            text.encode("utf-8")
            return str(text)
        except UnicodeEncodeError:
            pass
        try:
            return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
        except UnicodeDecodeError as exc:
            code = int.from_bytes(exc.object[exc.start : exc.start + 2], "little")
            self._fail(pointer, f"the text holds a lone surrogate (\\u{code:04x})")

    def _mapping(self, node: CommentedMap, pointer: str, depth: int) -> dict[str, Any]:
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
            result[name] = self.plain(value, child, depth)
        return result

    def _sequence(self, node: CommentedSeq, pointer: str, depth: int) -> list[Any]:
        result: list[Any] = []
        for index, value in enumerate(node):
            child = join_pointer(pointer, index)
            place = node.lc.data.get(index)
            if place is not None:
                self.positions[child] = (place[0] + 1, place[1] + 1)
            result.append(self.plain(value, child, depth))
        return result

    def _key(self, key: Any, pointer: str) -> str:
        # JSON object keys are strings; scalar keys are written as JSON would write them.
        if isinstance(key, str):
            return self._text(key, pointer)
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

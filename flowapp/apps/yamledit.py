"""Adding a function to ``flowapp.yaml`` without disturbing anything else in the file.

A user's ``flowapp.yaml`` carries comments, aligned flow mappings and their own
indentation. A round trip through ruamel.yaml keeps the comments but re-spaces flow
mappings and may move a trailing comment, so the first choice is a text edit: ruamel
(round-trip mode) only tells where ``spec.functions`` and its neighbours are, and the new
entry is inserted as one line, in the style of the entries around it
(``name: {runtime: python, path: functions/name}``). Every edit is verified by parsing
the result: its data must be the original data plus the new entry, nothing else. Only if
the text edit does not apply (an unusual layout) does a full round trip write the file.
"""

from __future__ import annotations

import copy
import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from flowapp.apps.errors import ScaffoldError
from flowapp.dsl.problems import DefinitionError
from flowapp.dsl.source import parse_text

_EMPTY_FUNCTIONS = re.compile(r"^(\s*functions\s*:)\s*(?:\{\s*\})?(\s*#.*)?$")


def add_function_entry(text: str, name: str, entry: dict[str, str]) -> str:
    """``text`` of a flowapp.yaml with ``spec.functions.<name>: entry`` added."""
    original = _data(text)
    spec = original.get("spec")
    if not isinstance(spec, dict):
        raise ScaffoldError("flowapp.yaml has no `spec` mapping to add the function to")
    functions = spec.get("functions") or {}
    if not isinstance(functions, dict):
        raise ScaffoldError("`spec.functions` in flowapp.yaml is not a mapping")
    if name in functions:
        raise ScaffoldError(f"function `{name}` is already declared in flowapp.yaml")
    expected = copy.deepcopy(original)
    expected["spec"]["functions"] = {**functions, name: entry}
    for edit in (_text_edit, _round_trip):
        edited = edit(text, name, entry)
        if edited is not None and _same(edited, expected):
            return edited
    line = _entry_line(name, entry)
    raise ScaffoldError(f"could not edit flowapp.yaml; add under spec.functions: {line}")


def _entry_line(name: str, entry: dict[str, str]) -> str:
    return f"{name}: {{{', '.join(f'{key}: {value}' for key, value in entry.items())}}}"


def _text_edit(text: str, name: str, entry: dict[str, str]) -> str | None:
    try:
        return _insert(text, _entry_line(name, entry))
    except (KeyError, IndexError, TypeError):  # a layout the line positions do not describe
        return None


def _insert(text: str, line: str) -> str | None:
    root = _yaml().load(text)
    spec = root["spec"]
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    functions = spec.get("functions")
    if isinstance(functions, CommentedMap) and functions and not functions.fa.flow_style():
        _append(lines, root, functions, line + newline)
    elif "functions" in spec and not functions:
        if not _fill(lines, root, line, newline):
            return None
    elif not _declare(lines, root, line, newline):
        return None
    return "".join(lines)


def _append(lines: list[str], root: CommentedMap, functions: CommentedMap, line: str) -> None:
    """After the last content line of the last entry, at the entries' indentation."""
    indent = functions.lc.key(next(iter(functions)))[1]
    last = functions.lc.key(list(functions)[-1])[0]
    later = [m.lc.key(k)[0] for m in (root, root["spec"]) for k in m if m.lc.key(k)[0] > last]
    end = last
    for index in range(last, min(later, default=len(lines))):
        text = lines[index]
        stripped = text.strip()
        # A comment indented under the last entry is part of it; one at the entries' own
        # level or above introduces what follows, so the new entry goes before it.
        inner = len(text) - len(text.lstrip()) > indent
        if stripped and (not stripped.startswith("#") or inner):
            end = index
    lines.insert(end + 1, " " * indent + line)


def _fill(lines: list[str], root: CommentedMap, line: str, newline: str) -> bool:
    """``functions:`` or ``functions: {}`` becomes a block holding the entry."""
    number, column = root["spec"].lc.key("functions")
    match = _EMPTY_FUNCTIONS.match(lines[number].rstrip("\r\n"))
    if match is None:
        return False
    lines[number] = match[1] + (match[2] or "") + newline
    lines.insert(number + 1, " " * (column + _step(root, column)) + line + newline)
    return True


def _declare(lines: list[str], root: CommentedMap, line: str, newline: str) -> bool:
    """No ``functions`` key: add one just above the workflow and the comments over it."""
    spec = root["spec"]
    anchor = next((key for key in ("workflow", "workflowRef") if key in spec), None)
    if anchor is None:
        return False
    number, column = spec.lc.key(anchor)
    while number > 0 and lines[number - 1].strip().startswith("#"):
        number -= 1
    child = " " * (column + _step(root, column))
    lines[number:number] = [" " * column + "functions:" + newline, child + line + newline]
    return True


def _step(root: CommentedMap, column: int) -> int:
    """The file's indentation step, as far as ``spec``'s own keys show it."""
    step = column - root.lc.key("spec")[1]
    return step if step > 0 else 2


def _round_trip(text: str, name: str, entry: dict[str, str]) -> str | None:
    yaml = _yaml()
    yaml.indent(mapping=2, sequence=4, offset=2)
    root = yaml.load(text)
    functions = root["spec"].get("functions")
    if not isinstance(functions, CommentedMap):
        functions = root["spec"]["functions"] = CommentedMap()
    functions.fa.set_block_style()
    value = CommentedMap(entry)
    value.fa.set_flow_style()
    functions[name] = value
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a user's long lines
    return yaml


def _data(text: str) -> dict[str, Any]:
    try:
        return parse_text(text, "flowapp.yaml").data
    except DefinitionError as error:
        raise ScaffoldError(f"flowapp.yaml cannot be read:\n{error}") from None


def _same(text: str, expected: dict[str, Any]) -> bool:
    try:
        return parse_text(text).data == expected
    except DefinitionError:
        return False

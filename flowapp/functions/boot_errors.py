"""The author's own error in what a function process printed when it failed to start.

A function that cannot load (a syntax error, an import that fails, an exception at the
top of the module) dies with a Python traceback or a Node.js stack whose first frames are
flowapp's host. What its author needs is the last frame in *their* folder and the error:

    functions/hello/main.py:1: SyntaxError: expected ':'
        def handle(data, context)
                                 ^

``user_error(lines, folder)`` finds that in the output lines (Python tracebacks; Node.js
syntax errors, whose first line is ``/path/index.js:2``, and stacks, ``at … (/path:3:9)``).
Pure: text in, a record out; ``None`` when no frame is in ``folder``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PYTHON_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)')
NODE_HEADER = re.compile(r"^(?P<path>/[^:]+):(?P<line>\d+)$")
NODE_FRAME = re.compile(r"^\s*at (?:.*\()?(?P<path>/[^():]+):(?P<line>\d+):\d+\)?$")
ERROR_LINE = re.compile(
    r"^(?:[A-Za-z_][\w.]*\.)?(?:[A-Z]\w*)?(?:Error|Exception|Exit|Interrupt)\b(:.*)?$"
)


@dataclass(frozen=True, slots=True)
class UserError:
    path: Path  # as found in the output (absolute)
    line: int
    message: str  # "SyntaxError: expected ':'"
    excerpt: list[str] = field(default_factory=list)  # the code line and its caret, if shown

    def describe(self, relative_to: Path | None = None) -> str:
        shown = _relative(self.path, relative_to) if relative_to is not None else str(self.path)
        return f"{shown}:{self.line}: {self.message}"


def user_error(lines: Sequence[str], folder: Path) -> UserError | None:
    """The last frame of ``lines`` in ``folder``, with the error message and excerpt."""
    inside = _Inside(folder)
    frame = _python_frame(lines, inside) or _node_frame(lines, inside)
    if frame is None:
        return None
    index, path, line = frame
    message = _message(lines)
    return UserError(Path(path), line, message or "failed", _excerpt(lines, index))


def _python_frame(lines: Sequence[str], inside: _Inside) -> tuple[int, str, int] | None:
    found = None
    for index, text in enumerate(lines):
        match = PYTHON_FRAME.match(text)
        if match and inside(match["path"]):
            found = (index, match["path"], int(match["line"]))
    return found


def _node_frame(lines: Sequence[str], inside: _Inside) -> tuple[int, str, int] | None:
    """Node prints the innermost frame first: a syntax error's header, else the stack."""
    for index, text in enumerate(lines):
        match = NODE_HEADER.match(text.strip()) or NODE_FRAME.match(text)
        if match and inside(match["path"]):
            return index, match["path"], int(match["line"])
    return None


def _message(lines: Sequence[str]) -> str | None:
    """Python's last error line, or Node's first (its stack follows it)."""
    errors = [text.strip() for text in lines if ERROR_LINE.match(text.strip())]
    if not errors:
        return None
    python = any(PYTHON_FRAME.match(text) for text in lines)
    return errors[-1] if python else errors[0]


def _excerpt(lines: Sequence[str], index: int) -> list[str]:
    """The indented code line (and caret line) printed right after the frame."""
    excerpt: list[str] = []
    for text in lines[index + 1 : index + 4]:
        stripped = text.strip()
        if not stripped or ERROR_LINE.match(stripped) or PYTHON_FRAME.match(text):
            break
        if NODE_FRAME.match(text):
            break
        excerpt.append(text.rstrip())
    return excerpt


class _Inside:
    """Whether a path printed in the output is under the function's folder (a revision
    folder may be a link to it: both the path as given and as resolved count)."""

    def __init__(self, folder: Path) -> None:
        self.roots = {os.path.normpath(str(folder)), os.path.realpath(folder)}

    def __call__(self, path: str) -> bool:
        candidates = {os.path.normpath(path), os.path.realpath(path)}
        return any(c.startswith(root + os.sep) for c in candidates for root in self.roots)


def _relative(path: Path, base: Path) -> str:
    for candidate, root in ((path, base), (Path(os.path.realpath(path)), base.resolve())):
        try:
            return str(candidate.relative_to(root))
        except ValueError:
            continue
    return str(path)

"""Runtime expressions: jq programs compiled once, evaluated many times.

A jq program is compiled once per definition (compiling costs about 200 evaluations).
jq binds ``$variables`` at compile time, so each expression is compiled inside a wrapper
that destructures an array: ``. as [$__in, $context, $item] | $__in | (SOURCE)``. At
evaluation only the variables the source mentions are packed into that array, which keeps
large values such as ``$workflow.definition`` out of the hot path unless asked for.

Strings are expressions in two ways (Serverless Workflow ``strict`` mode):
- the whole string is ``${ ... }``: the expression's result, of any JSON type;
- the string embeds ``${ ... }`` among text: each result is spliced into the text.
Fields that are always expressions (``if``, ``when``, ``for.in``, ``output.as`` ...) also
accept bare jq, as the conformance kit writes them. In ``loose`` mode any string is tried
as an expression and falls back to itself when it does not compile or fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import jq

# jq's own special variables: bound by jq itself, never by us.
_JQ_BUILTIN_VARIABLES = frozenset({"ENV", "__loc__", "__prog_args"})
_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# ``$secrets.name`` and ``$secrets["name"]``: the secrets an expression reads by name.
SECRET_READ = re.compile(r"\$secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*\"([^\"]*)\"\s*\])")
_INPUT_VARIABLE = "__flowapp_in"


class ExpressionError(Exception):
    """An expression that does not compile or fails to evaluate. ``kind`` is the spec's
    error kind the task faults with (``expression``, status 400)."""

    kind = "expression"

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(f"{message} (in expression `{source}`)")


class SecretUnavailable(ExpressionError):
    """The expression reads a secret by name that the runtime did not supply: the spec's
    authorization error (status 403), never a silent ``null``."""

    kind = "authorization"

    def __init__(self, source: str, name: str) -> None:
        super().__init__(
            source, f"secret `{name}` is declared in use.secrets, but no value was supplied for it"
        )
        self.name = name


def secrets_read(source: str) -> tuple[str, ...]:
    """The secrets a jq source reads by name, in first-seen order."""
    found = (match.group(1) or match.group(2) for match in SECRET_READ.finditer(source))
    return tuple(dict.fromkeys(found))


class Scope(Protocol):
    """Provides the values of ``$variables`` by name; unknown names give ``None``."""

    def lookup(self, name: str) -> Any: ...


class MappingScope:
    """A scope over a plain mapping, for tests and simple callers."""

    __slots__ = ("values",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self.values = values or {}

    def lookup(self, name: str) -> Any:
        return self.values.get(name)


EMPTY_SCOPE = MappingScope()


def _first_line_of(message: str) -> str:
    lines = [line for line in message.splitlines() if line.startswith("jq: error")]
    text = lines[0] if lines else message.splitlines()[0] if message else "invalid jq"
    return text.removeprefix("jq: error: ").split(" at <top-level>")[0]


def _wrap(source: str, variables: tuple[str, ...]) -> str:
    if not variables:
        return source
    names = ", ".join(f"${name}" for name in (_INPUT_VARIABLE, *variables))
    return f". as [{names}] | ${_INPUT_VARIABLE} | (\n{source}\n)"


@dataclass(frozen=True, slots=True, eq=False)
class Expression:
    """A compiled jq program; ``evaluate`` returns its first result (``None`` if it has none)."""

    source: str
    variables: tuple[str, ...]
    _program: Any
    secrets: tuple[str, ...] = ()  # read by name: each must be supplied

    def evaluate(self, value: Any, scope: Scope = EMPTY_SCOPE) -> Any:
        try:
            if self.variables:
                packed = [value, *(scope.lookup(name) for name in self.variables)]
                if self.secrets:
                    self._check_secrets(packed[1 + self.variables.index("secrets")])
                return self._program.input_value(packed).first()
            return self._program.input_value(value).first()
        except StopIteration:
            return None
        except ValueError as exc:
            raise ExpressionError(self.source, str(exc)) from None
        except TypeError as exc:  # a value jq cannot take (not JSON)
            raise ExpressionError(self.source, f"cannot evaluate on this value: {exc}") from None

    def _check_secrets(self, supplied: Any) -> None:
        available = supplied if isinstance(supplied, Mapping) else {}
        for name in self.secrets:
            if name not in available:
                raise SecretUnavailable(self.source, name)


def referenced_variables(source: str) -> tuple[str, ...]:
    """The ``$names`` a jq source mentions, in first-seen order, without jq's own."""
    seen: dict[str, None] = {}
    for name in _VARIABLE.findall(source):
        if name not in _JQ_BUILTIN_VARIABLES:
            seen.setdefault(name, None)
    return tuple(seen)


_compiled: dict[str, Expression] = {}


def compile_expression(source: str) -> Expression:
    """Compile bare jq. Identical sources share one program (programs are immutable)."""
    cached = _compiled.get(source)
    if cached is not None:
        return cached
    variables = referenced_variables(source)
    try:
        program = jq.compile(_wrap(source, variables))
    except ValueError:
        # Compile the bare source again only to report a message about the user's text.
        try:
            jq.compile(source)
        except ValueError as exc:
            raise ExpressionError(source, _first_line_of(str(exc))) from None
        raise ExpressionError(source, "does not compile") from None
    secrets = secrets_read(source) if "secrets" in variables else ()
    expression = Expression(source, variables, program, secrets)
    _compiled[source] = expression
    return expression


# --- finding ${ } in strings ---------------------------------------------------------


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` that closes the ``${`` at ``start``, or -1. Skips jq strings."""
    depth = 0
    index = start + 2
    in_string = False
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return -1


def split_interpolation(text: str) -> list[str | tuple[str]] | None:
    """Split text into literal parts and ``(source,)`` expression parts; None if no ``${``.

    Raises ``ExpressionError`` for an unterminated ``${``.
    """
    if "${" not in text:
        return None
    parts: list[str | tuple[str]] = []
    position = 0
    while True:
        start = text.find("${", position)
        if start < 0:
            break
        end = _closing_brace(text, start)
        if end < 0:
            raise ExpressionError(text, "unterminated `${`")
        if start > position:
            parts.append(text[position:start])
        parts.append((text[start + 2 : end].strip(),))
        position = end + 1
    if position < len(text):
        parts.append(text[position:])
    return parts


def strict_source(text: str) -> str | None:
    """The jq source of a string that is entirely ``${ ... }``, else None."""
    stripped = text.strip()
    if not stripped.startswith("${"):
        return None
    end = _closing_brace(stripped, 0)
    if end != len(stripped) - 1:
        return None
    return stripped[2:end].strip()


def expression_source(text: str) -> str:
    """The jq source of a field that is always an expression: ``${ x }`` or bare ``x``."""
    inner = strict_source(text)
    return inner if inner is not None else text.strip()


# --- templates: JSON values with expressions inside ----------------------------------


class Template(Protocol):
    """A JSON value, possibly with expressions inside, evaluated against data and a scope."""

    @property
    def is_constant(self) -> bool: ...

    def render(self, value: Any, scope: Scope) -> Any: ...


@dataclass(frozen=True, slots=True)
class Constant:
    value: Any
    is_constant: bool = True

    def render(self, value: Any, scope: Scope) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class Evaluated:
    expression: Expression
    is_constant: bool = False

    def render(self, value: Any, scope: Scope) -> Any:
        return self.expression.evaluate(value, scope)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Interpolated:
    parts: tuple[str | Expression, ...]
    is_constant: bool = False

    def render(self, value: Any, scope: Scope) -> Any:
        return "".join(
            part if isinstance(part, str) else _as_text(part.evaluate(value, scope))
            for part in self.parts
        )


@dataclass(frozen=True, slots=True)
class Loose:
    """``loose`` mode: try the string as jq; on any failure it is just the string."""

    text: str
    is_constant: bool = False

    def render(self, value: Any, scope: Scope) -> Any:
        try:
            return compile_expression(self.text).evaluate(value, scope)
        except SecretUnavailable:
            raise
        except ExpressionError:
            return self.text


@dataclass(frozen=True, slots=True)
class ObjectTemplate:
    fields: tuple[tuple[str, Template], ...]
    is_constant: bool = False

    def render(self, value: Any, scope: Scope) -> Any:
        return {key: template.render(value, scope) for key, template in self.fields}


@dataclass(frozen=True, slots=True)
class ArrayTemplate:
    items: tuple[Template, ...]
    is_constant: bool = False

    def render(self, value: Any, scope: Scope) -> Any:
        return [template.render(value, scope) for template in self.items]


def compile_string(text: str, *, loose: bool = False) -> Template:
    source = strict_source(text)
    if source is not None:
        return Evaluated(compile_expression(source))
    parts = split_interpolation(text)
    if parts is not None:
        return Interpolated(
            tuple(p if isinstance(p, str) else compile_expression(p[0]) for p in parts)
        )
    return Loose(text) if loose else Constant(text)


def compile_template(value: Any, *, loose: bool = False) -> Template:
    """Compile a JSON value whose strings may hold expressions. Constant parts stay shared."""
    if isinstance(value, str):
        return compile_string(value, loose=loose)
    if isinstance(value, dict):
        fields = tuple((str(k), compile_template(v, loose=loose)) for k, v in value.items())
        if all(t.is_constant for _, t in fields):
            return Constant(value)
        return ObjectTemplate(fields)
    if isinstance(value, list):
        items = tuple(compile_template(v, loose=loose) for v in value)
        if all(t.is_constant for t in items):
            return Constant(value)
        return ArrayTemplate(items)
    return Constant(value)


def compile_always_expression(value: Any, *, loose: bool = False) -> Template:
    """A field that is always an expression when a string (bare jq allowed); else a template."""
    if isinstance(value, str):
        return Evaluated(compile_expression(expression_source(value)))
    return compile_template(value, loose=loose)


def each_expression_source(value: Any) -> list[str]:
    """Every jq source written with ``${ }`` inside a JSON value (for validation)."""
    found: list[str] = []

    def visit(item: Any) -> None:
        if isinstance(item, str):
            source = strict_source(item)
            if source is not None:
                found.append(source)
                return
            parts = split_interpolation(item)
            for part in parts or ():
                if isinstance(part, tuple):
                    found.append(part[0])
        elif isinstance(item, dict):
            for child in item.values():
                visit(child)
        elif isinstance(item, list):
            for child in item:
                visit(child)

    visit(value)
    return found


def truthy(value: Any) -> bool:
    """jq truthiness: everything but ``false`` and ``null``."""
    return value is not None and value is not False


Renderer = Callable[[Any, Scope], Any]

"""Validation against the official Serverless Workflow schema, with messages a person can act on.

The official JSON Schema (``schema/workflow.yaml``, copied unchanged) describes a task as
``oneOf`` twelve task types, and a call as ``oneOf`` seven call types. Given to jsonschema
as is, it has two problems: one wrong key gives "is not valid under any of the given
schemas" with the failures of every alternative, and validation time grows exponentially
with nesting (``unevaluatedProperties`` re-validates every alternative of every enclosing
task: a ``do`` five levels deep took 14 s).

So the validator is built from an equivalent form of the official schema (built once, on
first use, from package data): ``task`` and ``callTask`` become if/then chains that pick
the one alternative a task's key (``call``, ``set``, ``for`` ...) or a call's value
(``http``, ``grpc`` ... or a custom function) can satisfy, and each alternative's
``allOf: [taskBase, {properties}]`` becomes one ``properties``. Every alternative requires
its own key and forbids undeclared keys, so this accepts exactly what the official schema
accepts (the conformance tests check it on every example and invalid fixture). The errors
then belong to the alternative the author meant, and this module rewrites them:

- for the remaining ``oneOf``/``anyOf`` (durations, endpoints, policies ...), alternatives
  whose JSON type does not fit are dropped and the one sharing most keys is explained;
- ``unevaluatedProperties`` names only the keys no alternative declares;
- a missing property inside a task is reported at the task, named by its path from there
  (``/do/1/x: missing required property 'with.method'``).

It is longer than most modules because the messages and the equivalence belong together.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from flowapp.dsl.problems import Problem, join_pointer
from flowapp.dsl.source import SourceDocument

TASK_TYPES = (
    *("call", "do", "emit", "for", "fork", "listen"),
    *("raise", "run", "set", "switch", "try", "wait"),
)
BUILTIN_CALLS = ("http", "openapi", "grpc", "asyncapi", "a2a", "mcp")
NEWEST_DSL = (1, 0, 3)

Path = tuple[str | int, ...]
Finding = tuple[str, str]  # (JSON pointer, message)

_TYPE_NAMES = {
    "object": "an object (mapping)",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "null": "null",
}
_NAME_RULE = "letters, digits and '-', at most 63, starting and ending with a letter or digit"
_PATTERN_MESSAGES = {
    "WorkflowDSL": "is not a semantic version such as 1.0.3",
    "WorkflowVersion": "is not a semantic version such as 1.0.0",
    "WorkflowNamespace": f"is not a valid namespace ({_NAME_RULE})",
    "WorkflowName": f"is not a valid name ({_NAME_RULE})",
    "RuntimeExpression": "is not a runtime expression `${ ... }`",
    "WithGRPCServiceHost": "is not a valid host name",
}
_URI = "an absolute URI such as https://example.com/path"
_NOUNS = {  # what an alternative accepts, by $ref name or title
    "runtimeExpression": "a runtime expression `${ ... }`",
    "uriTemplate": _URI,
    "LiteralUriTemplate": _URI,
    "LiteralUri": _URI,
    "DurationLiteral": "an ISO 8601 duration such as PT30S or P1DT2H",
}
_SUBJECTS = {"duration": "a valid duration", "endpoint": "a valid endpoint", "uriTemplate": "a URI"}
_ITEMS = {  # the one-key mappings that make up lists: (item, what it holds)
    "TaskItem": ("a task list item", "task"),
    "SwitchItem": ("a switch item", "case"),
    "ExtensionItem": ("an extension item", "extension"),
}
_TASK_LIST_KEYS = frozenset({"do", "try", "branches", "before", "after"})
_UNKNOWN_TASK: dict[str, Any] = {"not": {}}  # the last `else`: no task type key at all
_NOT_A_TASK: dict[str, Any] = {"type": "object"}  # a task that is not even a mapping
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")


def check_schema(doc: SourceDocument) -> list[Problem]:
    """Problems against the official schema, plus an unsupported ``document.dsl``."""
    return _in_file_order([*official_schema_problems(doc), *check_dsl_version(doc)])


def official_schema_problems(doc: SourceDocument) -> list[Problem]:
    """Exactly the official schema's verdict, in readable words (empty when it accepts)."""
    schema = _official()
    errors = list(schema.validator.iter_errors(doc.data))
    reporter = _Reporter(schema, doc.data)
    findings = dict.fromkeys(f for error in errors for f in reporter.explain(error))
    if errors and not findings:  # never let a rejection pass silently
        error = best_match(errors)
        findings = {(_pointer(error), error.message): None}
    return _in_file_order(doc.problem(pointer, message) for pointer, message in findings)


def check_dsl_version(doc: SourceDocument) -> list[Problem]:
    """``document.dsl`` must be 1.0.0 to 1.0.3; the schema's pattern accepts any semver."""
    document = doc.data.get("document")
    version = document.get("dsl") if isinstance(document, dict) else None
    match = _SEMVER.match(version) if isinstance(version, str) else None
    if match is None:
        return []  # absent or malformed: the schema reports it
    numbers = tuple(int(part) for part in match.groups())
    if numbers[0] == 1 and numbers <= NEWEST_DSL:
        return []
    message = f"unsupported DSL version {version}; flowapp reads 1.0.0 to 1.0.3"
    return [doc.problem("/document/dsl", message)]


def _in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line, p.column, p.pointer))


class _Schema:
    """The official schema in its discriminated form, and what the reporter needs to know."""

    def __init__(self, official: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = dict(official["$defs"])
        self.def_names = {id(value): name for name, value in self.defs.items()}
        self.task_branches: set[int] = set()  # ids of the discriminated task alternatives
        self._discriminate()
        self.validator = Draft202012Validator({**official, "$defs": self.defs})
        self._declared: dict[int, frozenset[str]] = {}

    def _discriminate(self) -> None:
        """Replace ``task`` and ``callTask`` by if/then chains choosing the alternative by key.

        Equivalent to the official ``oneOf``: every task alternative requires its own key and
        forbids undeclared keys, so only the alternative named by the task's key can hold.
        """
        base = self.defs["taskBase"]
        names = [_ref_name(b) for b in self.defs["task"]["oneOf"]]
        for name in names:
            self.defs[name] = self._flat(self.defs[name], base)
        calls = [self._flat(b, base) for b in self.defs["callTask"]["oneOf"]]
        chain: dict[str, Any] = next(c for c in calls if _call_const(c) is None)
        for branch in (c for c in reversed(calls) if _call_const(c) is not None):
            test = {"properties": {"call": {"const": _call_const(branch)}}, "required": ["call"]}
            chain = {"if": test, "then": branch, "else": chain}
        self.defs["callTask"] = chain
        kinds = sorted(
            (n.removesuffix("Task") for n in names), key=lambda k: k not in ("for", "try")
        )
        chain = _UNKNOWN_TASK
        for kind in reversed(kinds):  # `for` and `try` first: their tasks also hold `do`/`catch`
            chain = {
                "if": {"required": [kind]},
                "then": {"$ref": f"#/$defs/{kind}Task"},
                "else": chain,
            }
        self.defs["task"] = {"if": {"type": "object"}, "then": chain, "else": _NOT_A_TASK}

    def _flat(self, branch: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
        """``allOf: [taskBase, {properties}]`` as one ``properties``: the same language, but
        ``unevaluatedProperties`` no longer re-validates every subtree (exponential in depth)."""
        parts = branch.get("allOf")
        if not (isinstance(parts, list) and len(parts) == 2 and set(parts[1]) == {"properties"}):
            return branch
        own, inherited = parts[1]["properties"], base["properties"]
        if parts[0] != {"$ref": "#/$defs/taskBase"} or set(own) & set(inherited):
            return branch
        flat = {key: value for key, value in branch.items() if key != "allOf"}
        flat["properties"] = {**inherited, **own}
        self.task_branches.add(id(flat))
        return flat

    def declared(self, schema: Any) -> frozenset[str]:
        """Property names a schema declares, through $ref and every applicator."""
        if not isinstance(schema, dict):
            return frozenset()
        cached = self._declared.get(id(schema))
        if cached is None:
            names = set(schema.get("properties", {}))
            if "$ref" in schema:
                names |= self.declared(self.defs[_ref_name(schema)])
            for keyword in ("allOf", "anyOf", "oneOf"):
                for sub in schema.get(keyword, ()):
                    names |= self.declared(sub)
            for keyword in ("then", "else"):
                names |= self.declared(schema.get(keyword))
            cached = self._declared[id(schema)] = frozenset(names)
        return cached

    def resolve(self, schema: Any) -> Any:
        while isinstance(schema, dict) and "$ref" in schema and len(schema) == 1:
            schema = self.defs[_ref_name(schema)]
        return schema


def _ref_name(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[-1]


def _call_const(branch: dict[str, Any]) -> str | None:
    properties = (
        branch["properties"] if "properties" in branch else branch["allOf"][1]["properties"]
    )
    const = properties["call"].get("const")  # None for the custom function alternative
    return None if const is None else str(const)


@functools.cache
def _official() -> _Schema:
    # workflow.json is workflow.yaml as JSON (a test keeps them equal): the JSON loads in
    # 2 ms, the YAML took 0.4-0.5 s with the pure-Python parser, on every CLI command.
    text = resources.files("flowapp.dsl").joinpath("schema/workflow.json").read_text("utf-8")
    return _Schema(json.loads(text))


def _pointer(error: ValidationError) -> str:
    return join_pointer("", *error.absolute_path)


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return f"`{text if len(text) <= 60 else text[:57] + '...'}`"


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return _TYPE_NAMES["boolean"]
    names = {dict: "object", list: "array", str: "string", int: "integer", float: "number"}
    return _TYPE_NAMES[names.get(type(value), "null")]


def _either(options: list[str]) -> str:
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def _branches(error: ValidationError) -> dict[int, list[ValidationError]]:
    groups: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        groups.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    return groups


def _wrong_type(error: ValidationError) -> bool:
    """True if the error says the value has the wrong JSON type for its whole alternative."""
    if error.relative_path:
        return False
    if error.validator == "type":
        return True
    if error.validator in ("oneOf", "anyOf") and error.context:
        return all(any(map(_wrong_type, g)) for g in _branches(error).values())
    return False


def _expected_types(errors: Iterable[ValidationError]) -> list[str]:
    found: dict[str, None] = {}
    for error in errors:
        if error.relative_path:
            continue
        if error.validator == "type":
            types = error.validator_value
            found.update(dict.fromkeys([types] if isinstance(types, str) else types))
        elif error.context:
            found.update(dict.fromkeys(_expected_types(error.context)))
    return list(found)


def _task_anchor(path: Path) -> Path | None:
    """The path of the task that holds ``path`` (task lists sit under these keys)."""
    for end in range(len(path), 2, -1):
        head = path[:end]
        if isinstance(head[-2], int) and head[-3] in _TASK_LIST_KEYS:
            return head
        if end == 3 and head[:2] == ("use", "functions"):
            return head
    return None


class _Reporter:
    """Turns jsonschema errors into (pointer, message) findings, one alternative at a time."""

    def __init__(self, schema: _Schema, data: Any) -> None:
        self.schema = schema
        self.data = data

    def explain(self, error: ValidationError) -> Iterator[Finding]:
        if error.validator in ("oneOf", "anyOf"):
            yield from self._alternatives(error)
        elif error.validator == "unevaluatedProperties":
            yield from self._unknown(error)
        elif error.schema is _UNKNOWN_TASK:
            yield _pointer(error), "unknown task type: expected one of " + ", ".join(TASK_TYPES)
        elif error.schema is _NOT_A_TASK:
            yield _pointer(error), f"a task must be a mapping, found {_type_name(error.instance)}"
        else:
            yield from self._leaf(error)

    def _alternatives(self, error: ValidationError) -> Iterator[Finding]:
        if not error.context:  # oneOf matched more than one alternative
            message = self._ambiguous(error)
            if message is not None:
                yield _pointer(error), message
            return
        groups = _branches(error)
        fitting = [i for i, errors in groups.items() if not any(map(_wrong_type, errors))]
        if not fitting:
            expected = [_TYPE_NAMES.get(t, t) for t in _expected_types(error.context)]
            found = _type_name(error.instance)
            yield _pointer(error), f"expected {_either(expected)}, found {found}"
            return
        message = self._scalar_message(error, fitting)
        if message is not None:
            yield _pointer(error), message
            return
        best = self._best(error.instance, fitting, groups, error.validator_value)
        if best is None:
            yield self._missing(error, [_root_required(groups[i]) for i in fitting])
            return
        for sub in groups[best]:
            yield from self.explain(sub)

    def _scalar_message(self, error: ValidationError, fitting: list[int]) -> str | None:
        """For a scalar several alternatives could take, say what each accepts."""
        if isinstance(error.instance, dict | list) or len(fitting) < 2:
            return None
        alternatives = error.validator_value
        names = [_ref_name(a) if "$ref" in a else str(a.get("title")) for a in alternatives]
        if any(names[i] not in _NOUNS for i in fitting):
            return None
        nouns = list(dict.fromkeys(_NOUNS[names[i]] for i in fitting))
        nouns.sort(key=lambda noun: noun == _NOUNS["runtimeExpression"])  # the usual form first
        subject = _SUBJECTS.get(self.schema.def_names.get(id(error.schema), ""), "valid here")
        return f"{_show(error.instance)} is not {subject}: expected {_either(nouns)}"

    def _best(
        self,
        instance: Any,
        fitting: list[int],
        groups: dict[int, list[ValidationError]],
        alternatives: list[Any],
    ) -> int | None:
        """The alternative the author most likely meant; None if only required keys tell."""
        if not isinstance(instance, dict):
            return min(fitting, key=lambda i: len(groups[i]))
        keys = set(instance)
        overlap = {i: len(keys & self.schema.declared(alternatives[i])) for i in fitting}
        if max(overlap.values()) == 0 and all(_root_required(groups[i]) for i in fitting):
            return None
        return max(fitting, key=lambda i: (overlap[i], -len(_root_required(groups[i]))))

    def _missing(self, error: ValidationError, options: list[list[str]]) -> Finding:
        """A missing property, reported at the task (or list item) that holds the object."""
        path = tuple(error.absolute_path)
        base: Path = path
        anchor = _task_anchor(path)
        if anchor is not None:
            relative = path[len(anchor) :]
            items = [i + 1 for i, token in enumerate(relative) if isinstance(token, int)]
            base = anchor + relative[: max(items, default=0)]
        prefix = "".join(f"{token}." for token in path[len(base) :])
        names = [" and ".join(f"'{prefix}{name}'" for name in option) for option in options]
        if len(names) == 1:
            noun = "property" if len(options[0]) == 1 else "properties"
            return join_pointer("", *base), f"missing required {noun} {names[0]}"
        return join_pointer("", *base), "missing required properties: either " + ", or ".join(names)

    def _unknown(self, error: ValidationError) -> Iterator[Finding]:
        declared = self.schema.declared(error.schema)
        if id(error.schema) in self.schema.task_branches:
            task = error.instance
            kinds = [k for k in task if k in TASK_TYPES and (k, "for" in task) != ("do", True)]
            if len(kinds) > 1:
                yield (
                    _pointer(error),
                    f"a task must have exactly one type, found {', '.join(kinds)}",
                )
                declared |= frozenset(kinds)
        for key in error.instance:
            if key in declared:
                continue
            close = difflib.get_close_matches(key, declared, n=1)
            if close:
                hint = f"; did you mean '{close[0]}'?"
            else:
                hint = f" (expected one of: {', '.join(sorted(declared))})" if declared else ""
            yield join_pointer(_pointer(error), key), f"unknown property '{key}'{hint}"

    def _ambiguous(self, error: ValidationError) -> str | None:
        alternatives = [self.schema.resolve(a) for a in error.validator_value]
        required = [a.get("required", []) for a in alternatives]
        if not isinstance(error.instance, dict) and all("type" not in a for a in alternatives):
            return None  # alternatives about keys hold for any non-object; its `type` error tells
        if isinstance(error.instance, dict) and all(len(r) == 1 for r in required):
            keys = [r[0] for r in required]
            found = [k for k in keys if k in error.instance]
            return f"expected exactly one of {', '.join(keys)}, found {', '.join(found)}"
        titles = ", ".join(str(a.get("title", "?")) for a in alternatives)
        return f"matches more than one alternative ({titles}) where exactly one is allowed"

    def _leaf(self, error: ValidationError) -> Iterator[Finding]:
        pointer, rule = _pointer(error), error.validator_value
        if error.validator == "required":
            yield self._missing(error, [_missing_keys(error)])
        elif error.validator == "not" and isinstance(rule, dict) and "required" in rule:
            for key in (k for k in rule["required"] if k in error.instance):
                yield join_pointer(pointer, key), f"property '{key}' is not allowed here"
        elif error.validator is None:  # a `false` schema
            yield from self._forbidden(error)
        else:
            yield pointer, _leaf_message(error)

    def _forbidden(self, error: ValidationError) -> Iterator[Finding]:
        # jsonschema reports a property's `false` schema at the object, not at the property
        container = self.data
        for token in error.absolute_path:
            container = container[token]
        pointer = _pointer(error)
        if isinstance(container, dict) and container is not error.instance:
            key = next((k for k, v in container.items() if v is error.instance), None)
            if key is not None:
                yield join_pointer(pointer, key), f"property '{key}' is not allowed here"
                return
        yield pointer, "this value is not allowed here"


def _missing_keys(error: ValidationError) -> list[str]:
    return [key for key in error.validator_value if key not in error.instance]


def _root_required(errors: list[ValidationError]) -> list[str]:
    """Keys an alternative requires that the value lacks (its own, not its children's)."""
    missing: dict[str, None] = {}
    for error in errors:
        if error.validator == "required" and not error.relative_path:
            missing.update(dict.fromkeys(_missing_keys(error)))
    return list(missing)


def _leaf_message(error: ValidationError) -> str:
    kind, value, rule = error.validator, error.instance, error.validator_value
    if kind == "type" and error.schema.get("title") in _ITEMS:
        item, noun = _ITEMS[error.schema["title"]]
        return f"{item} must be a mapping `name: {{{noun}}}`, found {_type_name(value)}"
    if kind == "type":
        expected = [_TYPE_NAMES[t] for t in ([rule] if isinstance(rule, str) else rule)]
        return f"expected {_either(expected)}, found {_type_name(value)}"
    if kind == "enum":
        return f"{_show(value)} is not one of: {', '.join(map(str, rule))}"
    if kind == "const":
        return f"expected {_show(rule)}, found {_show(value)}"
    if kind == "pattern":
        words = _PATTERN_MESSAGES.get(str(error.schema.get("title", "")))
        return f"{_show(value)} {words or f'does not match the pattern {rule}'}"
    if kind in ("minProperties", "maxProperties"):
        return _size_message(error)
    if kind in ("minItems", "maxItems"):
        bound = "at least" if kind == "minItems" else "at most"
        return f"expected {bound} {rule} item(s), found {len(value)}"
    if kind in ("minimum", "maximum"):
        return f"must be {'at least' if kind == 'minimum' else 'at most'} {rule}"
    if kind == "minLength":
        return "must not be empty" if rule == 1 else f"needs {rule} characters or more"
    return str(error.message)


def _size_message(error: ValidationError) -> str:
    keys = [str(key) for key in error.instance]
    title = str(error.schema.get("title", ""))
    if title in _ITEMS:
        item, noun = _ITEMS[title]
        found = f"{len(keys)}: {', '.join(keys)}" if keys else "none"
        return f"{item} must hold exactly one {noun}, found {found}"
    bound = "at least" if error.validator == "minProperties" else "at most"
    noun = "property" if error.validator_value == 1 else "properties"
    return f"expected {bound} {error.validator_value} {noun}, found {len(keys)}"

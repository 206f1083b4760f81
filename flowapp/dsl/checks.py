"""Checks the schema cannot express: flow targets, references, jq and durations.

``check_semantics`` runs after the official schema has accepted a document, so it may rely
on the structure the schema guarantees (a task list is a list of one-key mappings, ``then``
is a string, ...). It walks every task list (``/do``, nested ``do``, ``for``/``try``/
``catch``/``fork`` lists, ``listen``/subscription ``foreach``, extension ``before``/``after``)
and the reusable functions under ``use``, and reports:

- a flow directive (``then``) naming a task outside its own list, and duplicate task names;
- a reference to a reusable component that ``use`` does not define (errors, retries,
  timeouts, authentications, secrets, functions, catalogs);
- a jq expression that does not compile, whether written as ``${ }`` anywhere or as bare jq
  in a field that is always an expression (``if``, ``when``, ``for.in``, ``output.as`` ...);
- an ISO 8601 duration flowapp cannot run (years and months have no fixed length).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any

from flowapp.dsl.durations import DurationError, parse_iso_duration
from flowapp.dsl.expressions import (
    ExpressionError,
    compile_expression,
    each_expression_source,
    expression_source,
    secrets_read,
    strict_source,
)
from flowapp.dsl.problems import Problem, join_pointer
from flowapp.dsl.schema import BUILTIN_CALLS
from flowapp.dsl.source import SourceDocument

FLOW_KEYWORDS = frozenset({"continue", "exit", "end"})
_CATALOGED = re.compile(r"^[^:@\s]+:[^@\s]+@(?P<catalog>[^@\s]+)$")
_RETRY_DURATIONS = (
    ("delay",),
    ("limit", "attempt", "duration"),
    ("limit", "duration"),
    ("jitter", "from"),
    ("jitter", "to"),
)
_CALL_DURATIONS = {
    "mcp": ("with", "timeout"),
    "asyncapi": ("with", "subscription", "consume", "for"),
}
# Where a task may hold an authentication policy (or a reference to one), by call type.
_AUTH_SITES: dict[str, tuple[tuple[str, ...], ...]] = {
    "http": (("with", "endpoint"),),
    "openapi": (("with",), ("with", "document", "endpoint")),
    "asyncapi": (("with",), ("with", "document", "endpoint")),
    "grpc": (("with", "proto", "endpoint"), ("with", "service")),
    "a2a": (("with", "agentCard", "endpoint"), ("with", "server")),
    "mcp": (("with", "transport", "http", "endpoint"),),
    "run": (("run", "script", "source", "endpoint"),),
    "data": tuple((part, "schema", "resource", "endpoint") for part in ("input", "output")),
}


def check_semantics(
    doc: SourceDocument, *, known_functions: frozenset[str] = frozenset()
) -> list[Problem]:
    """Problems in a schema-valid document, in file order."""
    checker = _Checker(doc, known_functions)
    checker.check_workflow()
    unique = dict.fromkeys(checker.problems)
    return sorted(unique, key=lambda p: (p.line, p.column, p.pointer))


def check_embedded_expressions(doc: SourceDocument) -> list[Problem]:
    """``${ }`` expressions that do not compile, anywhere in a document whose structure
    may be broken (so a user sees these too, not only the schema's problems)."""
    checker = _Checker(doc, frozenset())
    if isinstance(doc.data, dict) and not isinstance(checker.use, dict):
        checker.use = {}
    checker.templates(doc.data, "")
    compile_errors = [p for p in checker.problems if "does not compile" in p.message]
    return sorted(dict.fromkeys(compile_errors), key=lambda p: (p.line, p.column, p.pointer))


def _get(value: Any, *path: str) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


class _Checker:
    def __init__(self, doc: SourceDocument, known_functions: frozenset[str]) -> None:
        self.doc = doc
        self.known_functions = known_functions
        use = doc.data.get("use") if isinstance(doc.data, dict) else None
        self.use: dict[str, Any] = use if isinstance(use, dict) else {}
        self.loose = _get(doc.data, "evaluate", "mode") == "loose"
        self.problems: list[Problem] = []

    def report(self, pointer: str, message: str) -> None:
        self.problems.append(self.doc.problem(pointer, message))

    # --- the walk ------------------------------------------------------------------

    def check_workflow(self) -> None:
        data = self.doc.data
        self.task_list("/do", data["do"])
        for name, task in (self.use.get("functions") or {}).items():
            self.task(join_pointer("/use/functions", name), task, ())
        for index, item in enumerate(self.use.get("extensions") or []):
            for name, extension in item.items():
                pointer = join_pointer("/use/extensions", index, name)
                self.always_expression(join_pointer(pointer, "when"), extension.get("when"))
                for side in ("before", "after"):
                    if side in extension:
                        self.task_list(join_pointer(pointer, side), extension[side])
        self.workflow_settings(data)
        self.templates(data, "")

    def task_list(self, pointer: str, items: list[dict[str, Any]]) -> None:
        names = [next(iter(item)) for item in items]
        first: dict[str, int] = {}
        for index, (name, task) in enumerate(next(iter(item.items())) for item in items):
            task_pointer = join_pointer(pointer, index, name)
            if name in first:
                earlier = join_pointer(pointer, first[name], name)
                message = f"duplicate task name '{name}' in this list (also at {earlier}); "
                self.report(task_pointer, message + "a flow directive naming it is ambiguous")
            first.setdefault(name, index)
            self.task(task_pointer, task, names)

    def task(self, pointer: str, task: dict[str, Any], names: Collection[str]) -> None:
        self.flow_directive(join_pointer(pointer, "then"), task.get("then"), names)
        for index, item in enumerate(task.get("switch") or []):
            for case_name, case in item.items():
                case_pointer = join_pointer(pointer, "switch", index, case_name)
                self.flow_directive(join_pointer(case_pointer, "then"), case.get("then"), names)
                self.always_expression(join_pointer(case_pointer, "when"), case.get("when"))
        self.data_flow(pointer, task)
        self.references(pointer, task)
        self.task_durations(pointer, task)
        self.task_expressions(pointer, task)
        for child_pointer, child in _child_lists(pointer, task):
            self.task_list(child_pointer, child)

    # --- flow ----------------------------------------------------------------------

    def flow_directive(self, pointer: str, target: Any, names: Collection[str]) -> None:
        if not isinstance(target, str) or target in FLOW_KEYWORDS or target in names:
            return
        here = ", ".join(dict.fromkeys(names)) or "none"
        message = f"`then: {target}` targets no task in this list; tasks here: {here} "
        self.report(pointer, message + "(a flow directive may only name a task of its own list)")

    # --- references ----------------------------------------------------------------

    def references(self, pointer: str, task: dict[str, Any]) -> None:
        error = _get(task, "raise", "error")
        if isinstance(error, str):
            self.reference(join_pointer(pointer, "raise", "error"), "error", "errors", error)
        retry = _get(task, "catch", "retry")
        if isinstance(retry, str):
            self.reference(
                join_pointer(pointer, "catch", "retry"), "retry policy", "retries", retry
            )
        timeout = task.get("timeout")
        if isinstance(timeout, str):
            self.reference(join_pointer(pointer, "timeout"), "timeout", "timeouts", timeout)
        call = task.get("call")
        if isinstance(call, str):
            self.function(join_pointer(pointer, "call"), call)
        kinds = [call if call in BUILTIN_CALLS else "", "run" if "run" in task else "", "data"]
        for path in (path for kind in kinds for path in _AUTH_SITES.get(kind, ())):
            self.authentication(join_pointer(pointer, *path, "authentication"), _get(task, *path))

    def reference(self, pointer: str, noun: str, section: str, name: str) -> None:
        defined = self.use.get(section) or {}
        if name in defined:
            return
        listed = f"use.{section} defines: {', '.join(defined)}" if defined else f"no use.{section}"
        self.report(pointer, f"{noun} '{name}' is not defined in use.{section} ({listed})")

    def function(self, pointer: str, name: str) -> None:
        functions = self.use.get("functions") or {}
        if name in BUILTIN_CALLS or name in functions or name in self.known_functions:
            return
        if "://" in name:  # a custom function by URI
            return
        cataloged = _CATALOGED.match(name)
        if cataloged is None:
            self.report(
                pointer,
                f"function '{name}' is not defined: declare it in use.functions or as a FlowApp "
                f"function, or call a built-in ({', '.join(BUILTIN_CALLS)}), a cataloged "
                "function name:version@catalog or a function by URI",
            )
        elif cataloged["catalog"] != "default":
            self.reference(pointer, "catalog", "catalogs", cataloged["catalog"])

    def authentication(self, pointer: str, holder: Any) -> None:
        policy = holder.get("authentication") if isinstance(holder, dict) else None
        if not isinstance(policy, dict):
            return
        if "use" in policy:
            self.reference(
                join_pointer(pointer, "use"), "authentication", "authentications", policy["use"]
            )
        else:
            self.secrets_of_policy(pointer, policy)

    def secrets_of_policy(self, pointer: str, policy: dict[str, Any]) -> None:
        for scheme, settings in policy.items():
            secret = _get(settings, "use")
            if isinstance(secret, str):
                self.secret(join_pointer(pointer, scheme, "use"), secret)

    def secret(self, pointer: str, name: str) -> None:
        secrets = self.use.get("secrets") or []
        if name not in secrets:
            declared = f"declared: {', '.join(secrets)}" if secrets else "none are declared"
            self.report(pointer, f"secret '{name}' is not declared in use.secrets ({declared})")

    # --- workflow-level settings ---------------------------------------------------

    def workflow_settings(self, data: dict[str, Any]) -> None:
        timeout = data.get("timeout")
        if isinstance(timeout, str):
            self.reference("/timeout", "timeout", "timeouts", timeout)
        else:
            self.duration("/timeout/after", _get(timeout, "after"))
        self.data_flow("", data)
        for path in _AUTH_SITES["data"]:
            self.authentication(join_pointer("", *path, "authentication"), _get(data, *path))
        for name, catalog in (self.use.get("catalogs") or {}).items():
            self.authentication(
                join_pointer("/use/catalogs", name, "endpoint", "authentication"),
                catalog.get("endpoint"),
            )
        for name, policy in (self.use.get("authentications") or {}).items():
            self.secrets_of_policy(join_pointer("/use/authentications", name), policy)
        for name, timeout in (self.use.get("timeouts") or {}).items():
            self.duration(join_pointer("/use/timeouts", name, "after"), timeout.get("after"))
        for name, retry in (self.use.get("retries") or {}).items():
            self.retry_policy(join_pointer("/use/retries", name), retry)
        for key in ("every", "after"):
            self.duration(join_pointer("/schedule", key), _get(data, "schedule", key))
        self.event_strategy("/schedule/on", _get(data, "schedule", "on"))

    # --- durations -----------------------------------------------------------------

    def task_durations(self, pointer: str, task: dict[str, Any]) -> None:
        self.duration(join_pointer(pointer, "wait"), task.get("wait"))
        self.duration(join_pointer(pointer, "timeout", "after"), _get(task, "timeout", "after"))
        self.retry_policy(join_pointer(pointer, "catch", "retry"), _get(task, "catch", "retry"))
        if task.get("call") in _CALL_DURATIONS:
            path = _CALL_DURATIONS[task["call"]]
            self.duration(join_pointer(pointer, *path), _get(task, *path))
        lifetime = ("run", "container", "lifetime", "after")
        self.duration(join_pointer(pointer, *lifetime), _get(task, *lifetime))

    def retry_policy(self, pointer: str, retry: Any) -> None:
        if not isinstance(retry, dict):
            return
        for path in _RETRY_DURATIONS:
            self.duration(join_pointer(pointer, *path), _get(retry, *path))
        for key in ("when", "exceptWhen"):
            self.always_expression(join_pointer(pointer, key), retry.get(key))

    def duration(self, pointer: str, value: Any) -> None:
        if not isinstance(value, str) or strict_source(value) is not None:
            return  # objects are checked by the schema; expressions are evaluated at run time
        try:
            parse_iso_duration(value)
        except DurationError as exc:
            years_or_months = re.match(r"^P[^T]*[YM]", value.strip().upper())
            message = (
                f"`{value}` counts years or months, whose length varies; "
                "write it in weeks, days, hours, minutes or seconds (such as P30D)"
                if years_or_months
                else str(exc)
            )
            self.report(pointer, message)

    # --- expressions ---------------------------------------------------------------

    def data_flow(self, pointer: str, owner: Any) -> None:
        for path in (("input", "from"), ("output", "as"), ("export", "as")):
            self.always_expression(join_pointer(pointer, *path), _get(owner, *path))

    def task_expressions(self, pointer: str, task: dict[str, Any]) -> None:
        self.always_expression(join_pointer(pointer, "if"), task.get("if"))
        self.always_expression(join_pointer(pointer, "for", "in"), _get(task, "for", "in"))
        self.always_expression(join_pointer(pointer, "while"), task.get("while"))
        for key in ("when", "exceptWhen"):
            self.always_expression(join_pointer(pointer, "catch", key), _get(task, "catch", key))
        self.event_strategy(join_pointer(pointer, "listen", "to"), _get(task, "listen", "to"))
        for path in _iterators(task):
            self.data_flow(join_pointer(pointer, *path), _get(task, *path))

    def event_strategy(self, pointer: str, strategy: Any) -> None:
        if not isinstance(strategy, dict):
            return
        filters = [("one", strategy["one"])] if "one" in strategy else []
        for key in ("all", "any"):
            filters += [(f"{key}/{i}", f) for i, f in enumerate(strategy.get(key) or [])]
        for where, event_filter in filters:
            for name, correlation in (event_filter.get("correlate") or {}).items():
                from_pointer = join_pointer(f"{pointer}/{where}/correlate", name, "from")
                self.always_expression(from_pointer, correlation.get("from"))
        until = strategy.get("until")
        if isinstance(until, str):
            self.always_expression(join_pointer(pointer, "until"), until)
        else:
            self.event_strategy(join_pointer(pointer, "until"), until)

    def always_expression(self, pointer: str, value: Any) -> None:
        """A field that is always jq: ``${ x }`` or bare ``x`` (bare is skipped when loose)."""
        if not isinstance(value, str):
            return
        if self.loose and strict_source(value) is None:
            return
        self.expression(pointer, expression_source(value))

    def templates(self, value: Any, pointer: str) -> None:
        """Every ``${ }`` in a string anywhere, except in documentation and foreign code."""
        for child_pointer, text in _strings(value, pointer, ""):
            try:
                sources = each_expression_source(text)
            except ExpressionError as exc:
                self.report(child_pointer, _compile_message(exc))
                continue
            for source in sources:
                self.expression(child_pointer, source)

    def expression(self, pointer: str, source: str) -> None:
        try:
            compile_expression(source)
        except ExpressionError as exc:
            self.report(pointer, _compile_message(exc))
            return
        for name in secrets_read(source):
            self.secret(pointer, name)


def _compile_message(error: ExpressionError) -> str:
    shown = error.source if len(error.source) <= 60 else error.source[:57] + "..."
    return f"expression does not compile: {error.message} (in `{shown}`)"


def _iterators(task: dict[str, Any]) -> list[tuple[str, ...]]:
    """Where a task iterates over consumed events or messages (each with its own tasks)."""
    if "listen" in task:
        return [("foreach",)]
    return [("with", "subscription", "foreach")] if task.get("call") == "asyncapi" else []


def _child_lists(pointer: str, task: dict[str, Any]) -> Iterator[tuple[str, list[Any]]]:
    places = [("do",), ("try",), ("catch", "do"), ("fork", "branches")]
    places += [(*iterator, "do") for iterator in _iterators(task)]
    for path in places:
        child = _get(task, *path)
        if isinstance(child, list):
            yield join_pointer(pointer, *path), child


def _skipped(pointer: str, parent_key: str, key: str) -> bool:
    """Strings that are documentation, JSON Schemas or script code, never runtime expressions."""
    if pointer == "/document" or key == "metadata":
        return True
    return (parent_key, key) in (("schema", "document"), ("script", "code"))


def _strings(value: Any, pointer: str, key: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, dict):
        for child_key, child in value.items():
            child_pointer = join_pointer(pointer, child_key)
            if not _skipped(child_pointer, key, child_key):
                yield from _strings(child, child_pointer, child_key)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _strings(child, join_pointer(pointer, index), key)

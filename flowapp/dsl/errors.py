"""Workflow errors: RFC 7807 problem objects with the spec's standard types.

An error travels through the engine as a plain ``dict`` (``type``, ``status``,
``instance``, ``title``, ``detail``) because it is data: it is caught into ``$error``,
stored with task runs and printed by ``flowapp run``. This module builds them and matches
catch filters against them.
"""

from __future__ import annotations

from typing import Any

SPEC_ERRORS = "https://serverlessworkflow.io/spec/1.0.0/errors/"

CONFIGURATION = "configuration"
VALIDATION = "validation"
EXPRESSION = "expression"
AUTHENTICATION = "authentication"
AUTHORIZATION = "authorization"
TIMEOUT = "timeout"
COMMUNICATION = "communication"
RUNTIME = "runtime"

DEFAULT_STATUS = {
    CONFIGURATION: 400,
    VALIDATION: 400,
    EXPRESSION: 400,
    AUTHENTICATION: 401,
    AUTHORIZATION: 403,
    TIMEOUT: 408,
    COMMUNICATION: 500,
    RUNTIME: 500,
}

TITLES = {
    CONFIGURATION: "Configuration Error",
    VALIDATION: "Validation Error",
    EXPRESSION: "Expression Error",
    AUTHENTICATION: "Authentication Error",
    AUTHORIZATION: "Authorization Error",
    TIMEOUT: "Timeout",
    COMMUNICATION: "Communication Error",
    RUNTIME: "Runtime Error",
}

# Forms under which the standard types are written in the wild; all name the same kinds.
_STANDARD_PREFIXES = (
    "https://serverlessworkflow.io/spec/1.0.0/errors/",
    "https://serverlessworkflow.io/dsl/errors/types/",
    "https://serverlessworkflow.io/errors/types/",
    "https://open-workflow-specification.org/spec/1.0.0/errors/",
    "https://open-workflow-specification.org/dsl/errors/types/",
    "https://openworkflowspecification.org/spec/1.0.0/errors/",
)


def error(
    kind: str,
    detail: str | None = None,
    *,
    instance: str = "/",
    status: int | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """A standard error of ``kind`` (one of the constants above)."""
    problem: dict[str, Any] = {
        "type": SPEC_ERRORS + kind,
        "status": status if status is not None else DEFAULT_STATUS[kind],
        "title": title or TITLES[kind],
        "instance": instance,
    }
    if detail:
        problem["detail"] = detail
    return problem


def standard_kind(type_uri: str) -> str | None:
    """The standard kind named by a type URI in any of its known forms, else None."""
    normalized = type_uri.strip().rstrip("/")
    for prefix in _STANDARD_PREFIXES:
        if normalized.startswith(prefix):
            return normalized[len(prefix) :]
    return None


def same_type(filter_type: str, error_type: str) -> bool:
    """Compare error types leniently: standard kinds match across their URI forms."""
    if filter_type == error_type:
        return True
    left, right = standard_kind(filter_type), standard_kind(error_type)
    return left is not None and left == right


def matches_filter(problem: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether an error has every property a catch ``errors.with`` filter asks for."""
    for key, expected in wanted.items():
        actual = problem.get(key)
        if key == "type":
            if not isinstance(actual, str) or not same_type(str(expected), actual):
                return False
        elif key == "status":
            try:
                if actual is None or int(actual) != int(expected):
                    return False
            except (TypeError, ValueError):
                return False
        elif actual != expected:
            return False
    return True

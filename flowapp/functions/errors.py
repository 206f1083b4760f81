"""Why a call to a function produced no output: one small exception hierarchy.

The supervisor (and, later, the Knative client) raises these from ``call``; the runtime
turns them into workflow errors with :meth:`FunctionError.to_problem` (a communication
error carrying the function's status, or a timeout), so that ``try``/``catch`` in a
workflow sees RFC 7807 objects. Each exception names the function in its message and
carries a fixed-vocabulary ``metric_code`` so metrics label sets stay bounded.

Not to be confused with :class:`flowapp.functions.sdk.FunctionError`, which a function
*author* raises inside a handler to reply non-2xx; on the calling side that reply arrives
as :class:`FunctionReplyError`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

from flowapp.dsl import errors as workflow_errors


class FunctionError(Exception):
    """Root: calling ``function`` failed. ``retryable`` hints whether a retry may help."""

    kind: ClassVar[str] = workflow_errors.COMMUNICATION
    status: int = 500
    retryable: bool = True
    metric_code: str = "5xx"

    def __init__(self, function: str, message: str) -> None:
        self.function = function
        self.reason = message
        super().__init__(f"function {function!r}: {message}")

    def to_problem(self, *, instance: str = "/") -> dict[str, Any]:
        """This failure as a workflow error (RFC 7807) raised at task ``instance``."""
        return workflow_errors.error(self.kind, str(self), instance=instance, status=self.status)


class FunctionReplyError(FunctionError):
    """The function answered with a non-2xx status; ``problem`` is its RFC 7807 body."""

    def __init__(self, function: str, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.retryable = status >= 500 or status in (408, 429)
        self.metric_code = f"{status // 100}xx"
        title = problem.get("title") or _phrase(status)
        detail = problem.get("detail")
        suffix = f": {detail}" if detail else ""
        super().__init__(function, f"replied {status} {title}{suffix}")

    def to_problem(self, *, instance: str = "/") -> dict[str, Any]:
        detail = self.problem.get("detail") or self.problem.get("title")
        return workflow_errors.error(
            self.kind,
            f"function {self.function!r} failed: {detail}" if detail else str(self),
            instance=instance,
            status=self.status,
        )


class FunctionTimeout(FunctionError):
    """No reply within the call's timeout (the instance may still be working on it)."""

    kind = workflow_errors.TIMEOUT
    status = 408
    metric_code = "timeout"

    def __init__(self, function: str, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(function, f"no reply within {timeout:g}s")


class FunctionUnavailable(FunctionError):
    """No instance could take the call: crashed, never healthy, connection dropped."""

    status = 503
    metric_code = "unavailable"


class MalformedReply(FunctionError):
    """A 2xx reply that is neither a CloudEvent nor JSON; retrying will not fix the code."""

    status = 502
    retryable = False
    metric_code = "malformed"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"

"""The port through which the runtime calls functions: :class:`FunctionCaller`.

The runtime depends on this protocol only. Adapters: the local
:class:`~flowapp.functions.supervisor.Supervisor` (processes on this machine),
:class:`~flowapp.functions.remote.RemoteFunctions` (fixed URLs, e.g. Knative Services) and
:class:`~flowapp.functions.testing.FakeFunctions` (Python handlers in-process, the testing kit's).
Every adapter takes one :class:`FunctionCall` and returns the output or raises a
:class:`~flowapp.functions.errors.FunctionError` subclass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionCall:
    """One call of a function by one attempt of one task.

    ``idempotency_key`` becomes the CloudEvent ``id``: the same for every delivery of the
    same attempt, so a function can recognise a repeated call. ``app`` and ``timeout`` are
    ``None`` for the caller's own app and the function's own timeout.
    """

    function: str
    data: Any
    execution_id: str
    task_reference: str
    attempt: int
    idempotency_key: str
    app: str | None = None
    timeout: float | None = None


class FunctionCaller(Protocol):
    async def call(self, call: FunctionCall) -> Any:
        """Make ``call``; the function's output, or a FunctionError raised."""
        ...

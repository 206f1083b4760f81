"""The port through which the runtime calls functions: :class:`FunctionCaller`.

The runtime depends on this protocol only. Adapters: the local
:class:`~flowapp.functions.supervisor.Supervisor` (processes on this machine) and
:class:`~flowapp.functions.testing.FakeFunctions` (Python handlers in-process, for tests);
a Knative adapter would POST to each function's Service URL with the same client code.
Every adapter returns the output or raises a
:class:`~flowapp.functions.errors.FunctionError` subclass.
"""

from __future__ import annotations

from typing import Any, Protocol


class FunctionCaller(Protocol):
    async def call(
        self,
        name: str,
        data: Any,
        *,
        execution_id: str,
        task_reference: str,
        attempt: int,
        idempotency_key: str,
        app: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Call function ``name`` with ``data``; the output, or a FunctionError raised."""
        ...

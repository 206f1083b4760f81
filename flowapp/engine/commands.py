"""Commands: what the engine asks the runtime to do. Plain, JSON-serialisable records.

Commands that produce a result carry an ``effect_id``; the runtime answers with a signal
naming it (``EffectSucceeded``, ``EffectFailed``, ``TimerFired``, ``EventArrived``).
``EmitEvent`` and ``CancelEffect`` expect no answer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    kind: ClassVar[str] = ""
    effect_id: str

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["kind"] = self.kind
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFunction(Command):
    """Call a FlowApp function: a CloudEvent whose ``id`` is ``idempotency_key``."""

    kind: ClassVar[str] = "call-function"
    function: str
    data: Any
    execution_id: str
    task_reference: str
    attempt: int
    idempotency_key: str
    timeout: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallHttp(Command):
    kind: ClassVar[str] = "call-http"
    method: str
    url: str
    headers: dict[str, str]
    body: Any = None
    has_body: bool = False
    # The authentication the runtime applies at send time: {"scheme", **settings}
    auth: dict[str, Any] | None = None
    timeout: float | None = None
    follow_redirects: bool = False  # the task's ``redirect``: false answers the 3xx itself


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchDocument(Command):
    """Fetch and parse a JSON or YAML document (an OpenAPI description)."""

    kind: ClassVar[str] = "fetch-document"
    url: str
    headers: dict[str, str]
    auth: dict[str, Any] | None = None  # as ``CallHttp.auth``


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTimer(Command):
    kind: ClassVar[str] = "start-timer"
    due_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribe(Command):
    """Deliver events to this execution. ``attributes``: exact values a candidate must have
    (one mapping per alternative filter; empty list = every event). The engine still applies
    the full filter (regex, expressions, correlation) to each event it receives."""

    kind: ClassVar[str] = "subscribe"
    execution_id: str
    attributes: list[dict[str, str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class EmitEvent(Command):
    kind: ClassVar[str] = "emit-event"
    event: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class StartWorkflow(Command):
    """Run another workflow (``run: workflow``); its output answers this effect."""

    kind: ClassVar[str] = "start-workflow"
    namespace: str
    name: str
    version: str
    input: Any
    parent_execution_id: str
    wait: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class RunProcess(Command):
    """Run a shell command or a script; the answer is ``{code, stdout, stderr}``."""

    kind: ClassVar[str] = "run-process"
    process: str  # shell | script
    language: str | None
    code: str
    arguments: list[str]
    environment: dict[str, str]
    stdin: str | None
    wait: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelEffect(Command):
    """Stop an outstanding effect: abort a call, disarm a timer, drop a subscription."""

    kind: ClassVar[str] = "cancel-effect"
    cancelled_kind: str


_KINDS: dict[str, type[Command]] = {
    cls.kind: cls
    for cls in (
        CallFunction,
        CallHttp,
        FetchDocument,
        StartTimer,
        Subscribe,
        EmitEvent,
        StartWorkflow,
        RunProcess,
        CancelEffect,
    )
}


def command_from_json(data: dict[str, Any]) -> Command:
    fields = {k: v for k, v in data.items() if k != "kind"}
    return _KINDS[data["kind"]](**fields)

"""The records and errors of the platform store (``port.py`` is the interface).

Records are what the store hands back: frozen dataclasses, copied out of the store, so
a caller can never change stored state by mutating one (their dict fields are fresh
copies). Two inputs have their own types because the store fills in part of the record:
``Condition`` (the store decides ``last_transition_time``) and ``AlertRuleSpec`` (the
store assigns ``id`` and ``created_at``).

All times are seconds since the epoch (floats), passed in by the caller as ``now``;
JSON values are plain Python objects. Errors derive from ``StoreError``, so a caller of
both stores handles one root; their types say what the API answers (404, 409, 422).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, TypedDict

from flowapp.store.port import StoreError


class NotFound(StoreError):
    """The operation names an app, revision, deploy, token or alert rule that does not
    exist."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} not found: {key}")
        self.what = what
        self.key = key


class AlreadyExists(StoreError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} exists already: {key}")
        self.what = what
        self.key = key


class AppExists(AlreadyExists):
    """An app has this name (a deleted app's name may be taken again)."""

    def __init__(self, name: str) -> None:
        super().__init__("app", name)


class InvalidValue(StoreError, ValueError):
    """A value the port refuses: a name that is not a DNS-1123 label, an unknown role,
    status or kind, a condition reason that is not CamelCase ..."""


class InvalidTraffic(InvalidValue):
    """Traffic splits that do not add up to 100, repeat or name a foreign revision."""


@dataclass(frozen=True, slots=True)
class AppRecord:
    name: str  # DNS-1123 label; executions refer to their app by it
    namespace: str
    resource: dict[str, Any]  # the FlowApp resource as last applied
    created_at: float
    updated_at: float
    # The kinds of `run` process (shell, script, container) an admin allowed this app
    # beyond what the platform allows every app.
    allowed_runs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RevisionRecord:
    """An immutable snapshot of an app; only ``status`` and ``message`` change."""

    app: str
    number: int  # 1, 2, 3 ... per app; an app created again after a delete starts at 1
    id: str  # f"{app}-{number:05d}"
    digest: str  # sha256 of the spec and the function code
    resource: dict[str, Any]
    created_at: float
    status: str  # building | ready | failed
    message: str = ""


class TrafficSplit(NamedTuple):
    """A share of an app's requests and events; a plain ``(revision_id, percent)``
    tuple is accepted wherever a split is."""

    revision_id: str
    percent: int


@dataclass(frozen=True, slots=True)
class DeployRecord:
    id: int  # grows, never reused
    app: str
    revision_id: str
    started_at: float
    status: str  # running | succeeded | failed
    message: str = ""
    log: str = ""  # the tail of the deploy's log (see rules.MAX_DEPLOY_LOG)
    ended_at: float | None = None
    owner: str | None = None  # the engine process that runs it (``flowapp up --owner``)


@dataclass(frozen=True, slots=True)
class DeployStep:
    """What one step of a deploy reports: ``log`` text to append, and, where not ``None``,
    a new status (a final one, succeeded or failed, ends the deploy) and message."""

    status: str | None = None
    message: str | None = None
    log: str = ""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token; the store keeps only the hash of its secret."""

    id: int
    name: str
    role: str  # viewer | developer | admin
    prefix: str  # the first 8 characters of the token, to tell tokens apart on screen
    secret_hash: str
    created_at: float
    last_used_at: float | None = None
    revoked_at: float | None = None
    # The apps the token may act on; empty: every app (``rules.check_token_apps``).
    apps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """One secret of an app as stored: its value sealed by the caller (``key_id`` names
    the key), never in plain text; the store cannot read it."""

    app: str
    name: str
    key_id: str
    sealed: bytes
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Condition:
    """One observed aspect of an app, as the syncer reports it."""

    type: str  # Ready | FunctionsReady | TriggersReady | ...
    status: str  # "True" | "False" | "Unknown"
    reason: str = "Unknown"  # CamelCase, machine-readable
    message: str = ""
    observed_revision: str | None = None


@dataclass(frozen=True, slots=True)
class ConditionRecord:
    app: str
    type: str
    status: str
    reason: str
    message: str
    last_transition_time: float  # when ``status`` last changed (Kubernetes semantics)
    observed_revision: str | None = None


class FunctionStatus(TypedDict, total=False):
    state: str
    instances: int
    restarts: int
    last_error: str | None


class TriggerStatus(TypedDict, total=False):
    state: str
    last_error: str | None


@dataclass(frozen=True, slots=True)
class AppObservation:
    """What the syncer last saw of an app where it runs; replaced as a whole."""

    app: str
    deployed_revision: str | None
    functions: dict[str, FunctionStatus]
    triggers: dict[str, TriggerStatus]
    observed_at: float


@dataclass(frozen=True, slots=True)
class AlertRuleSpec:
    app: str
    name: str
    kind: str  # failed_executions | function_error_rate | latency_p95
    threshold: float
    window_seconds: float
    webhook_url: str
    function: str | None = None  # a per-function rule
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class AlertRuleRecord:
    id: int
    app: str
    name: str  # unique per app
    kind: str
    threshold: float
    window_seconds: float
    webhook_url: str
    created_at: float
    function: str | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class AlertStateRecord:
    """Where the evaluator left a rule: firing since when, the last value it measured."""

    rule_id: int
    firing: bool
    since: float | None = None
    last_value: float | None = None
    last_notified_at: float | None = None


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """How one attempt to deliver a notification went: delivered, or failed with ``error``
    and due again at ``next_attempt_at`` (never, given up, when it is ``None``)."""

    delivered: bool
    error: str = ""
    next_attempt_at: float | None = None


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """A webhook call to make (the outbox of alerts). ``next_attempt_at`` is None once
    it was delivered or given up: then it is never due again."""

    id: int
    rule_id: int
    payload: dict[str, Any]
    created_at: float
    attempts: int = 0
    next_attempt_at: float | None = None
    delivered_at: float | None = None
    last_error: str = ""

"""What the API server needs from the platform behind it: the ``Platform`` port, in parts.

The server is HTTP only: it authenticates, parses, and turns results and errors into
JSON and RFC 7807 problems. Everything that acts (deploying revisions, starting functions,
running executions, reading logs and status) happens behind this port, implemented on one
machine by ``flowapp.local.platform.LocalPlatform`` and for one app's engine on a cluster
by ``flowapp.cluster.platform.ClusterPlatform``.

The port is split by consumer: each route module depends on the part it uses
(``AppsPort``, ``DeploysPort``, ``InvocationsPort``, ``SourcesPort``, ``RunPolicyPort``,
``LogsPort``, ``EventsPort``, ``WebhooksPort``; ``AppLookup`` for routes that only need
the app to exist), through the dependencies of ``flowapp.server.deps``. ``Platform`` is
the union, what ``create_app`` is given.

Reads that need nothing but the database (execution history, tokens, alert rules) go to
the stores directly (``flowapp.store`` and ``flowapp.store.platform``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from flowapp.dsl.problems import DefinitionError, Problem
from flowapp.dsl.source import DocumentTooLarge
from flowapp.runtime.outcome import Outcome

if TYPE_CHECKING:
    from flowapp.runtime.registry import LoadedWorkflow
    from flowapp.runtime.runtime import Runtime
    from flowapp.store.port import ExecutionRecord


class PlatformError(Exception):
    """A request the platform refuses; the server answers with this status and title."""

    status = 400
    title = "Bad Request"

    def __init__(self, detail: str, *, problems: list[Problem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []


class InvalidResource(PlatformError):
    """A FlowApp (or workflow) with problems; ``problems`` say what and where."""

    status = 422
    title = "Invalid FlowApp"


class InvalidArchive(PlatformError):
    """An uploaded archive holding a member no project may hold; the problem names it."""

    status = 422
    title = "Invalid Archive"


def archive_refused(detail: str, member: str | None) -> PlatformError:
    """An archive that cannot be read at all is a bad body (400); one that holds a member
    a project cannot hold (``..``, ``.git``, a link) is refused for that member (422)."""
    if member is None:
        return PlatformError(detail)
    return InvalidArchive(detail, problems=[Problem("", detail, member)])


class NotFound(PlatformError):
    status = 404
    title = "Not Found"


class Conflict(PlatformError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(PlatformError):
    status = 413
    title = "Payload Too Large"


def too_large(error: DocumentTooLarge) -> PayloadTooLarge:
    """413 for a document over the limits, with the problem that names the limit."""
    return PayloadTooLarge(error.problems[0].message, problems=list(error.problems))


@contextmanager
def refusing_invalid(detail: str) -> Iterator[None]:
    """Reading a document sent by a request: one over the limits is refused with 413, one
    with problems with 422 (``detail`` says what it is not)."""
    try:
        yield
    except DocumentTooLarge as error:
        raise too_large(error) from None
    except DefinitionError as error:
        raise InvalidResource(detail, problems=list(error.problems)) from None


class DeployFailed(PlatformError):
    """The revision could not be built or started; the previous one keeps serving."""

    status = 422
    title = "Deploy Failed"


class RunNotAllowed(PlatformError):
    """The workflow uses a kind of ``run`` process (shell, script, container) that the
    platform does not allow the app; ``problems`` point at each such task."""

    status = 403
    title = "Process Kind Not Allowed"


@dataclass(frozen=True, slots=True)
class RunPolicyView:
    """The kinds of ``run`` process an app may use: those an admin allowed it, and those
    the platform allows every app (``flowapp up --allow-run``)."""

    app: str
    allowed: tuple[str, ...]
    platform: tuple[str, ...]

    @property
    def effective(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.platform, *self.allowed)))


@dataclass(frozen=True, slots=True)
class RevisionView:
    id: str
    app: str
    number: int
    digest: str
    status: str  # building | ready | failed
    message: str
    created_at: float


@dataclass(frozen=True, slots=True)
class DeployView:
    id: int
    app: str
    revision_id: str
    status: str  # running | succeeded | failed
    message: str
    log: str
    started_at: float
    ended_at: float | None


@dataclass(frozen=True, slots=True)
class AppView:
    name: str
    namespace: str
    resource: dict[str, Any]
    created_at: float
    updated_at: float
    deployed_revision: str | None
    traffic: list[tuple[str, int]]
    conditions: list[dict[str, Any]]  # Ready / FunctionsReady / TriggersReady, from the store
    observation: dict[str, Any] | None  # functions and triggers as last reported


# An execution started by an invocation, and how it stands (or ended) when answered:
# the runtime's outcome of waiting for it.
InvocationResult = Outcome


@dataclass(frozen=True, slots=True)
class RetryStarted:
    """A faulted execution going on from the task that failed, and on which revision:
    ``revision`` is the one it runs on now, ``previous_revision`` the one it ran on
    (equal unless the retry moved it to the app's serving revision; None for a plain
    workflow)."""

    id: str
    revision: str | None
    previous_revision: str | None


async def retry_from_failed_task(
    runtime: Runtime,
    record: ExecutionRecord,
    target_of: Callable[[ExecutionRecord], Awaitable[LoadedWorkflow | None]],
) -> RetryStarted:
    """Retry a faulted execution from its failed task, on the workflow ``target_of`` it
    (None: its own revision), with the platform's errors for what cannot be retried."""
    from flowapp.runtime.runtime import UnknownExecution

    if record.status != "faulted":  # before the target is worked out
        raise Conflict(f"execution {record.id} is {record.status}, not faulted")
    target = await target_of(record)
    try:
        await runtime.retry(record.id, target)
    except UnknownExecution:
        raise NotFound(f"no execution {record.id}") from None
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    revision = target.revision if target is not None else record.revision
    return RetryStarted(record.id, revision, record.revision)


@dataclass(frozen=True, slots=True)
class RerunStarted:
    """A new execution with the input of an earlier one, on ``revision``."""

    id: str
    rerun_of: str
    revision: str | None


@dataclass(frozen=True, slots=True)
class LogQuery:
    """Which function log lines of ``app`` to read: the last ``limit``, of ``function``
    (None: of every function), printed while serving ``execution_id`` (None: any)."""

    app: str
    function: str | None = None
    execution_id: str | None = None
    limit: int = 200


@dataclass(frozen=True, slots=True)
class LogLine:
    time: float
    app: str
    function: str
    instance: str
    stream: str
    message: str
    execution_id: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceView:
    """An app's project as it is on its ``main`` branch: files by path, and the commit."""

    files: dict[str, bytes]
    commit: str | None


Progress = Callable[[str], Awaitable[None] | None]


# --- the ports: one per kind of consumer; ``Platform`` is all of them -------------------


class AppLookup(Protocol):
    """An app's view, for routes that only need to know the app exists (404 otherwise)."""

    async def get_app(self, name: str) -> AppView:
        """Raises ``NotFound``."""


class AppsPort(AppLookup, Protocol):
    """The app catalog (``routes/apps.py``)."""

    async def validate_app(self, text: str, *, filename: str = "flowapp.yaml") -> list[Problem]:
        """Problems of a FlowApp (or plain workflow) given as YAML or JSON text."""

    async def create_app(self, text: str, *, filename: str = "flowapp.yaml") -> AppView:
        """Create an app from a FlowApp or a workflow: its git repository is scaffolded
        (one function folder per custom function the workflow calls). Raises
        ``InvalidResource`` or ``Conflict`` (the name exists)."""

    async def update_app(self, name: str, text: str) -> AppView: ...

    async def delete_app(self, name: str) -> None:
        """Stop its functions and triggers and forget it (executions stay)."""

    async def list_apps(self) -> list[AppView]: ...


class RunPolicyPort(Protocol):
    """Which kinds of ``run`` process an app may start (``routes/runpolicy.py``)."""

    async def get_run_policy(self, name: str) -> RunPolicyView: ...

    async def set_run_policy(self, name: str, allowed: list[str]) -> RunPolicyView:
        """Replace the kinds of ``run`` process an admin allows the app (the route checks
        the admin role); ``PlatformError`` for an unknown kind."""


class DeploysPort(AppLookup, Protocol):
    """Revisions, deploys and traffic (``routes/deploys.py``, and the git service's
    pushes)."""

    async def deploy(self, name: str, *, progress: Progress | None = None) -> DeployView:
        """Build the app's current code into a new immutable revision (or reuse the
        latest when nothing changed), start its functions, and send it all traffic.
        On failure the previous revision keeps serving and ``DeployFailed`` says why."""

    async def upload_source(
        self, name: str, archive: bytes, *, progress: Progress | None = None
    ) -> DeployView:
        """A project folder as a gzipped tar (what ``flowapp deploy DIR`` sends): commit
        it to the app's repository (creating the app if needed) and deploy it."""

    async def on_push(self, name: str, commit: str) -> DeployView | None:
        """The app's git repository received a push to main: deploy it (unless the app
        asks for manual deploys)."""

    async def list_revisions(self, name: str) -> list[RevisionView]: ...

    async def list_deploys(self, name: str) -> list[DeployView]: ...

    async def get_deploy(self, name: str, deploy_id: int) -> DeployView:
        """One deploy of the app, with its whole log; ``NotFound`` otherwise."""

    async def set_traffic(self, name: str, splits: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Split new executions between ready revisions by percent (canary)."""

    async def rollback(self, name: str) -> list[tuple[str, int]]:
        """All traffic back to the revision before the current one."""


class InvocationsPort(Protocol):
    """Executions started and controlled (``routes/executions.py``, ``routes/control.py``)."""

    async def invoke(
        self, name: str, input: Any, *, wait: float | None = None, dedupe_key: str | None = None
    ) -> InvocationResult:
        """Start an execution of the app's workflow on a revision chosen by traffic.
        With ``wait`` seconds, answer when it ends or when the time is up."""

    async def cancel(self, execution_id: str) -> None: ...

    async def suspend(self, execution_id: str) -> None: ...

    async def resume(self, execution_id: str) -> None: ...

    async def retry(self, execution_id: str) -> RetryStarted:
        """From the task that failed; the tasks that completed are not run again. On the
        app's serving revision when its workflow still has every completed task at the
        same place, else on the execution's own revision (started on demand). Raises
        ``Conflict`` unless it faulted, or when its app was deleted since."""

    async def rerun(
        self, execution_id: str, *, replace_input: bool = False, input: Any = None
    ) -> RerunStarted:
        """A new execution with the same input (or ``input``, with ``replace_input``),
        on the app's serving revision (or the execution's own, when the app has none)."""


class LogsPort(AppLookup, Protocol):
    """The app's function logs and status (``routes/observe.py``)."""

    def logs(self, query: LogQuery) -> list[LogLine]: ...


class EventsPort(Protocol):
    """The event bus (``routes/events.py``)."""

    async def publish_event(self, event: dict[str, Any]) -> None:
        """Publish a CloudEvent to the event bus (``listen`` tasks, ``schedule.on``)."""


class WebhooksPort(Protocol):
    """Apps' ``http`` triggers (``routes/hooks.py``)."""

    async def handle_webhook(self, request: WebhookRequest) -> WebhookResponse:
        """An ``http`` trigger's request: checks its secret or signature, starts an
        execution, and answers 202 (async) or with the outcome (sync / ``?wait=``)."""


class SourcesPort(Protocol):
    """The app's project source, as the dashboard's editor reads and changes it
    (``routes/projects.py``)."""

    async def get_source(self, name: str) -> SourceView:
        """The app's project files on ``main`` and that commit; ``NotFound``."""

    async def validate_source(self, name: str, files: dict[str, bytes]) -> list[Problem]:
        """Every problem of the app's project if it were ``files`` (nothing is kept)."""

    async def commit_source(
        self, name: str, files: dict[str, bytes], *, message: str, parent: str | None
    ) -> SourceView:
        """Commit ``files`` as the app's project, if they are valid (``InvalidResource``)
        and ``main`` is still at ``parent`` when one is given (``Conflict``: someone else
        changed it). The app's resource follows; deploy to run it."""


class Platform(
    AppsPort,
    RunPolicyPort,
    DeploysPort,
    InvocationsPort,
    LogsPort,
    EventsPort,
    WebhooksPort,
    SourcesPort,
    Protocol,
):
    """Everything the server asks of the platform: what ``create_app`` is given, and
    what each implementation (``LocalPlatform``, ``ClusterPlatform``) provides."""

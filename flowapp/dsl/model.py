"""The typed model of a workflow: what the engine runs.

Built from a schema-valid document by ``flowapp.dsl.build``. Every expression is already
compiled (``Template`` / ``Expression``), every task knows its ``reference`` (the JSON
pointer of its definition, e.g. ``/do/0/tryGetPet/try/0/getPet``) and keeps its raw
definition for ``$task.definition``. Instances are immutable and shared by every
execution of the workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowapp.dsl.expressions import Expression, Template

Json = Any


@dataclass(frozen=True, slots=True)
class SchemaSpec:
    """A JSON Schema to validate data against (``format: json``, inline document)."""

    document: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class InputSpec:
    schema: SchemaSpec | None = None
    from_: Template | None = None


@dataclass(frozen=True, slots=True)
class OutputSpec:
    schema: SchemaSpec | None = None
    as_: Template | None = None


@dataclass(frozen=True, slots=True)
class ExportSpec:
    schema: SchemaSpec | None = None
    as_: Template | None = None


@dataclass(frozen=True, slots=True)
class DurationSpec:
    """A duration known in advance (``seconds``) or computed by an expression."""

    seconds: float | None = None
    expression: Template | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    """What every task has; subclasses add what their kind needs."""

    name: str
    reference: str
    definition: Mapping[str, Any]
    if_: Expression | None = None
    input: InputSpec | None = None
    output: OutputSpec | None = None
    export: ExportSpec | None = None
    timeout: DurationSpec | None = None
    then: str | None = None


@dataclass(frozen=True, slots=True)
class TaskList:
    """An ordered list of named tasks (a ``do``, ``try``, ``branches`` ...)."""

    reference: str
    tasks: tuple[Task, ...]
    index_by_name: Mapping[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.tasks)


@dataclass(frozen=True, slots=True, kw_only=True)
class DoTask(Task):
    tasks: TaskList


@dataclass(frozen=True, slots=True, kw_only=True)
class SetTask(Task):
    value: Template


@dataclass(frozen=True, slots=True)
class SwitchCase:
    name: str
    when: Expression | None
    then: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchTask(Task):
    cases: tuple[SwitchCase, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ForTask(Task):
    each: str
    at: str
    in_: Expression
    while_: Expression | None
    tasks: TaskList


@dataclass(frozen=True, slots=True, kw_only=True)
class ForkTask(Task):
    branches: TaskList
    compete: bool


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    when: Expression | None = None
    except_when: Expression | None = None
    delay: float = 0.0
    backoff: str = "constant"  # constant | linear | exponential
    jitter: tuple[float, float] | None = None
    max_retries: int | None = None
    attempt_duration: float | None = None
    total_duration: float | None = None


@dataclass(frozen=True, slots=True)
class Catch:
    errors: Mapping[str, Any] | None
    as_: str
    when: Expression | None
    except_when: Expression | None
    retry: RetryPolicy | None
    tasks: TaskList | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TryTask(Task):
    tasks: TaskList
    catch: Catch


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """An error to raise: type and status are required; title and detail may be expressions."""

    type: Template
    status: Template
    title: Template | None = None
    detail: Template | None = None
    instance: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RaiseTask(Task):
    error: ErrorSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitTask(Task):
    duration: DurationSpec


@dataclass(frozen=True, slots=True)
class Authentication:
    """Resolved authentication: ``scheme`` basic | bearer | digest | oauth2 | oidc."""

    scheme: str
    settings: Template
    secret: str | None = None  # a `use: <secret>` reference instead of inline settings


@dataclass(frozen=True, slots=True)
class Endpoint:
    uri: Template  # a URI template (`{var}`) is resolved by the engine, not by jq
    is_uri_template: bool
    authentication: Authentication | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallHttpTask(Task):
    method: Template
    endpoint: Endpoint
    headers: Template | None
    query: Template | None
    body: Template | None
    output_format: str  # content | response | raw
    redirect: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOpenApiTask(Task):
    document: Endpoint
    operation_id: str
    parameters: Template | None
    authentication: Authentication | None
    output_format: str
    redirect: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFunctionTask(Task):
    """``call: <name>`` to a FlowApp function served over HTTP as CloudEvents."""

    function: str
    arguments: Template | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallDefinedFunctionTask(Task):
    """``call: <name>`` to a task declared under ``use.functions``: run it with ``with``."""

    function: str
    arguments: Template | None
    body: Task


@dataclass(frozen=True, slots=True, kw_only=True)
class UnsupportedTask(Task):
    """A valid task this runtime cannot run (gRPC, AsyncAPI, catalogs ...): faults if run."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EmitTask(Task):
    event: Template


@dataclass(frozen=True, slots=True)
class Correlation:
    from_: Expression
    expect: Template | None


@dataclass(frozen=True, slots=True)
class EventFilter:
    attributes: Mapping[str, Any]  # attribute -> literal / regex / compiled Template
    templates: Mapping[str, Template]
    correlate: Mapping[str, Correlation]


@dataclass(frozen=True, slots=True)
class ConsumptionStrategy:
    mode: str  # one | any | all
    filters: tuple[EventFilter, ...]
    until_expression: Expression | None = None
    until_events: ConsumptionStrategy | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionIterator:
    item: str
    at: str
    tasks: TaskList | None
    output: OutputSpec | None
    export: ExportSpec | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenTask(Task):
    to: ConsumptionStrategy
    read: str  # data | envelope | raw
    foreach: SubscriptionIterator | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunWorkflowTask(Task):
    namespace: str
    workflow_name: str
    version: str
    workflow_input: Template | None
    await_: bool
    return_: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunProcessTask(Task):
    """``run: shell`` or ``run: script``: a process on this machine."""

    kind: str  # shell | script
    language: str | None
    code: Template
    arguments: Template | None
    environment: Template | None
    stdin: Template | None
    await_: bool
    return_: str


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    dsl: str
    namespace: str
    name: str
    version: str
    title: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}.{self.name}:{self.version}"


@dataclass(frozen=True, slots=True)
class Schedule:
    every: float | None = None
    cron: str | None = None
    after: float | None = None
    on: ConsumptionStrategy | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Workflow:
    document: DocumentInfo
    definition: Mapping[str, Any]
    tasks: TaskList
    input: InputSpec | None = None
    output: OutputSpec | None = None
    timeout: DurationSpec | None = None
    schedule: Schedule | None = None
    secrets: tuple[str, ...] = ()
    functions: frozenset[str] = frozenset()
    loose: bool = False
    by_reference: Mapping[str, Task] = field(default_factory=dict)

    def task(self, reference: str) -> Task:
        return self.by_reference[reference]

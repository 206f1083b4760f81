"""The API's JSON shapes as pydantic models: pydantic lives at this edge and nowhere else.

Input models forbid unknown keys, so a typo is a 422 rather than silently ignored.
Output models exist for the OpenAPI document (``response_model``); the routes fill them
from the platform's frozen dataclasses and the stores' records (``views.py``). Times
are ISO 8601 strings in UTC (``2024-05-01T12:00:00.000Z``) everywhere.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

Time = Annotated[str, Field(json_schema_extra={"format": "date-time"})]  # ISO 8601, UTC
Role = Literal["viewer", "developer", "admin"]
AlertKind = Literal["failed_executions", "function_error_rate", "latency_p95"]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- problems and health ----------------------------------------------------------------


class ProblemLocation(BaseModel):
    file: str
    line: int
    column: int
    pointer: str
    message: str


class Problem(BaseModel):
    """RFC 7807; ``problems`` only for a request carrying a document with mistakes."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    problems: list[ProblemLocation] | None = None


class Health(BaseModel):
    status: Literal["ok"]


class Validation(BaseModel):
    valid: bool
    problems: list[ProblemLocation]


class WorkflowSource(BaseModel):
    app: str
    file: str = Field(
        description="The file holding the workflow: its workflowRef, or flowapp.yaml."
    )
    base: str = Field(
        description="The workflow's JSON pointer in that file: '' or '/spec/workflow'."
    )
    text: str
    commit: str | None


class FunctionInfo(BaseModel):
    name: str
    runtime: str | None
    path: str | None
    declared: bool = Field(description="Declared in flowapp.yaml's spec.functions.")
    has_code: bool = Field(description="Its folder holds files.")
    called_by: list[str] = Field(description="JSON pointers of the tasks that call it.")


class FunctionsView(BaseModel):
    app: str
    clone_url: str
    runtimes: list[str]
    items: list[FunctionInfo]


class NewFunction(Input):
    name: str = Field(min_length=1, max_length=63, description="The function's name.")
    runtime: str = Field(default="python", description="A runtime with a template.")


# --- apps, revisions, deploys -------------------------------------------------------------


RunKind = Literal["shell", "script", "container"]


class RunPolicyUpdate(Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"allowed": ["shell", "script"]}]}
    )

    allowed: list[RunKind] = Field(max_length=3)


class RunPolicy(BaseModel):
    """``allowed``: by an admin for this app; ``platform``: for every app (``flowapp up
    --allow-run``); ``effective``: what the app's workflows may start."""

    app: str
    allowed: list[RunKind]
    platform: list[RunKind]
    effective: list[RunKind]


class TrafficSplit(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"revision": "hello-00001", "percent": 100}]},
    )

    revision: str = Field(min_length=1, max_length=200)
    percent: int = Field(ge=0, le=100)


class Condition(BaseModel):
    """Kubernetes-style: ``last_transition_time`` is when ``status`` last changed."""

    type: str
    status: str
    reason: str
    message: str
    last_transition_time: Time | None = None


class Observation(BaseModel):
    """What the syncer last saw where the app runs; ``observed_at`` is when."""

    model_config = ConfigDict(extra="allow")

    deployed_revision: str | None = None
    functions: dict[str, Any] = {}
    triggers: dict[str, Any] = {}
    observed_at: Time | None = None


class App(BaseModel):
    name: str
    namespace: str
    resource: dict[str, Any]
    created_at: Time
    updated_at: Time
    deployed_revision: str | None
    traffic: list[TrafficSplit]
    conditions: list[Condition]
    observation: Observation | None


class AppList(BaseModel):
    items: list[App]


class AppStatus(BaseModel):
    app: str
    ready: bool
    deployed_revision: str | None
    traffic: list[TrafficSplit]
    conditions: list[Condition]
    observation: Observation | None


class Revision(BaseModel):
    id: str
    app: str
    number: int
    digest: str
    status: str
    message: str
    created_at: Time


class RevisionList(BaseModel):
    items: list[Revision]


class Deploy(BaseModel):
    id: int
    app: str
    revision: str
    status: str
    message: str
    log: str
    log_truncated: bool = Field(
        description="In a list, the log is its last 4,000 characters: read the deploy for all."
    )
    started_at: Time
    ended_at: Time | None


class DeployList(BaseModel):
    items: list[Deploy]


# --- executions ---------------------------------------------------------------------------


class TaskRun(BaseModel):
    id: int = Field(description="Runs are numbered in the order they started.")
    parent_id: int | None = Field(description="The run of the task around this one.")
    name: str
    reference: str = Field(description="The task's JSON Pointer in the workflow.")
    occurrence: str = Field(
        description="The reference with each loop iteration it ran in: /do/0/each[3]/do/0/a"
    )
    status: str
    input: Any
    output: Any
    error: dict[str, Any] | None
    attempt: int
    started_at: Time | None
    ended_at: Time | None
    revision: str | None = Field(description="the app revision the task ran on")


class ExecutionSummary(BaseModel):
    id: str
    app: str | None
    revision: str | None
    status: str
    input: Any
    output: Any
    error: dict[str, Any] | None
    started_at: Time | None
    ended_at: Time | None
    parent_id: str | None = Field(description="The execution that started this sub-workflow.")
    rerun_of: str | None = Field(description="The execution this one re-runs.")


class Execution(ExecutionSummary):
    tasks: list[TaskRun] = Field(description="The first task runs, in the order they started.")
    task_count: int = Field(description="How many task runs the execution has.")
    tasks_next_cursor: str | None = Field(
        description="More task runs: GET .../tasks?cursor= this; null when `tasks` has all."
    )


class ExecutionPage(BaseModel):
    items: list[ExecutionSummary]
    next_cursor: str | None


class TaskRunPage(BaseModel):
    items: list[TaskRun]
    next_cursor: str | None


class ExecutionWorkflow(BaseModel):
    execution: str
    id: str = Field(description="The workflow's id: the digest of its definition.")
    namespace: str
    name: str
    version: str
    app: str | None
    revision: str | None
    document: dict[str, Any] = Field(
        description="The workflow as deployed; task runs' references point into it."
    )


class SubWorkflow(ExecutionSummary):
    workflow: dict[str, str] = Field(description="Its workflow's namespace, name and version.")


class SubWorkflowList(BaseModel):
    items: list[SubWorkflow]


class Completed(BaseModel):
    id: str
    status: Literal["completed"]
    output: Any


class Faulted(BaseModel):
    id: str
    status: str
    error: dict[str, Any]


class Accepted(BaseModel):
    id: str
    status: str


class ControlRequested(BaseModel):
    id: str
    action: Literal["cancel", "suspend", "resume", "retry"]


class RetryRequested(BaseModel):
    id: str
    action: Literal["retry"]
    revision: str | None = Field(description="the app revision the retry runs on")
    previous_revision: str | None = Field(description="the revision the execution ran on")


class Rerun(BaseModel):
    id: str
    status: str
    rerun_of: str
    revision: str | None = Field(description="the app revision the new execution runs on")


# --- metrics ------------------------------------------------------------------------------


class Percentiles(BaseModel):
    p50: float | None
    p95: float | None
    p99: float | None


class MetricsPoint(BaseModel):
    at: Time
    requests_per_second: float
    error_rate: float
    latency_p95: float | None
    executions: dict[str, int] | None = Field(
        default=None, description="Executions that ended in the step, by status (app only)."
    )


class Calls(BaseModel):
    requests: int
    requests_per_second: float
    by_code: dict[str, int] = Field(
        description="Calls by outcome: 2xx, 4xx, 5xx, timeout, unavailable, malformed."
    )
    error_rate: float = Field(description="Calls whose outcome is not 2xx, 0 to 1.")
    latency_seconds: Percentiles
    series: list[MetricsPoint] | None = None


class FunctionCalls(Calls):
    function: str
    instances: int
    in_flight: int


class ExecutionFigures(BaseModel):
    started: int
    started_per_second: float
    by_status: dict[str, int] = Field(description="Executions that ended, by status.")
    duration_seconds: Percentiles


class AppMetrics(BaseModel):
    app: str
    window_seconds: int
    step_seconds: float
    covered_seconds: float = Field(
        description="The time measured: less than the window while the server is younger."
    )
    from_: Time = Field(alias="from")
    to: Time
    functions: list[FunctionCalls]
    totals: Calls
    executions: ExecutionFigures


# --- logs, events -------------------------------------------------------------------------


class LogLine(BaseModel):
    time: Time
    app: str
    function: str
    instance: str
    stream: str
    message: str
    execution_id: str | None


class LogList(BaseModel):
    items: list[LogLine]


class EventsAccepted(BaseModel):
    ids: list[str]


# --- tokens -------------------------------------------------------------------------------


class NewToken(Input):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    apps: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Limit the token to these apps (not for admin tokens); empty: every app.",
    )


class Token(BaseModel):
    id: int
    name: str
    role: str
    prefix: str
    created_at: Time
    last_used_at: Time | None
    revoked_at: Time | None
    apps: list[str] = Field(description="The apps the token is limited to; empty: every app.")


class CreatedToken(Token):
    token: str = Field(description="The token itself; shown this once, never again.")


class TokenList(BaseModel):
    items: list[Token]


# --- secrets ------------------------------------------------------------------------------


class NewSecretValue(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"value": "k-123"}, {"value": {"username": "ada"}}]},
    )
    value: Any = Field(
        description="Any JSON value but null (an object for a `use:` authentication). "
        "Sealed at once; no route ever returns it."
    )

    @field_validator("value")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("a secret's value cannot be null (delete the secret instead)")
        return value


class Secret(BaseModel):
    name: str
    source: Literal["environment", "file", "store"]
    updated_at: Time | None = None
    also_in: list[Literal["file", "store"]] = Field(
        default_factory=list, description="Other sources naming it, which `source` overrides."
    )


class SecretList(BaseModel):
    items: list[Secret]


# --- alerts -------------------------------------------------------------------------------


class NewAlertRule(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "failures",
                    "kind": "failed_executions",
                    "threshold": 3,
                    "window_seconds": 300,
                    "webhook_url": "https://hooks.example.com/alerts",
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    kind: AlertKind
    threshold: float = Field(ge=0, allow_inf_nan=False)
    window_seconds: float = Field(gt=0, allow_inf_nan=False)
    webhook_url: str = Field(
        min_length=1, max_length=2000, pattern=r"^[hH][tT][tT][pP][sS]?://[A-Za-z0-9.-]+"
    )
    function: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool = True

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL with a host")
        return value


class AlertRule(BaseModel):
    id: int
    app: str
    name: str
    kind: str
    threshold: float
    window_seconds: float
    webhook_url: str
    function: str | None
    enabled: bool
    created_at: Time


class AlertRuleList(BaseModel):
    items: list[AlertRule]

"""Tasks that reach outside: ``call`` (http, openapi, FlowApp functions, ``use.functions``),
``emit``, and ``run`` (workflows, shell commands, scripts).

Each issues a command and finishes when the runtime answers it. Calls carry a stable
idempotency key (execution id + occurrence + attempt) so that a redelivered call after a
crash can be recognised by the function it reaches.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from flowapp.dsl import errors
from flowapp.dsl.model import (
    CallDefinedFunctionTask,
    CallFunctionTask,
    CallHttpTask,
    EmitTask,
    RunProcessTask,
    RunWorkflowTask,
    UnsupportedTask,
)
from flowapp.engine.commands import (
    CallFunction,
    CallHttp,
    Command,
    EmitEvent,
    RunProcess,
    StartWorkflow,
)
from flowapp.engine.http import (
    endpoint_url,
    note_negotiated,
    read_response,
    resolve_authentication,
    with_query,
)
from flowapp.engine.machine import Machine, TaskFault
from flowapp.engine.state import Effect, Frame
from flowapp.engine.tasks.base import TaskHandler

_EMIT_NAMESPACE = uuid.UUID("7f1c1c5e-4a54-4c8a-9b0e-6b1f7c2a9d10")


def idempotency_key(m: Machine, frame: Frame) -> str:
    generation = f"~{m.state.generation}" if m.state.generation else ""
    return f"{m.state.execution_id}{generation}{frame.occurrence}#{frame.attempt}"


def _arguments(m: Machine, task: Any, frame: Frame) -> Any:
    if task.arguments is None:
        return frame.input
    return m.render(task.arguments, frame.input, m.scope(frame, task), task.reference)


class CallHttpHandler(TaskHandler):
    replayable = True

    def start(self, m: Machine, task: CallHttpTask, frame: Frame) -> None:
        where = task.reference
        scope = m.scope(frame, task)
        url = endpoint_url(m, task.endpoint, frame, scope, where)
        if task.query is not None:
            url = with_query(url, m.render(task.query, frame.input, scope, where))
        headers = {}
        if task.headers is not None:
            rendered = m.render(task.headers, frame.input, scope, where) or {}
            headers = {
                str(k): v if isinstance(v, str) else json.dumps(v) for k, v in rendered.items()
            }
        auth = resolve_authentication(m, task.endpoint.authentication, frame, scope, where)
        method = str(m.render(task.method, frame.input, scope, where)).upper()
        body = None if task.body is None else m.render(task.body, frame.input, scope, where)
        has_body = task.body is not None
        send_http(m, frame, method, url, headers, body, has_body, auth, redirect=task.redirect)

    def on_result(self, m: Machine, frame: Frame, effect: Effect, result: Any) -> None:
        task = m.workflow.task(frame.reference)
        assert isinstance(task, CallHttpTask)
        note_negotiated(frame, result)
        try:
            output = read_response(
                task, frame.data["request"], result, task.output_format, task.redirect
            )
        except TaskFault as fault:
            m.fault(frame, fault.error)
            return
        m.complete(frame, output)


def send_http(
    m: Machine,
    frame: Frame,
    method: str,
    url: str,
    headers: dict[str, str],
    body: Any,
    has_body: bool,
    auth: dict[str, Any] | None,
    *,
    redirect: bool = False,
) -> None:
    frame.data["request"] = {"method": method.lower(), "uri": url, "headers": headers}
    command = CallHttp(
        effect_id=m.new_effect_id(),
        method=method,
        url=url,
        headers=headers,
        body=body,
        has_body=has_body,
        auth=auth,
        follow_redirects=redirect,
    )
    m.issue(frame, command)


class CallFunctionHandler(TaskHandler):
    """A FlowApp function: the task's input (or its ``with``) is the CloudEvent's data."""

    replayable = True

    def start(self, m: Machine, task: CallFunctionTask, frame: Frame) -> None:
        command = CallFunction(
            effect_id=m.new_effect_id(),
            function=task.function,
            data=_arguments(m, task, frame),
            execution_id=m.state.execution_id,
            task_reference=task.reference,
            attempt=frame.attempt,
            idempotency_key=idempotency_key(m, frame),
            timeout=m.env.function_timeout,
        )
        m.issue(frame, command)

    def on_result(self, m: Machine, frame: Frame, effect: Effect, result: Any) -> None:
        m.complete(frame, result)


class DefinedFunctionHandler(TaskHandler):
    """A task declared under ``use.functions``, run with the call's arguments as input."""

    def start(self, m: Machine, task: CallDefinedFunctionTask, frame: Frame) -> None:
        m.start_task(task.body, frame, _arguments(m, task, frame))

    def on_child_completed(
        self, m: Machine, frame: Frame, child: Frame, output: Any, then: str
    ) -> None:
        m.complete(frame, output)


class UnsupportedHandler(TaskHandler):
    def start(self, m: Machine, task: UnsupportedTask, frame: Frame) -> None:
        error = errors.error(errors.RUNTIME, task.reason, instance=task.reference, status=501)
        m.fault(frame, error)


class EmitHandler(TaskHandler):
    """The task's output is the emitted event, complete with the attributes we fill in."""

    replayable = True

    def start(self, m: Machine, task: EmitTask, frame: Frame) -> None:
        properties = m.render(task.event, frame.input, m.scope(frame, task), task.reference)
        event = {"specversion": "1.0", **(properties or {})}
        if "id" not in event:
            event["id"] = str(uuid.uuid5(_EMIT_NAMESPACE, idempotency_key(m, frame)))
        if "time" not in event:
            moment = datetime.fromtimestamp(m.now, UTC)
            event["time"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if event.get("data") is not None and "datacontenttype" not in event:
            event["datacontenttype"] = "application/json"
        m.commands.append(EmitEvent(effect_id=m.new_effect_id(), event=event))
        m.complete(frame, event)


class RunWorkflowHandler(TaskHandler):
    replayable = True

    def start(self, m: Machine, task: RunWorkflowTask, frame: Frame) -> None:
        child_input = frame.input
        if task.workflow_input is not None:
            scope = m.scope(frame, task)
            child_input = m.render(task.workflow_input, frame.input, scope, task.reference)
        command = StartWorkflow(
            effect_id=m.new_effect_id(),
            namespace=task.namespace,
            name=task.workflow_name,
            version=task.version,
            input=child_input,
            parent_execution_id=m.state.execution_id,
            wait=task.await_,
        )
        _issue_or_detach(m, frame, command, wait=task.await_)

    def on_result(self, m: Machine, frame: Frame, effect: Effect, result: Any) -> None:
        task = m.workflow.task(frame.reference)
        assert isinstance(task, RunWorkflowTask)
        m.complete(frame, None if task.return_ == "none" else result)


def _issue_or_detach(m: Machine, frame: Frame, command: Command, *, wait: bool) -> None:
    """Wait for the command's result, or (``await: false``) start it and move on with
    the task's input as its output."""
    if wait:
        m.issue(frame, command)
        return
    m.commands.append(command)
    m.complete(frame, frame.input)


def _texts(value: Any) -> list[str]:
    return [v if isinstance(v, str) else json.dumps(v) for v in (value or [])]


class RunProcessHandler(TaskHandler):
    replayable = True

    def start(self, m: Machine, task: RunProcessTask, frame: Frame) -> None:
        scope = m.scope(frame, task)
        where = task.reference

        def render(template: Any) -> Any:
            return None if template is None else m.render(template, frame.input, scope, where)

        stdin = render(task.stdin)
        environment = render(task.environment) or {}
        command = RunProcess(
            effect_id=m.new_effect_id(),
            process=task.kind,
            language=task.language,
            code=str(render(task.code)),
            arguments=_texts(render(task.arguments)),
            environment={
                str(k): v if isinstance(v, str) else json.dumps(v) for k, v in environment.items()
            },
            stdin=None if stdin is None else stdin if isinstance(stdin, str) else json.dumps(stdin),
            wait=task.await_,
        )
        _issue_or_detach(m, frame, command, wait=task.await_)

    def on_result(self, m: Machine, frame: Frame, effect: Effect, result: Any) -> None:
        task = m.workflow.task(frame.reference)
        assert isinstance(task, RunProcessTask)
        code, stdout, stderr = result["code"], result["stdout"], result["stderr"]
        if code != 0 and task.return_ in ("stdout", "stderr", "none"):
            detail = f"the process exited with code {code}: {stderr.strip()[-500:]}"
            m.fault(frame, errors.error(errors.RUNTIME, detail, instance=task.reference))
            return
        outputs = {
            "stdout": stdout.removesuffix("\n"),
            "stderr": stderr.removesuffix("\n"),
            "code": code,
            "all": {"code": code, "stdout": stdout, "stderr": stderr},
            "none": None,
        }
        m.complete(frame, outputs[task.return_])

"""Build the typed model (``flowapp.dsl.model``) from a schema-valid document.

The builder trusts the document's structure (the validator ran first) and does the rest
once, ahead of any execution: it compiles every expression, resolves reusable components
(``use.errors``, ``use.retries``, ``use.timeouts``, ``use.authentications``,
``use.functions``) and computes each task's JSON pointer reference.

``call: <name>`` resolves in the order DESIGN.md gives: a FlowApp function named in
``app_functions`` first, then ``use.functions``, then the built-in call types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowapp.dsl import model as m
from flowapp.dsl.build_calls import build_call, build_run
from flowapp.dsl.build_events import build_listen, build_schedule
from flowapp.dsl.durations import duration_seconds
from flowapp.dsl.expressions import (
    Constant,
    Template,
    compile_always_expression,
    compile_expression,
    compile_template,
    expression_source,
    strict_source,
)
from flowapp.dsl.problems import join_pointer

# `do` comes last: a `for` task has a `do` list too.
_TASK_KEYS = (
    "call",
    "for",
    "fork",
    "emit",
    "listen",
    "raise",
    "run",
    "set",
    "switch",
    "try",
    "wait",
    "do",
)


class Builder:
    def __init__(self, data: Mapping[str, Any], app_functions: frozenset[str]) -> None:
        self.data = data
        self.use: Mapping[str, Any] = data.get("use") or {}
        self.loose = (data.get("evaluate") or {}).get("mode") == "loose"
        self.app_functions = app_functions
        self.by_reference: dict[str, m.Task] = {}

    # --- small pieces ------------------------------------------------------------------

    def template(self, value: Any) -> Template:
        return compile_template(value, loose=self.loose)

    def optional_template(self, value: Any) -> Template | None:
        return None if value is None else self.template(value)

    def always(self, value: Any) -> Template:
        return compile_always_expression(value, loose=self.loose)

    def duration(self, value: Any) -> m.DurationSpec:
        if isinstance(value, str) and strict_source(value) is not None:
            return m.DurationSpec(expression=self.template(value))
        return m.DurationSpec(seconds=duration_seconds(value))

    def timeout(self, value: Any) -> m.DurationSpec | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = (self.use.get("timeouts") or {})[value]
        return self.duration(value["after"])

    @staticmethod
    def schema(spec: Mapping[str, Any] | None) -> m.SchemaSpec | None:
        if not spec or "document" not in spec:
            return None
        return m.SchemaSpec(spec["document"])

    def input(self, spec: Mapping[str, Any] | None) -> m.InputSpec | None:
        if not spec:
            return None
        source = spec.get("from")
        return m.InputSpec(self.schema(spec.get("schema")), self.optional_always(source))

    def output(self, spec: Mapping[str, Any] | None) -> m.OutputSpec | None:
        if not spec:
            return None
        return m.OutputSpec(self.schema(spec.get("schema")), self.optional_always(spec.get("as")))

    def export(self, spec: Mapping[str, Any] | None) -> m.ExportSpec | None:
        if not spec:
            return None
        return m.ExportSpec(self.schema(spec.get("schema")), self.optional_always(spec.get("as")))

    def optional_always(self, value: Any) -> Template | None:
        return None if value is None else self.always(value)

    def expression(self, value: str | None) -> Any:
        return None if value is None else compile_expression(expression_source(value))

    def authentication(self, policy: Mapping[str, Any] | None) -> m.Authentication | None:
        if not policy:
            return None
        if set(policy) == {"use"}:
            policy = (self.use.get("authentications") or {})[policy["use"]]
        scheme = next(iter(policy))
        settings = policy[scheme]
        if isinstance(settings, Mapping) and set(settings) == {"use"}:
            return m.Authentication(scheme, self.template({}), secret=settings["use"])
        return m.Authentication(scheme, self.template(settings))

    def endpoint(self, value: Any) -> m.Endpoint:
        authentication = None
        if isinstance(value, Mapping):
            authentication = self.authentication(value.get("authentication"))
            value = value["uri"]
        is_expression = strict_source(value) is not None
        uri: Template = self.template(value) if is_expression else Constant(value)
        return m.Endpoint(uri, not is_expression, authentication)

    # --- tasks ---------------------------------------------------------------------------

    def task_list(self, items: list[Mapping[str, Any]], reference: str) -> m.TaskList:
        tasks = []
        index_by_name: dict[str, int] = {}
        for index, item in enumerate(items):
            name, definition = next(iter(item.items()))
            task = self.task(name, definition, join_pointer(reference, index, name))
            tasks.append(task)
            index_by_name.setdefault(name, index)
        return m.TaskList(reference, tuple(tasks), index_by_name)

    def common(self, name: str, definition: Mapping[str, Any], reference: str) -> dict[str, Any]:
        return {
            "name": name,
            "reference": reference,
            "definition": definition,
            "if_": self.expression(definition.get("if")),
            "input": self.input(definition.get("input")),
            "output": self.output(definition.get("output")),
            "export": self.export(definition.get("export")),
            "timeout": self.timeout(definition.get("timeout")),
            "then": definition.get("then"),
        }

    def task(self, name: str, definition: Mapping[str, Any], reference: str) -> m.Task:
        kind = next((key for key in _TASK_KEYS if key in definition), None)
        common = self.common(name, definition, reference)
        build = getattr(self, f"build_{kind}")
        task: m.Task = build(definition, reference, common)
        self.by_reference[reference] = task
        return task

    def build_do(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        return m.DoTask(tasks=self.task_list(d["do"], ref + "/do"), **common)

    def build_set(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        value = d["set"]
        template = self.always(value) if isinstance(value, str) else self.template(value)
        return m.SetTask(value=template, **common)

    def build_switch(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        cases = []
        for item in d["switch"]:
            case_name, case = next(iter(item.items()))
            cases.append(m.SwitchCase(case_name, self.expression(case.get("when")), case["then"]))
        return m.SwitchTask(cases=tuple(cases), **common)

    def build_for(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        loop = d["for"]
        return m.ForTask(
            each=loop.get("each", "item"),
            at=loop.get("at", "index"),
            in_=compile_expression(expression_source(loop["in"])),
            while_=self.expression(d.get("while")),
            tasks=self.task_list(d["do"], ref + "/do"),
            **common,
        )

    def build_fork(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        fork = d["fork"]
        branches = self.task_list(fork["branches"], ref + "/fork/branches")
        return m.ForkTask(branches=branches, compete=bool(fork.get("compete", False)), **common)

    def build_try(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        spec = d["catch"]
        retry = spec.get("retry")
        if isinstance(retry, str):
            retry = (self.use.get("retries") or {})[retry]
        catch = m.Catch(
            errors=(spec.get("errors") or {}).get("with"),
            as_=spec.get("as", "error"),
            when=self.expression(spec.get("when")),
            except_when=self.expression(spec.get("exceptWhen")),
            retry=self.retry_policy(retry) if retry is not None else None,
            tasks=self.task_list(spec["do"], ref + "/catch/do") if "do" in spec else None,
        )
        return m.TryTask(tasks=self.task_list(d["try"], ref + "/try"), catch=catch, **common)

    def retry_policy(self, spec: Mapping[str, Any]) -> m.RetryPolicy:
        limit = spec.get("limit") or {}
        attempt = limit.get("attempt") or {}
        jitter = spec.get("jitter")
        return m.RetryPolicy(
            when=self.expression(spec.get("when")),
            except_when=self.expression(spec.get("exceptWhen")),
            delay=duration_seconds(spec["delay"]) if "delay" in spec else 0.0,
            backoff=next(iter(spec.get("backoff") or {"constant": {}})),
            jitter=(duration_seconds(jitter["from"]), duration_seconds(jitter["to"]))
            if jitter
            else None,
            max_retries=attempt.get("count"),
            attempt_duration=duration_seconds(attempt["duration"])
            if "duration" in attempt
            else None,
            total_duration=duration_seconds(limit["duration"]) if "duration" in limit else None,
        )

    def build_raise(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        spec = d["raise"]["error"]
        if isinstance(spec, str):
            spec = (self.use.get("errors") or {})[spec]
        error = m.ErrorSpec(
            type=self.template(spec["type"]),
            status=self.template(spec["status"]),
            title=self.optional_template(spec.get("title")),
            detail=self.optional_template(spec.get("detail")),
            instance=spec.get("instance"),
        )
        return m.RaiseTask(error=error, **common)

    def build_wait(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        return m.WaitTask(duration=self.duration(d["wait"]), **common)

    def build_emit(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        return m.EmitTask(event=self.template(d["emit"]["event"].get("with") or {}), **common)

    def build_call(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        return build_call(self, d, ref, common)

    def build_listen(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        return build_listen(self, d, ref, common)

    def build_run(self, d: Mapping[str, Any], ref: str, common: dict[str, Any]) -> m.Task:
        return build_run(self, d, ref, common)

    # --- the workflow --------------------------------------------------------------------

    def workflow(self) -> m.Workflow:
        data = self.data
        document = data["document"]
        tasks = self.task_list(data["do"], "/do")
        return m.Workflow(
            document=m.DocumentInfo(
                dsl=str(document["dsl"]),
                namespace=document["namespace"],
                name=document["name"],
                version=str(document["version"]),
                title=document.get("title"),
            ),
            definition=data,
            tasks=tasks,
            input=self.input(data.get("input")),
            output=self.output(data.get("output")),
            timeout=self.timeout(data.get("timeout")),
            schedule=build_schedule(self, data.get("schedule")),
            secrets=tuple(self.use.get("secrets") or ()),
            functions=self.app_functions,
            loose=self.loose,
            by_reference=self.by_reference,
        )


def build_workflow(
    data: Mapping[str, Any], *, app_functions: frozenset[str] = frozenset()
) -> m.Workflow:
    """The typed model of a schema-valid workflow document."""
    return Builder(data, app_functions).workflow()

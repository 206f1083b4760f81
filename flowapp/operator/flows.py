"""Knative Flows: when a workflow needs no engine, and the Sequence and Parallel it becomes.

A workflow fits Knative Flows when each event can pass through its functions with nothing
to remember in between:

- its top-level ``do`` is function calls of the app's own functions, each task nothing
  but ``call: <function>`` (no ``with``, ``if``, ``input``/``output``/``export``, ``then``
  or ``timeout``: those need expressions evaluated between the steps);
- it may end with a ``fork`` whose branches are such calls (or ``do`` lists of them) and
  do not ``compete``: its results are not joined, since nothing comes after it;
- the workflow itself declares no ``input``, ``output``, ``use``, ``schedule`` or
  ``timeout``;
- and every trigger is a Knative source (a trigger run by the engine needs the engine).

Then the calls become a ``Sequence`` of the function Services (the final fork a
``Parallel`` as its last step) and the app's sources feed it through the Broker: no
engine in the path, and no per-execution history. Anything else (join, switch, loops,
try, waits, listen, per-node history) runs through the engine. :func:`choose_mode` says
which, with every reason, for ``flowapp k8s render --explain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowapp.apps.model import FlowApp
from flowapp.dsl.problems import join_pointer
from flowapp.operator import names
from flowapp.operator.eventing import engine_reason, knative_kind
from flowapp.operator.target import Mode

Obj = dict[str, Any]
FLOWS = "flows.knative.dev/v1"
_WORKFLOW_KEYS = frozenset({"document", "do"})


@dataclass(frozen=True)
class Step:
    """One step of the Sequence: a function, or (last) a fork of branches of functions."""

    function: str | None = None
    branches: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class ModeChoice:
    mode: Mode
    reasons: list[str]
    steps: tuple[Step, ...] = field(default=())


def choose_mode(app: FlowApp, requested: Mode = "auto") -> ModeChoice:
    """The mode an app gets, and why: Flows if asked or if it fits, else the engine."""
    steps, misfits = flow_steps(app)
    misfits += [engine_reason(t) for t in app.triggers if knative_kind(t) is None]
    if requested == "engine":
        return ModeChoice("engine", ["the engine was asked for (mode: engine)", *misfits])
    if not misfits:
        return ModeChoice("flows", [_describe(steps)], tuple(steps))
    if requested == "flows":
        raise ValueError("the app does not fit Knative Flows: " + "; ".join(misfits))
    return ModeChoice("engine", misfits)


def _describe(steps: list[Step]) -> str:
    calls = sum(1 for step in steps if step.function)
    text = f"the workflow is {calls} function call(s) in sequence"
    fork = next((step for step in steps if step.branches), None)
    if fork is not None:
        text += f" ending in a fork of {len(fork.branches)} branches whose results are not joined"
    return text + ", and every trigger is a Knative source: a Knative Sequence, no engine"


def flow_steps(app: FlowApp) -> tuple[list[Step], list[str]]:
    """The Sequence's steps, and every reason the workflow does not fit."""
    workflow = app.workflow
    misfits = [
        f"/{key}: the workflow's `{key}` needs the engine"
        for key in workflow
        if key not in _WORKFLOW_KEYS
    ]
    tasks = workflow.get("do") or []
    steps: list[Step] = []
    for index, item in enumerate(tasks):
        (task_name, task), pointer = next(iter(item.items())), join_pointer("/do", index)
        pointer = join_pointer(pointer, task_name)
        last = index == len(tasks) - 1
        if "fork" in task and last:
            branches, found = _fork(app, task, pointer)
            misfits += found
            steps.append(Step(branches=branches))
            continue
        function, found = _call(app, task, pointer)
        misfits += found
        steps.append(Step(function=function))
    return steps, misfits


def _call(app: FlowApp, task: Any, pointer: str) -> tuple[str | None, list[str]]:
    if not isinstance(task, dict) or "call" not in task:
        kind = next(iter(task), "?") if isinstance(task, dict) else "?"
        if kind == "fork":
            return None, [f"{pointer}: a fork followed by more tasks joins its results"]
        return None, [f"{pointer}: a `{kind}` task needs the engine"]
    extra = sorted(set(task) - {"call", "metadata"})
    if extra:
        listed = ", ".join(f"`{key}`" for key in extra)
        return None, [f"{pointer}: {listed} needs the engine (expressions between steps)"]
    if task["call"] not in app.functions:
        return None, [f"{pointer}: `call: {task['call']}` is not one of the app's functions"]
    return str(task["call"]), []


def _fork(
    app: FlowApp, task: dict[str, Any], pointer: str
) -> tuple[tuple[tuple[str, ...], ...], list[str]]:
    fork = task["fork"]
    misfits = []
    if fork.get("compete"):
        misfits.append(f"{pointer}/fork/compete: a competing fork needs the engine")
    extra = sorted(set(task) - {"fork", "metadata"})
    if extra:
        misfits.append(f"{pointer}: {', '.join(extra)} needs the engine")
    branches = []
    for index, item in enumerate(fork.get("branches") or []):
        name, branch = next(iter(item.items()))
        where = join_pointer(join_pointer(f"{pointer}/fork/branches", index), name)
        calls, found = _branch(app, branch, where)
        misfits += found
        branches.append(calls)
    return tuple(branches), misfits


def _branch(app: FlowApp, branch: Any, pointer: str) -> tuple[tuple[str, ...], list[str]]:
    if isinstance(branch, dict) and set(branch) <= {"do", "metadata"} and "do" in branch:
        calls, misfits = [], []
        for index, item in enumerate(branch["do"]):
            name, task = next(iter(item.items()))
            function, found = _call(app, task, join_pointer(f"{pointer}/do/{index}", name))
            misfits += found
            calls.append(function or "")
        return tuple(calls), misfits
    function, found = _call(app, branch, pointer)
    return ((function,) if function else ()), found


# --- objects -------------------------------------------------------------------------------


def flow_objects(app: str, namespace: str, steps: tuple[Step, ...], delivery: Obj) -> list[Obj]:
    """The Sequence (named after the app) and, for a final fork, its Parallel and the
    Sequences of its multi-step branches."""
    objects: list[Obj] = []
    sequence_steps = []
    for step in steps:
        if step.function is not None:
            sequence_steps.append(_service_step(app, step.function, delivery))
            continue
        parallel = _parallel(app, namespace, step.branches, delivery, objects)
        sequence_steps.append({"ref": _ref("Parallel", parallel["metadata"]["name"])})
        objects.append(parallel)
    objects.insert(
        0, _flow("Sequence", app, names.object_name(app), namespace, {"steps": sequence_steps})
    )
    return objects


def _parallel(
    app: str, namespace: str, branches: tuple[tuple[str, ...], ...], delivery: Obj, extra: list[Obj]
) -> Obj:
    name = names.object_name(app, "fork")
    items = []
    for index, calls in enumerate(branches):
        if len(calls) == 1:
            subscriber = _service_destination(app, calls[0])
        else:
            branch_name = names.object_name(app, "fork", str(index))
            steps = [_service_step(app, call, delivery) for call in calls]
            extra.append(_flow("Sequence", app, branch_name, namespace, {"steps": steps}))
            subscriber = {"ref": _ref("Sequence", branch_name)}
        items.append({"subscriber": subscriber, "delivery": delivery})
    return _flow("Parallel", app, name, namespace, {"branches": items})


def _flow(kind: str, app: str, name: str, namespace: str, spec: Obj) -> Obj:
    return {
        "apiVersion": FLOWS,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": names.labels(app, "flow")},
        "spec": spec,
    }


def _service_step(app: str, function: str, delivery: Obj) -> Obj:
    return _service_destination(app, function) | {"delivery": delivery}


def _service_destination(app: str, function: str) -> Obj:
    return {
        "ref": {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "name": names.function_service(app, function),
        }
    }


def _ref(kind: str, name: str) -> Obj:
    return {"apiVersion": FLOWS, "kind": kind, "name": name}


def sequence_destination(app: str) -> Obj:
    return {"ref": _ref("Sequence", names.object_name(app))}

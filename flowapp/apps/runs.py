"""Which kinds of ``run`` process a workflow starts, and where: ``shell``, ``script`` and
``container`` run code on the server's machine, so ``flowapp up`` allows them only when
the platform (``--allow-run``) or an admin (per app) said so. A deploy or a validation
that uses a kind not allowed is refused with one problem per task, at the task's
``run/<kind>`` (``run: workflow`` starts a workflow, not a process: always allowed).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flowapp.apps.model import FlowApp
from flowapp.dsl.problems import Problem, join_pointer

PROCESS_KINDS = ("shell", "script", "container")
_CHILD_LISTS = (("do",), ("try",), ("catch", "do"), ("fork", "branches"))


def run_processes(document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(pointer of the task, kind)`` for every ``run: shell|script|container`` task,
    nested and ``use.functions`` bodies included."""
    yield from _task_list(document.get("do"), "/do")
    functions = _mapping(_mapping(document.get("use")).get("functions"))
    for name, task in functions.items():
        yield from _task(task, join_pointer("/use/functions", name))


def disabled_runs(app: FlowApp, allowed: frozenset[str]) -> list[Problem]:
    """A problem for each process kind ``app``'s workflow uses that is not ``allowed``."""
    problems = []
    for pointer, kind in run_processes(app.workflow):
        if kind in allowed:
            continue
        at = f"{pointer}/run/{kind}"
        line, column = app.workflow_source.locate(at)
        message = (
            f"run: {kind} is disabled on this platform: an admin can allow it for every app "
            f"(flowapp up --allow-run {kind}) or for app {app.name} "
            f"(flowapp allow-run {app.name} {kind})"
        )
        where = app.workflow_pointer + at
        problems.append(Problem(where, message, app.workflow_source.file, line, column))
    return problems


def _task_list(items: Any, pointer: str) -> Iterator[tuple[str, str]]:
    for index, item in enumerate(items if isinstance(items, list) else []):
        for name, task in _mapping(item).items():
            yield from _task(task, join_pointer(pointer, index, name))


def _task(task: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if not isinstance(task, dict):
        return
    run = _mapping(task.get("run"))
    for kind in PROCESS_KINDS:
        if kind in run:
            yield pointer, kind
    for path in _CHILD_LISTS:
        child: Any = task
        for key in path:
            child = _mapping(child).get(key)
        yield from _task_list(child, join_pointer(pointer, *path))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}

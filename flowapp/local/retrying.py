"""Where a retry after a fix runs: the app's serving revision, or the execution's own.

    faulted execution --completed task runs--> their references (JSON pointers)
        serving revision's workflow has every one at the same place?  -> serving revision
        otherwise (or no serving revision, or it is the execution's) -> its own revision

A retry replays the outputs of the tasks that completed, found by their place in the
document (their occurrence), and runs the rest. That is sound on another revision only if
each completed task is still where it was, under the same name: then the newer code takes
over from the task that failed (the journey *a node fails, fix its code, push, retry*).
If the fix moved tasks, the completed tasks would be run again or replayed in the wrong
place, so the retry stays on the execution's own revision, whose functions are started on
demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flowapp.dsl.problems import split_pointer


def has_task_at(document: Mapping[str, Any], reference: str) -> bool:
    """Whether ``reference`` (``/do/1/charge/try/do/0/callApi``) still resolves in the
    document: a task of that name at that place (the pointer ends with the name)."""
    node: Any = document
    tokens = split_pointer(reference)
    if not tokens:
        return False
    for token in tokens:
        if isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        elif isinstance(node, Mapping) and token in node:
            node = node[token]
        else:
            return False
    return True


def keeps_completed_tasks(document: Mapping[str, Any], references: Iterable[str]) -> bool:
    """Whether every completed task (by reference) is at the same place in ``document``."""
    return all(has_task_at(document, reference) for reference in references)

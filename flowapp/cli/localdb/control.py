"""Controlling a local store's executions.

``cancel``, ``suspend`` and ``resume`` queue a signal in the store for whichever engine
process holds the execution. ``retry`` (from the task that failed) and ``rerun`` (from
the start, same input) run the execution here, to completion, like ``flowapp run``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from flowapp.cli.failures import EXIT_FAULTED, InvalidInput
from flowapp.cli.localdb.store import open_local_store

ENDED = ("completed", "faulted", "cancelled")
ALLOWED = {
    "cancel": ("pending", "running", "waiting", "suspended"),
    "suspend": ("pending", "running", "waiting"),
    "resume": ("suspended",),
    "retry": ("faulted",),
}
DONE = {"cancel": "cancelled", "suspend": "suspended", "resume": "resumed", "retry": "retried"}


def signal_local(action: str, prefix: str, *, db: str | None) -> None:
    from flowapp.cli.output import note
    from flowapp.engine.signals import Cancel, Resume, Suspend

    signal = {"cancel": Cancel(), "suspend": Suspend(), "resume": Resume()}[action]

    async def send(runtime: Any, execution_id: str) -> None:
        await runtime.send(execution_id, signal)

    execution_id = asyncio.run(_with_runtime(db, prefix, send, checked=action))
    note(f"{action} requested for {execution_id}; the engine holding it applies it")


def retry_local(action: str, prefix: str, *, db: str | None) -> None:
    """``retry`` (from the task that failed) or ``rerun`` (a new execution), run here."""
    from flowapp.cli.output import note

    async def run(runtime: Any, execution_id: str) -> Any:
        if action == "retry":
            await runtime.retry(execution_id)
            return await runtime.wait_for(execution_id)
        new_id = await runtime.rerun(execution_id)
        note(f"re-run of {execution_id}: {new_id}")
        return await runtime.wait_for(new_id)

    checked = action if action == "retry" else None
    _finish(asyncio.run(_with_runtime(db, prefix, run, checked=checked)))


async def _with_runtime(
    db: str | None,
    prefix: str,
    action: Callable[[Any, str], Awaitable[Any]],
    *,
    checked: str | None,
) -> Any:
    from flowapp.cli.shortids import resolve_local
    from flowapp.runtime.runtime import Runtime

    store = await asyncio.to_thread(open_local_store, db)
    try:
        execution_id = resolve_local(store, prefix)
        if checked is not None:
            _check_state(store.get_execution(execution_id), checked)
        runtime = Runtime(store, owner="cli")
        await runtime.start(recover=False)
        try:
            result = await action(runtime, execution_id)
        finally:
            await runtime.stop()
        return execution_id if result is None else result
    finally:
        store.close()


def _check_state(record: Any, action: str) -> None:
    """The API's 409, here: an action the execution's state does not allow."""
    if record.status not in ALLOWED[action]:
        raise InvalidInput(
            f"execution {record.id} is {record.status}: it cannot be {DONE[action]}",
            hint=f"only a {' or '.join(ALLOWED[action])} execution can be {DONE[action]}",
        )


def _finish(outcome: Any) -> None:
    import typer

    from flowapp.cli.output import note, print_json

    if outcome.status == "completed":
        print_json(outcome.output)
        return
    print_json(outcome.error or {"status": outcome.status})
    if outcome.status not in ENDED:
        note(f"{outcome.id} is {outcome.status}")
    raise typer.Exit(EXIT_FAULTED)

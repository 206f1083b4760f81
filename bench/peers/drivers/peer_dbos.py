"""DBOS durable workflows, in this process (DBOS is a library: the workflows run in the
application's threads), on SQLite or PostgreSQL as ``database_url`` says.

- 3-step chain: a workflow of three ``@DBOS.step`` calls;
- fan-out: a workflow runs a step, starts ten child workflows of one step each
  (``DBOS.start_workflow``, DBOS's way to run steps in parallel), waits for them, and
  runs the join step.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from dbos import DBOS, DBOSConfig
from peer_common import CHAIN_OUTPUT, FUNCTION, SETTINGS, emit, measure, versions, wait_until_ready
from sqlalchemy import event
from sqlalchemy.engine import Engine

DATABASE_URL = SETTINGS.get("database_url", "sqlite:///bench-peers.sqlite")


@DBOS.step()
def step(data: Any) -> Any:
    return FUNCTION.call(data)


@DBOS.workflow()
def chain_workflow(data: Any) -> Any:
    return step(step(step(data)))


@DBOS.workflow()
def branch_workflow(data: Any) -> Any:
    return step(data)


@DBOS.workflow()
def fan_out_workflow(data: Any) -> Any:
    first = step(data)
    handles = [DBOS.start_workflow(branch_workflow, first) for _ in range(10)]
    outputs = [handle.get_result() for handle in handles]
    return step({"steps": sum(output["steps"] for output in outputs)})


def chain() -> Any:
    return chain_workflow({"steps": 0})


def fan_out() -> Any:
    return fan_out_workflow({"steps": 0})


def sqlite_as_flowapp(url: str) -> str:
    """Gives a SQLite database flowapp's store's settings, WAL and ``synchronous =
    NORMAL`` (DBOS's own are a rollback journal and ``FULL``: an fsync per commit)."""
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as database:
        database.execute("PRAGMA journal_mode = WAL")  # kept in the file

    @event.listens_for(Engine, "connect")
    def normal_sync(connection: Any, _: Any) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.execute("PRAGMA synchronous = NORMAL")

    return "WAL, synchronous = NORMAL (as flowapp's store)"


def main() -> None:
    config: DBOSConfig = {"name": "bench-peers", "system_database_url": DATABASE_URL}
    settings = {
        "versions": versions("dbos", "sqlalchemy", "psycopg"),
        "workers": f"the driving process: DBOS's executor threads, {SETTINGS['width']} callers",
        "database": DATABASE_URL,
        "pool": "sys_db_pool_size default (20)",
        "chain": "workflow of 3 steps",
        "fan_out": "workflow: step; 10 child workflows of 1 step (start_workflow); join step",
    }
    if DATABASE_URL.startswith("sqlite:///"):
        settings["sqlite"] = sqlite_as_flowapp(DATABASE_URL)
    emit(config=settings)
    DBOS(config=config)
    DBOS.launch()
    try:
        wait_until_ready(chain, CHAIN_OUTPUT)
        measure(chain, fan_out)
    finally:
        DBOS.destroy()


if __name__ == "__main__":
    main()

"""``flowapp up`` deletes finished executions past their retention: the server's
(``--retention``) and an app's own (``spec.retention``), and nothing else."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from flowapp.store import Checkpoint, ExecutionRecord, TaskRunRecord
from flowapp.store.sql import SqlStore
from tests.e2e.platform_process import flowapp_up

DAY = 86_400.0
KEEPER = """\
apiVersion: flowapp.dev/v1alpha1
kind: FlowApp
metadata: {name: keeper}
spec:
  retention: P3650D
  workflow:
    document: {dsl: '1.0.3', namespace: default, name: keeper, version: '1.0.0'}
    do:
      - greet: {set: {hello: world}}
"""


def finished(store: SqlStore, execution_id: str, *, app: str, ended_at: float) -> None:
    record = ExecutionRecord(execution_id, "wf", "completed", {}, ended_at - 1, app=app)
    run = TaskRunRecord(
        execution_id=execution_id,
        id=1,
        parent_id=None,
        reference="/do/0/greet",
        occurrence="/do/0/greet",
        name="greet",
        status="completed",
        input={},
        attempt=1,
        started_at=ended_at - 1,
        ended_at=ended_at,
    )
    checkpoint = Checkpoint(execution_id, "completed", {}, ended_at, ended_at=ended_at)
    checkpoint.task_runs.append(run)
    store.create_execution(record, checkpoint)


def status_of(api: httpx.Client, execution_id: str) -> int:
    return api.get(f"/api/v1/executions/{execution_id}").status_code


def test_up_purges_past_the_servers_and_the_apps_retention(tmp_path: Path) -> None:
    project = tmp_path / "keeper"
    project.mkdir()
    (project / "flowapp.yaml").write_text(KEEPER)
    data = tmp_path / "data"
    with flowapp_up(data, "--app", str(project)) as platform, platform.client() as api:
        deadline = time.monotonic() + 60
        while not api.get("/api/v1/apps/keeper").json().get("deployed_revision"):
            assert time.monotonic() < deadline, "keeper was not deployed"
            time.sleep(0.2)
    store = SqlStore(f"sqlite:///{data / 'flowapp.db'}")
    now = time.time()
    finished(store, "old-of-other", app="other", ended_at=now - 40 * DAY)
    finished(store, "old-of-keeper", app="keeper", ended_at=now - 40 * DAY)
    finished(store, "recent", app="other", ended_at=now - 2 * DAY)
    store.close()

    # Started again: keeper serves, then the first round of retention runs at once.
    with flowapp_up(data, "--retention", "30d") as platform, platform.client() as api:
        deadline = time.monotonic() + 60
        while status_of(api, "old-of-other") != 404:
            assert time.monotonic() < deadline, "the old execution was not purged"
            time.sleep(0.2)
        assert status_of(api, "old-of-keeper") == 200  # keeper keeps ten years
        assert status_of(api, "recent") == 200
        tasks = api.get("/api/v1/executions/old-of-other/tasks")
        assert tasks.status_code == 404

"""Every JSON value reads back exactly as it was written, through every adapter and every
JSON column: bare numbers (SQLite once gave the columns numeric affinity, and ``42`` came
back as an integer the decoder refused), floats that look like integers, integers past 64
bits, ``\\u0000`` (which ``jsonb`` refuses), any Unicode, deep nesting.

"Exactly" means the same types too: ``1.0`` stays a float, ``True`` is not ``1``.
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flowapp.store import Store
from flowapp.store.platform import AlertRuleSpec, AppObservation, PlatformStore, TriggerStatus
from flowapp.store.port import SubscriptionRecord
from flowapp.store.sql import SqlStore
from flowapp.store.sql.migrate import upgrade

from .platform_factories import T0, platform_store_fixture  # noqa: F401 (the fixture)
from .store_factories import checkpoint, execution, task_run, workflow

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)  # no lone surrogates
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 5, max_value=2**200)
    | st.integers(min_value=-(2**200), max_value=-(2**63) + 5)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = [value] if level % 2 else {"in": value}
    return value


EXAMPLES = [42, 1.5, 1.0, -0.0, 0, 1e16, 1e308, 5e-324, 2**64, -(2**70), "\x00", "42", True]


def exactly(a: Any, b: Any) -> bool:
    """Equal, with the same JSON types all the way down (``1`` is not ``1.0``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(exactly(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(exactly(a[key], b[key]) for key in a)
    return bool(a == b)


def with_examples(test: Any) -> Any:
    for value in [*EXAMPLES, nested(300)]:
        test = example(value=value)(test)
    return test


@with_examples
@given(value=JSON)
@PROPERTY
def test_every_json_value_round_trips_through_every_execution_store_column(
    store: Store, value: Any
) -> None:
    execution_id = f"e-{uuid.uuid4().hex}"
    workflow_id = f"wf-{uuid.uuid4().hex}"
    store.save_workflow(workflow(workflow_id, document={"do": [], "value": value}))
    subscription = SubscriptionRecord(execution_id, "listen-1", [{"type": "t", "source": value}])
    first = checkpoint(
        execution_id,
        state={"value": value},
        output=value,
        error={"detail": value},
        task_runs=[task_run(execution_id, 1, input=value, output=value, error={"x": value})],
        outbox=[{"value": value}],
        subscriptions_added=[subscription] if isinstance(value, str) else [],
    )
    store.create_execution(execution(execution_id, workflow_id=workflow_id, input=value), first)
    store.send_signal(execution_id, {"value": value}, now=T0)

    found = store.get_execution(execution_id)
    assert found is not None
    assert exactly(found.input, value) and exactly(found.output, value)
    assert exactly(found.error, {"detail": value})
    assert exactly(store.load_state(execution_id), {"value": value})
    ((loaded, state),) = store.load_executions([execution_id])
    assert exactly(loaded.input, value) and exactly(state, {"value": value})
    (run,) = store.task_runs(execution_id)
    assert exactly([run.input, run.output, run.error], [value, value, {"x": value}])
    stored_workflow = store.get_workflow(workflow_id)
    assert stored_workflow is not None and exactly(stored_workflow.document["value"], value)
    outbox = [i for i in store.pending_outbox(limit=10_000) if i.execution_id == execution_id]
    assert [item.payload for item in outbox] == [{"value": value}]
    assert exactly(outbox[0].payload, {"value": value})
    signals = [s for s in store.pending_signals(owner=None, limit=10_000)]
    (signal,) = [s for s in signals if s.execution_id == execution_id]
    assert exactly(signal.payload, {"value": value})
    if isinstance(value, str):
        matching = store.subscriptions_matching({"type": "t", "source": value})
        (sub,) = [s for s in matching if s.execution_id == execution_id]
        assert exactly(sub.attributes, [{"type": "t", "source": value}])


@with_examples
@given(value=JSON)
@PROPERTY
def test_every_json_value_round_trips_through_every_platform_store_column(
    platform_store: PlatformStore, value: Any
) -> None:
    name = f"a{uuid.uuid4().hex[:12]}"
    resource = {"kind": "FlowApp", "metadata": {"name": name}, "spec": {"value": value}}
    platform_store.create_app(name, namespace="default", resource=resource, now=T0)
    revision = platform_store.create_revision(name, digest="d", resource=resource, now=T0)
    app = platform_store.get_app(name)
    assert app is not None and exactly(app.resource, resource)
    stored_revision = platform_store.get_revision(revision.id)
    assert stored_revision is not None and exactly(stored_revision.resource, resource)

    rule = platform_store.create_alert_rule(
        AlertRuleSpec(name, "r", "failed_executions", 1.0, 60.0, "https://h.example/a"), now=T0
    )
    platform_store.enqueue_notification(rule.id, {"value": value}, now=T0)
    due = platform_store.due_notifications(now=T0 + 1, limit=10_000)
    (notification,) = [n for n in due if n.rule_id == rule.id]
    assert exactly(notification.payload, {"value": value})

    text = value if isinstance(value, str) else repr(value)
    trigger = TriggerStatus(state="connecting", last_error=text)
    platform_store.set_observation(AppObservation(name, None, {}, {"t": trigger}, T0))
    observation = platform_store.get_observation(name)
    assert observation is not None and observation.triggers["t"]["last_error"] == text


def test_0004_keeps_what_a_0003_database_holds_and_reads_its_numbers(tmp_path: Path) -> None:
    """The SQLite tables are rebuilt with foreign keys off: no child row is lost, and the
    numbers the old numeric affinity stored read back as numbers."""
    store = SqlStore(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(store.engine, "0003")
    with store.engine.begin() as conn:
        for statement in _OLD_ROWS:
            conn.execute(sa.text(statement))
        stored = conn.execute(sa.text("SELECT typeof(input) FROM executions")).scalar()
        assert stored == "integer"  # what made `flowapp run` crash on a bare number
    store.migrate()
    found = store.get_execution("e1")
    assert found is not None and (found.input, found.output) == (42, 1.5)
    assert [run.output for run in store.task_runs("e1")] == [42]
    with store.engine.connect() as conn:
        counts = {
            table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("task_runs", "outbox", "app_revisions", "app_deploys", "app_traffic")
        }
    assert counts == dict.fromkeys(counts, 1)
    assert exactly(_rewritten(store, 1.0), 1.0)
    store.close()


_OLD_ROWS = [
    "INSERT INTO executions (id, workflow_id, status, input, output, created_at) "
    "VALUES ('e1', 'wf', 'completed', '42', '1.5', 1.0)",
    "INSERT INTO task_runs (execution_id, id, reference, occurrence, name, status, output,"
    " attempt, started_at) VALUES ('e1', 1, '/do/0/a', '/do/0/a', 'a', 'completed', '42', 1, 1.0)",
    "INSERT INTO outbox (execution_id, payload, created_at) VALUES ('e1', '{}', 1.0)",
    "INSERT INTO apps (name, namespace, resource, created_at, updated_at)"
    " VALUES ('shop', 'default', '{}', 1.0, 1.0)",
    "INSERT INTO app_revisions (app, number, id, digest, resource, created_at, status, message)"
    " VALUES ('shop', 1, 'shop-00001', 'd', '{}', 1.0, 'ready', '')",
    "INSERT INTO app_deploys (app, revision_id, status, message, log, started_at)"
    " VALUES ('shop', 'shop-00001', 'succeeded', '', '', 1.0)",
    "INSERT INTO app_traffic (app, revision_id, position, percent)"
    " VALUES ('shop', 'shop-00001', 0, 100)",
]


def _rewritten(store: SqlStore, value: Any) -> Any:
    """A value written after the migration, read back."""
    store.create_execution(execution("e2", input=value), checkpoint("e2"))
    found = store.get_execution("e2")
    assert found is not None
    return found.input

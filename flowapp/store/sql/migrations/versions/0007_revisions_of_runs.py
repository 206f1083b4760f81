"""Which revision each task run ran on; which engine runs each deploy; apps deleted whole.

- ``task_runs.revision``: a retry after a fix may run the remaining tasks on the app's
  newer revision, so an execution's task runs may name different revisions.
- ``app_deploys.owner``: the engine process that carries a deploy out, so that at its
  next start it can fail the deploys a crash cut short (and only its own, when several
  processes share PostgreSQL).
- ``apps.deleted_at`` goes: a deleted app is deleted with its revisions, deploys and
  status, and a new app of the name starts from revision 1. The tombstones of apps
  deleted before are removed with their children here (foreign keys are off during
  migrations on SQLite, so the children are deleted explicitly).

Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

Time: sa.Double[float] = sa.Double()

# Children of a deleted app, in an order that never leaves a row pointing at a gone one.
_APP_CHILDREN = (
    "app_traffic",
    "app_secrets",
    "app_deploys",
    "app_conditions",
    "app_observations",
    "alert_notifications",
    "alert_states",
    "alert_rules",
    "app_revisions",
)
_BY_RULE = frozenset({"alert_notifications", "alert_states"})


def upgrade() -> None:
    with op.batch_alter_table("task_runs") as batch:
        batch.add_column(sa.Column("revision", sa.Text))
    with op.batch_alter_table("app_deploys") as batch:
        batch.add_column(sa.Column("owner", sa.Text))
    _remove_tombstones()
    with op.batch_alter_table("apps", recreate="auto") as batch:
        batch.drop_column("deleted_at")


def _remove_tombstones() -> None:
    deleted = "SELECT name FROM apps WHERE deleted_at IS NOT NULL"
    rules = f"SELECT id FROM alert_rules WHERE app IN ({deleted})"
    for table in _APP_CHILDREN:
        column, among = ("rule_id", rules) if table in _BY_RULE else ("app", deleted)
        op.execute(f"DELETE FROM {table} WHERE {column} IN ({among})")
    op.execute("DELETE FROM apps WHERE deleted_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("deleted_at", Time))
    with op.batch_alter_table("app_deploys") as batch:
        batch.drop_column("owner")
    with op.batch_alter_table("task_runs") as batch:
        batch.drop_column("revision")

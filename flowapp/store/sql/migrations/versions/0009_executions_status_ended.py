"""``ix_executions_status_ended`` replaces ``ix_executions_ended``.

A purge selects finished executions (three statuses) that ended before a moment. On
``ended_at`` alone, SQLite preferred the claiming index on ``status`` and sorted every
finished execution at each batch; on ``(status, ended_at)`` a batch reads, for each
finished status, only the rows older than the moment, and stops at its limit.

Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.drop_index("ix_executions_ended", table_name="executions")
    op.create_index("ix_executions_status_ended", "executions", ["status", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_executions_status_ended", table_name="executions")
    op.create_index("ix_executions_ended", "executions", ["ended_at"])

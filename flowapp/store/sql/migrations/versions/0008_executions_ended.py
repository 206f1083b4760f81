"""``ix_executions_ended``: retention reads finished executions oldest first.

Unfinished executions have no ``ended_at``, so the index holds finished ones in the
order a purge deletes them, and a batch reads only the rows it deletes.

Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_index("ix_executions_ended", "executions", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_executions_ended", table_name="executions")

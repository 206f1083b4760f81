"""The kinds of ``run`` process an admin allowed one app: ``apps.allowed_runs``.

A comma-separated list of ``shell``, ``script``, ``container``; empty for none beyond
what the platform allows every app (``flowapp up --allow-run``).

Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("allowed_runs", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("allowed_runs")

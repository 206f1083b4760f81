"""Apps' secrets, sealed (AES-GCM) before they reach the database: ``app_secrets``.

Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"

Key = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
Time: sa.Double[float] = sa.Double()


def upgrade() -> None:
    op.create_table(
        "app_secrets",
        sa.Column("app", Key, nullable=False),
        sa.Column("name", Key, nullable=False),
        sa.Column("key_id", sa.Text, nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("app", "name", name="pk_app_secrets"),
        sa.ForeignKeyConstraint(
            ["app"], ["apps.name"], ondelete="CASCADE", name="fk_app_secrets_app_apps"
        ),
    )


def downgrade() -> None:
    op.drop_table("app_secrets")

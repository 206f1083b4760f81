"""The platform store: apps, revisions, traffic, deploys, conditions, observations,
API tokens, alert rules, alert states and alert notifications.

Written out by hand like ``0001_initial.py``; the types are repeated here, not imported
from ``flowapp/store/platform/sql/tables.py``, so that later changes to the tables
cannot rewrite history. ``tests/integration/store/test_platform_sql.py`` checks that
the two agree. Constraint names follow the naming convention of the shared MetaData.

Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"

JSONValue = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
Key = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
Time: sa.Double[float] = sa.Double()
Number: sa.Double[float] = sa.Double()
Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

TABLES = (
    "apps",
    "app_revisions",
    "app_traffic",
    "app_deploys",
    "app_conditions",
    "app_observations",
    "api_tokens",
    "alert_rules",
    "alert_states",
    "alert_notifications",
)


def _fk(table: str, column: str, target: str, target_column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.{target_column}"],
        ondelete="CASCADE",
        name=f"fk_{table}_{column}_{target}",
    )


def upgrade() -> None:
    _create_apps()
    _create_rollout()
    _create_status()
    _create_tokens()
    _create_alerts()


def _create_apps() -> None:
    op.create_table(
        "apps",
        sa.Column("name", Key, nullable=False),
        sa.Column("namespace", sa.Text, nullable=False),
        sa.Column("resource", JSONValue, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("deleted_at", Time),
        sa.PrimaryKeyConstraint("name", name="pk_apps"),
    )
    op.create_table(
        "app_revisions",
        sa.Column("app", Key, nullable=False),
        sa.Column("number", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("id", Key, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("resource", JSONValue, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("app", "number", name="pk_app_revisions"),
        sa.UniqueConstraint("id", name="uq_app_revisions_id"),
        _fk("app_revisions", "app", "apps", "name"),
    )


def _create_rollout() -> None:
    op.create_table(
        "app_traffic",
        sa.Column("app", Key, nullable=False),
        sa.Column("revision_id", Key, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("percent", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("app", "revision_id", name="pk_app_traffic"),
        _fk("app_traffic", "app", "apps", "name"),
        _fk("app_traffic", "revision_id", "app_revisions", "id"),
    )
    op.create_table(
        "app_deploys",
        sa.Column("id", Serial, nullable=False, autoincrement=True),
        sa.Column("app", Key, nullable=False),
        sa.Column("revision_id", Key, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("log", sa.Text, nullable=False),
        sa.Column("started_at", Time, nullable=False),
        sa.Column("ended_at", Time),
        sa.PrimaryKeyConstraint("id", name="pk_app_deploys"),
        _fk("app_deploys", "app", "apps", "name"),
        _fk("app_deploys", "revision_id", "app_revisions", "id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_app_deploys_app_id", "app_deploys", ["app", "id"])


def _create_status() -> None:
    op.create_table(
        "app_conditions",
        sa.Column("app", Key, nullable=False),
        sa.Column("type", Key, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("last_transition_time", Time, nullable=False),
        sa.Column("observed_revision", sa.Text),
        sa.PrimaryKeyConstraint("app", "type", name="pk_app_conditions"),
        _fk("app_conditions", "app", "apps", "name"),
    )
    op.create_table(
        "app_observations",
        sa.Column("app", Key, nullable=False),
        sa.Column("deployed_revision", sa.Text),
        sa.Column("functions", JSONValue, nullable=False),
        sa.Column("triggers", JSONValue, nullable=False),
        sa.Column("observed_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("app", name="pk_app_observations"),
        _fk("app_observations", "app", "apps", "name"),
    )


def _create_tokens() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", Serial, nullable=False, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("prefix", Key, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("last_used_at", Time),
        sa.Column("revoked_at", Time),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("secret_hash", name="uq_api_tokens_secret_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_api_tokens_prefix", "api_tokens", ["prefix"])


def _create_alerts() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", Serial, nullable=False, autoincrement=True),
        sa.Column("app", Key, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("threshold", Number, nullable=False),
        sa.Column("window_seconds", Number, nullable=False),
        sa.Column("function", sa.Text),
        sa.Column("webhook_url", sa.Text, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
        sa.UniqueConstraint("app", "name", name="uq_alert_rules_app_name"),
        _fk("alert_rules", "app", "apps", "name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "alert_states",
        sa.Column("rule_id", Serial, nullable=False, autoincrement=False),
        sa.Column("firing", sa.Boolean, nullable=False),
        sa.Column("since", Time),
        sa.Column("last_value", Number),
        sa.Column("last_notified_at", Time),
        sa.PrimaryKeyConstraint("rule_id", name="pk_alert_states"),
        _fk("alert_states", "rule_id", "alert_rules", "id"),
    )
    _create_notifications()


def _create_notifications() -> None:
    op.create_table(
        "alert_notifications",
        sa.Column("id", Serial, nullable=False, autoincrement=True),
        sa.Column("rule_id", Serial, nullable=False),
        sa.Column("payload", JSONValue, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", Time),
        sa.Column("delivered_at", Time),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_notifications"),
        _fk("alert_notifications", "rule_id", "alert_rules", "id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_alert_notifications_rule_id", "alert_notifications", ["rule_id"])
    op.create_index(
        "ix_alert_notifications_next_attempt_at", "alert_notifications", ["next_attempt_at"]
    )


def downgrade() -> None:
    for table in reversed(TABLES):  # children before the tables they reference
        op.drop_table(table)

"""The schema of the platform store, on the execution store's ``MetaData``.

The tables are registered on ``flowapp.store.sql.tables.metadata`` so that one Alembic
history (``migrations/versions``, ``0002_platform.py`` for these) and one database file
serve both stores. Column names equal the record fields of ``records.py``, so a row
becomes a record by keyword. Column types are the execution store's (``Key``: byte-wise
text; ``Time``: seconds since the epoch; ``JSONValue``; ``Serial``: ids that grow).

- ``apps``: one row per app; deleting it deletes its revisions, traffic, deploys,
  status and alert rules (executions, in the execution store, keep naming it);
- ``app_revisions``: immutable snapshots, keyed by (app, number), ``id`` unique;
- ``app_traffic``: the current splits per app (``position`` keeps their order);
- ``app_deploys``: one row per deploy attempt with its log;
- ``app_conditions``, ``app_observations``: what the syncer reports;
- ``api_tokens``: hashed API tokens, found by ``prefix``;
- ``app_secrets``: each app's secrets, sealed before they reach the store (0005);
- ``alert_rules``, ``alert_states``, ``alert_notifications``: rules, their firing state,
  and the outbox of webhook calls (due while ``next_attempt_at`` is set).
"""

from __future__ import annotations

import sqlalchemy as sa

from flowapp.store.sql.tables import JSONValue, Key, Serial, Time, cascade, metadata, numbered_table

Number: sa.Double[float] = sa.Double()  # measured values and thresholds


apps = sa.Table(
    "apps",
    metadata,
    sa.Column("name", Key, primary_key=True),
    sa.Column("namespace", sa.Text, nullable=False),
    sa.Column("resource", JSONValue, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("allowed_runs", sa.Text, nullable=False, server_default=""),  # 0006
)

app_revisions = sa.Table(
    "app_revisions",
    metadata,
    sa.Column("app", Key, cascade("apps.name"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("id", Key, nullable=False, unique=True),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("resource", JSONValue, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)

app_traffic = sa.Table(
    "app_traffic",
    metadata,
    sa.Column("app", Key, cascade("apps.name"), primary_key=True),
    sa.Column("revision_id", Key, cascade("app_revisions.id"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("percent", sa.Integer, nullable=False),
)

app_deploys = numbered_table(
    "app_deploys",
    sa.Column("app", Key, cascade("apps.name"), nullable=False),
    sa.Column("revision_id", Key, cascade("app_revisions.id"), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("log", sa.Text, nullable=False),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("ended_at", Time),
    sa.Column("owner", sa.Text),  # the engine process that runs it (0007)
    # An app's deploys, newest first, read one index backwards.
    sa.Index("ix_app_deploys_app_id", "app", "id"),
)

app_conditions = sa.Table(
    "app_conditions",
    metadata,
    sa.Column("app", Key, cascade("apps.name"), primary_key=True),
    sa.Column("type", Key, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("last_transition_time", Time, nullable=False),
    sa.Column("observed_revision", sa.Text),
)

app_observations = sa.Table(
    "app_observations",
    metadata,
    sa.Column("app", Key, cascade("apps.name"), primary_key=True),
    sa.Column("deployed_revision", sa.Text),
    sa.Column("functions", JSONValue, nullable=False),
    sa.Column("triggers", JSONValue, nullable=False),
    sa.Column("observed_at", Time, nullable=False),
)

api_tokens = numbered_table(
    "api_tokens",
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("prefix", Key, nullable=False, index=True),  # verification looks tokens up by it
    sa.Column("secret_hash", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_used_at", Time),
    sa.Column("revoked_at", Time),
    sa.Column("apps", JSONValue),  # the apps it is limited to; NULL: every app (0003)
)

app_secrets = sa.Table(
    "app_secrets",
    metadata,
    sa.Column("app", Key, cascade("apps.name"), primary_key=True),
    sa.Column("name", Key, primary_key=True),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("sealed", sa.LargeBinary, nullable=False),  # nonce + AES-GCM ciphertext
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

alert_rules = numbered_table(
    "alert_rules",
    sa.Column("app", Key, cascade("apps.name"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("threshold", Number, nullable=False),
    sa.Column("window_seconds", Number, nullable=False),
    sa.Column("function", sa.Text),
    sa.Column("webhook_url", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.UniqueConstraint("app", "name", name="uq_alert_rules_app_name"),
)

alert_states = sa.Table(
    "alert_states",
    metadata,
    sa.Column("rule_id", Serial, cascade("alert_rules.id"), primary_key=True, autoincrement=False),
    sa.Column("firing", sa.Boolean, nullable=False),
    sa.Column("since", Time),
    sa.Column("last_value", Number),
    sa.Column("last_notified_at", Time),
)

alert_notifications = numbered_table(
    "alert_notifications",
    sa.Column("rule_id", Serial, cascade("alert_rules.id"), nullable=False, index=True),
    sa.Column("payload", JSONValue, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    # NULL once delivered or given up, so the due index holds only pending rows' times.
    sa.Column("next_attempt_at", Time, index=True),
    sa.Column("delivered_at", Time),
    sa.Column("last_error", sa.Text, nullable=False),
)

PLATFORM_TABLES = (
    apps,
    app_revisions,
    app_traffic,
    app_deploys,
    app_conditions,
    app_observations,
    api_tokens,
    app_secrets,
    alert_rules,
    alert_states,
    alert_notifications,
)

"""API tokens on SQL, inside the caller's transaction.

Verification reads only: the candidates are the live tokens with the presented token's
prefix (an index lookup), and ``tokens.find_match`` compares hashes in constant time.
Recording the use is a separate, conditional write (``touch``) made at most once a
minute per token, so that verifying every API request does not take the write lock of
SQLite or write a row version per request on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from flowapp.store.platform import rules, tokens
from flowapp.store.platform.records import NotFound, TokenRecord
from flowapp.store.platform.sql.tables import api_tokens

c = api_tokens.c


def create_token(
    conn: Connection, *, name: str, role: str, now: float, apps: tuple[str, ...]
) -> tuple[TokenRecord, str]:
    plaintext = tokens.new_token()
    row: dict[str, Any] = {
        "name": name,
        "role": role,
        "prefix": tokens.display_prefix(plaintext),
        "secret_hash": tokens.hash_token(plaintext),
        "created_at": now,
        "apps": list(apps) or None,
    }
    token_id = conn.execute(sa.insert(api_tokens).values(row).returning(c.id)).scalar_one()
    return _token({**row, "id": token_id}), plaintext


def _token(row: Any) -> TokenRecord:
    fields = dict(row)
    fields["id"] = int(fields["id"])
    fields["apps"] = tuple(fields.get("apps") or ())
    return TokenRecord(**fields)


def find_token(conn: Connection, plaintext: str) -> TokenRecord | None:
    prefix = tokens.display_prefix(plaintext)
    query = sa.select(api_tokens).where(c.prefix == prefix, c.revoked_at.is_(None))
    candidates = [_token(row._mapping) for row in conn.execute(query)]
    return tokens.find_match(candidates, plaintext)


def touch(conn: Connection, token_id: int, *, now: float) -> None:
    """Record a use, unless another request (or replica) did within the last minute."""
    recent = c.last_used_at > now - rules.TOKEN_TOUCH_SECONDS
    stale = sa.or_(c.last_used_at.is_(None), sa.not_(recent))
    statement = sa.update(api_tokens).where(c.id == token_id, stale).values(last_used_at=now)
    conn.execute(statement)


def list_tokens(conn: Connection) -> list[TokenRecord]:
    query = sa.select(api_tokens).order_by(c.id)
    return [_token(row._mapping) for row in conn.execute(query)]


def revoke_token(conn: Connection, token_id: int, *, now: float) -> TokenRecord:
    """``COALESCE`` keeps the first revocation time when a token is revoked again."""
    statement = (
        sa.update(api_tokens)
        .where(c.id == token_id)
        .values(revoked_at=sa.func.coalesce(c.revoked_at, now))
        .returning(*api_tokens.c)
    )
    row = conn.execute(statement).first()
    if row is None:
        raise NotFound("token", token_id)
    return _token(row._mapping)


def count_tokens(conn: Connection) -> int:
    query = sa.select(sa.func.count()).select_from(api_tokens).where(c.revoked_at.is_(None))
    return int(conn.scalar(query) or 0)

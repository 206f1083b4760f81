"""``open_broker(url)``: a broker from a URL, the one place that knows every backend.

- ``memory://``: in process, nothing survives a restart (tests, demos);
- ``sqlite:///relative.db`` or ``sqlite:////absolute.db`` (SQLAlchemy's convention),
  optionally ``?synchronous=normal``: the embedded default;
- ``nats://host:4222?stream=NAME`` (several ``host:port`` separated by commas): JetStream.

The broker comes back unstarted; backends are imported on demand, so a process that uses
SQLite never loads nats-py. Nothing connects before ``await broker.start()``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from flowapp.events.broker import DEDUPE_WINDOW, Broker, StoreBroker
from flowapp.events.errors import BrokerError


def open_broker(
    url: str,
    *,
    http_client: httpx.AsyncClient | None = None,
    dedupe_window: float = DEDUPE_WINDOW,
) -> Broker:
    """An unstarted broker for ``url``; ``http_client`` is shared for HTTP deliveries."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "memory":
        from flowapp.events.memory import MemoryStore

        return StoreBroker(MemoryStore(), http_client=http_client, dedupe_window=dedupe_window)
    if scheme == "sqlite":
        return _sqlite(url, http_client, dedupe_window)
    if scheme in ("nats", "tls"):
        return _jetstream(url, http_client, dedupe_window)
    raise BrokerError(f"unknown broker URL `{url}`: use memory://, sqlite:///PATH or nats://")


def _sqlite(url: str, http_client: httpx.AsyncClient | None, dedupe_window: float) -> Broker:
    from flowapp.events.sqlite import SqliteStore

    rest = url[len("sqlite:///") :] if url.lower().startswith("sqlite:///") else ""
    path, _, query = rest.partition("?")
    if not path:
        raise BrokerError(f"`{url}` names no database file: use sqlite:///PATH")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    try:
        store = SqliteStore(path, synchronous=options.get("synchronous", "full"))
    except ValueError as exc:
        raise BrokerError(f"`{url}`: {exc}") from None
    return StoreBroker(store, http_client=http_client, dedupe_window=dedupe_window)


def _jetstream(url: str, http_client: httpx.AsyncClient | None, dedupe_window: float) -> Broker:
    from flowapp.events.jetstream import JetStreamBroker

    parts = urlsplit(url)
    stream = parse_qs(parts.query).get("stream", ["flowapp"])[-1]
    auth = f"{parts.username or ''}{':' + parts.password if parts.password else ''}"
    prefix = f"{parts.scheme}://{auth + '@' if auth else ''}"
    servers = [prefix + host for host in parts.netloc.rpartition("@")[2].split(",") if host]
    if not servers:
        raise BrokerError(f"`{url}` names no NATS server")
    return JetStreamBroker(servers, stream, http_client=http_client, dedupe_window=dedupe_window)

"""Functions served at fixed URLs: Knative Services, or hosts started by someone else.

The same wire format as the local supervisor (``client.encode_call`` / ``client.invoke``),
over one pooled keep-alive session, without any process management.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from flowapp.functions.client import encode_call, invoke
from flowapp.functions.errors import FunctionUnavailable


class RemoteFunctions:
    """A ``FunctionCaller`` for functions whose base URLs are known (``name -> url``)."""

    def __init__(
        self, urls: Mapping[str, str], *, app: str = "default", timeout: float = 30.0
    ) -> None:
        self.urls = dict(urls)
        self.app = app
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=512, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(
        self,
        name: str,
        data: Any,
        *,
        execution_id: str,
        task_reference: str,
        attempt: int,
        idempotency_key: str,
        app: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        url = self.urls.get(name)
        if url is None:
            raise FunctionUnavailable(name, "no URL is configured for this function")
        headers, body = encode_call(
            app=app or self.app,
            function=name,
            data=data,
            execution_id=execution_id,
            task_reference=task_reference,
            attempt=attempt,
            idempotency_key=idempotency_key,
        )
        return await invoke(
            self._client(),
            url,
            function=name,
            headers=headers,
            body=body,
            timeout=timeout or self.timeout,
        )

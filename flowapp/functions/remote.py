"""Functions served at fixed URLs: Knative Services, or hosts started by someone else.

The same wire format as the local supervisor (``client.encode_call`` and
``client.invoke``), sent over keep-alive connections (``connections.py``), without
any process management.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flowapp.functions.client import encode_call, invoke
from flowapp.functions.connections import Connections
from flowapp.functions.errors import FunctionUnavailable
from flowapp.functions.port import FunctionCall

URL_VARIABLE_PREFIX = "FLOWAPP_FUNCTION_URL_"


def url_variable(function: str) -> str:
    """The environment variable holding a function's URL: ``FLOWAPP_FUNCTION_URL_<NAME>``
    (upper case, ``-`` as ``_``), as the FlowApp operator sets it on the engine."""
    return URL_VARIABLE_PREFIX + function.upper().replace("-", "_")


def urls_from_environment(
    functions: Iterable[str], environ: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Each function's URL from its variable; and the functions that have none."""
    urls, missing = {}, []
    for name in functions:
        url = environ.get(url_variable(name), "").strip()
        if url:
            urls[name] = url
        else:
            missing.append(name)
    return urls, missing


class RemoteFunctions:
    """A ``FunctionCaller`` for functions whose base URLs are known (``name -> url``)."""

    def __init__(
        self, urls: Mapping[str, str], *, app: str = "default", timeout: float = 30.0
    ) -> None:
        self.urls = dict(urls)
        self.app = app
        self.timeout = timeout
        self.connections = Connections()

    async def close(self) -> None:
        self.connections.close()

    async def call(self, call: FunctionCall) -> Any:
        url = self.urls.get(call.function)
        if url is None:
            raise FunctionUnavailable(call.function, "no URL is configured for this function")
        headers, body = encode_call(call, app=call.app or self.app)
        return await invoke(
            self.connections,
            url,
            function=call.function,
            headers=headers,
            body=body,
            timeout=call.timeout or self.timeout,
        )

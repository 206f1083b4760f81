"""The CLI's HTTP client: one ``httpx.Client`` per command, errors as exceptions.

A response with an error status becomes ``ApiError`` holding its RFC 7807 problem (a
server that answers something else still yields a problem, built from the status);
a server that cannot be reached becomes ``Unreachable``; an answer that is not the JSON
a command expects becomes ``UnexpectedAnswer``. ``flowapp.cli.main`` reports each
(``flowapp.cli.failures``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from flowapp.cli.client.config import Login, resolve
from flowapp.cli.failures import ApiError, EnvironmentProblem, Unreachable

TIMEOUT = httpx.Timeout(30.0)

__all__ = ["Api", "ApiError", "UnexpectedAnswer", "Unreachable", "connect"]


class UnexpectedAnswer(EnvironmentProblem):
    """The server answered, but not as a flowapp server does."""


class Api:
    def __init__(self, login: Login, *, timeout: httpx.Timeout = TIMEOUT) -> None:
        headers = {"Authorization": f"Bearer {login.token}"} if login.token else {}
        self.url = login.url
        self.client = httpx.Client(base_url=login.url, headers=headers, timeout=timeout)

    def request(
        self, method: str, path: str, *, faults: bool = False, **options: Any
    ) -> httpx.Response:
        """The response; an error status raises ``ApiError``, except, with ``faults``, a
        JSON answer (a faulted execution is answered with its error's status)."""
        try:
            response = self.client.request(method, path, **options)
        except httpx.HTTPError as exc:
            raise unreachable(self.url, exc) from None
        if faults and media_type(response) == "application/json":
            return response
        return check(response)

    @contextmanager
    def stream(self, method: str, path: str, **options: Any) -> Iterator[httpx.Response]:
        try:
            with self.client.stream(method, path, **options) as response:
                if response.status_code >= 400:
                    response.read()
                    check(response)
                yield response
        except httpx.HTTPError as exc:
            raise unreachable(self.url, exc) from None

    def json(self, method: str, path: str, **options: Any) -> Any:
        """The response's JSON; an answer that is not JSON is ``UnexpectedAnswer``."""
        response = self.request(method, path, **options)
        try:
            return response.json()
        except ValueError:
            raise UnexpectedAnswer(
                f"{self.url} answered {method} {path} with something other than JSON",
                hint="is that URL a flowapp server?",
            ) from None

    def close(self) -> None:
        self.client.close()


@contextmanager
def connect(
    url: str | None, token: str | None, *, timeout: httpx.Timeout = TIMEOUT
) -> Iterator[Api]:
    login = resolve(url, token)
    if login is None:
        raise EnvironmentProblem(
            "no server to talk to",
            hint="run `flowapp login URL --token TOKEN`, or pass --url (or set $FLOWAPP_URL)",
        )
    api = Api(login, timeout=timeout)
    try:
        yield api
    finally:
        api.close()


def ask(url: str | None, token: str | None, method: str, path: str, **options: Any) -> Any:
    """The JSON answer to one request, on a connection of its own."""
    with connect(url, token) as api:
        return api.json(method, path, **options)


def delete_path(url: str | None, token: str | None, path: str) -> None:
    """Delete what ``path`` names (an error answer raises, as for any request)."""
    with connect(url, token) as api:
        api.request("DELETE", path)


def unreachable(url: str, error: httpx.HTTPError) -> Unreachable:
    reason = str(error) or type(error).__name__
    if isinstance(error, httpx.TimeoutException):
        return Unreachable(f"{url} did not answer in time ({reason})")
    return Unreachable(
        f"cannot reach {url}: {reason}",
        hint="is `flowapp up` running there? `flowapp login URL` changes the server",
    )


def check(response: httpx.Response) -> httpx.Response:
    if response.status_code < 400:
        return response
    raise ApiError(problem_of(response))


def media_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";")[0].strip().lower()


def problem_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "status" in body:
        return body
    text = response.text.strip()[:500]
    return {"status": response.status_code, "title": response.reason_phrase, "detail": text}

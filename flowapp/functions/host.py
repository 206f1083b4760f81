"""The Python function host: serves one folder's ``handle`` as CloudEvents over HTTP.

Run as ``python -m flowapp.functions.host --path functions/append`` (or with ``PORT``,
``HOST``, ``FLOWAPP_FUNCTION_PATH`` ... in the environment, as under Knative). Flow of one
call::

    POST /  --wire.parse_event-->  CloudEvent  --build_context-->  handle(data, context)
            <--wire.encode_event--  reply CloudEvent (same content mode as the request)

A :class:`~flowapp.functions.sdk.FunctionError` becomes its status with a problem body;
any other exception a 500 problem carrying its message; a request that is not a
CloudEvent a 400 problem. ``GET /healthz`` answers 200 once ``main.py`` is imported.
SIGTERM stops accepting, lets in-flight calls finish (up to the grace period), exits 0.
SIGXCPU (the sandbox's CPU time limit) does the same, then exits with status 152.
With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, each call is a span under the calling task's
(``hosttracing.py``).

The server is aiohttp's low-level ``web.Server`` (no router: two paths do not need one):
measured on loopback it adds ~0.1-0.2 ms per round trip over a hand-written asyncio
protocol, in exchange for a complete HTTP/1.1 parser and graceful shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from flowapp.functions import tracecontext, wire
from flowapp.functions.hostconfig import HostConfig, configure_logging
from flowapp.functions.loader import Invoker, load_handler
from flowapp.functions.sdk import (
    ATTEMPT_ATTRIBUTE,
    EXECUTION_ATTRIBUTE,
    TASK_ATTRIBUTE,
    FunctionError,
    build_context,
)

if TYPE_CHECKING:
    from flowapp.functions.hosttracing import HostTracing

_COPIED_ATTRIBUTES = (EXECUTION_ATTRIBUTE, TASK_ATTRIBUTE, ATTEMPT_ATTRIBUTE)
_HEALTHY = b'{"status":"ok"}'
MAX_BODY = 64 * 1024 * 1024


class FunctionServer:
    """The request handler: health, then one CloudEvent in, one reply out."""

    def __init__(
        self, invoker: Invoker, *, function: str, app: str, tracing: HostTracing | None = None
    ) -> None:
        self._invoke = invoker
        self._tracing = tracing
        self._source = wire.source(app, function)
        self._logger = logging.getLogger(f"flowapp.function.{function}")

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path == "/healthz" and request.method in ("GET", "HEAD"):
            return web.Response(body=_HEALTHY, content_type=wire.JSON_TYPE)
        if request.path != "/":
            return problem_response(wire.problem(404, "Not Found", f"no route {request.path}"))
        if request.method != "POST":
            return problem_response(
                wire.problem(405, "Method Not Allowed", "POST a CloudEvent to /"),
                headers={"Allow": "POST"},
            )
        return await self._call(request)

    async def _call(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            event = wire.parse_event(request.headers, await request.read())
        except wire.MalformedEvent as exc:
            return problem_response(
                wire.problem(
                    400, "Malformed request", str(exc), type=wire.PROBLEMS + "malformed-request"
                )
            )
        attributes = event.get_attributes()
        structured = wire.is_structured(request.headers)
        if self._tracing is None:
            return await self._handle(event, attributes, structured)
        with self._tracing.call(attributes) as span:
            response = await self._handle(event, attributes, structured)
            if response.status >= 400:
                self._tracing.failed(span, response.status, response.reason or "error")
            return response

    async def _handle(
        self, event: Any, attributes: dict[str, Any], structured: bool
    ) -> web.Response:
        context = build_context(attributes, logger=self._logger)
        try:
            output = await self._invoke(event.get_data(), context)
        except FunctionError as exc:
            return problem_response(exc.to_problem() | _instance(context.task_reference))
        except Exception as exc:
            context.logger.exception("handle failed")
            return problem_response(wire.unhandled_problem(exc, context.task_reference))
        return self._reply(attributes, output, structured=structured)

    def _reply(self, request: dict[str, Any], output: Any, *, structured: bool) -> web.Response:
        attributes = {
            "source": self._source,
            "type": wire.REPLIED,
            "datacontenttype": wire.JSON_TYPE,
        }
        attributes |= {name: request[name] for name in _COPIED_ATTRIBUTES if name in request}
        try:
            headers, body = wire.encode_event(
                wire.make_event(attributes, output), structured=structured
            )
        except TypeError as exc:  # orjson and json both raise TypeError subclasses
            detail = f"the output of handle is not JSON: {exc}"
            return problem_response(
                wire.problem(500, "Invalid output", detail, type=wire.PROBLEMS + "invalid-output")
            )
        return web.Response(body=body, headers=headers)


def problem_response(
    body: dict[str, Any], *, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=int(body["status"]),
        body=orjson.dumps(body),
        content_type=wire.PROBLEM_TYPE,
        headers=headers,
    )


def _instance(task_reference: str | None) -> dict[str, str]:
    return {"instance": task_reference} if task_reference else {}


async def serve(config: HostConfig) -> None:
    """Import the function, listen, and serve until SIGTERM or SIGINT."""
    tracing = _tracing(config)
    invoker = Invoker(load_handler(config.path), threads=config.threads)
    handler = FunctionServer(invoker, function=config.function, app=config.app, tracing=tracing)
    loop = asyncio.get_running_loop()

    def make_request(
        message: Any, payload: Any, protocol: Any, writer: Any, task: Any
    ) -> web.BaseRequest:
        # aiohttp refuses bodies over 1 MiB by default; a task's input may well be larger.
        return web.BaseRequest(
            message, payload, protocol, writer, task, loop, client_max_size=MAX_BODY
        )

    # No access log: one log line per call would cost more than the call.
    server = web.Server(handler, request_factory=make_request, access_log=None)
    runner = web.ServerRunner(server, shutdown_timeout=config.grace_period)
    await runner.setup()
    await web.TCPSite(runner, config.host, config.port).start()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    over_cpu = asyncio.Event()

    def cpu_used_up() -> None:
        over_cpu.set()
        stopping.set()

    loop.add_signal_handler(signal.SIGXCPU, cpu_used_up)
    log = logging.getLogger("flowapp.host")
    log.info("serving %s on http://%s:%d", config.function, config.host, config.port)
    await stopping.wait()
    if over_cpu.is_set():
        log.warning("this instance used up its CPU time limit: it stops and is replaced")
    log.info("stopping: finishing in-flight calls (up to %gs)", config.grace_period)
    await runner.cleanup()  # closes the listener, waits for in-flight handlers
    invoker.shutdown()
    if tracing is not None:
        await asyncio.to_thread(tracing.shutdown)
    if over_cpu.is_set():
        raise CpuLimitReached


def _tracing(config: HostConfig) -> HostTracing | None:
    if not os.environ.get(tracecontext.ENDPOINT_VARIABLE, "").strip():
        return None
    from flowapp.functions.hosttracing import HostTracing

    return HostTracing(function=config.function, app=config.app, environ=os.environ)


class CpuLimitReached(Exception):
    """The sandbox's CPU time limit (SIGXCPU) stopped the host after a drain; it exits with
    the status a process killed by SIGXCPU has in a shell, so the supervisor names it."""

    exit_code = 128 + signal.SIGXCPU


def main(argv: Sequence[str] | None = None) -> None:
    config = HostConfig.from_args(argv, os.environ)
    configure_logging(config)
    code = 0
    try:
        asyncio.run(serve(config))
    except CpuLimitReached:
        code = CpuLimitReached.exit_code
    except Exception as exc:
        # Plain text, not JSON: the supervisor shows these last lines as the reason.
        traceback.print_exc()
        print(f"flowapp host: function {config.function!r} failed: {exc}", file=sys.stderr)
        code = 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Not sys.exit: a handler stuck in a worker thread would block interpreter exit forever,
    # and the grace period has already been given.
    os._exit(code)


if __name__ == "__main__":
    main()

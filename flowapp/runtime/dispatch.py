"""Carrying out commands once they are durable.

Answered commands run as asyncio tasks whose result becomes a signal for the execution
(``EffectSucceeded`` / ``EffectFailed``); timers are armed, subscriptions registered,
cancellations stop whatever was in flight. Fire-and-forget commands (emitted events,
unawaited sub-workflows and processes) go through the outbox relay instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from flowapp.dsl import errors
from flowapp.engine import commands as c
from flowapp.engine.signals import EffectFailed, EffectSucceeded, Signal, TimerFired
from flowapp.functions.tracecontext import CURRENT as CURRENT_TRACE
from flowapp.functions.tracecontext import execution_trace, format_traceparent, span_id_of
from flowapp.runtime import logcontext
from flowapp.runtime.effects.base import EffectError
from flowapp.runtime.effects.http import HttpEffects
from flowapp.runtime.effects.process import ProcessEffects
from flowapp.runtime.executions import LiveExecutions
from flowapp.runtime.limits import Limits
from flowapp.runtime.live import LiveExecution
from flowapp.runtime.logcontext import effect_trace
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.routing import EventRouter, Listener
from flowapp.runtime.timers import Timers

if TYPE_CHECKING:
    from flowapp.runtime.tracing import Tracing

log = logging.getLogger(__name__)


class FunctionInvoker(Protocol):
    """Calls FlowApp functions (the local supervisor, or Knative services)."""

    async def call(self, command: c.CallFunction, workflow: LoadedWorkflow) -> Any:
        """The function's output; raises ``EffectError`` with a communication or timeout
        error when the function fails, answers non-2xx, or does not answer in time.
        ``workflow`` tells which app and revision the calling execution runs."""


@dataclass
class Effects:
    http: HttpEffects = field(default_factory=HttpEffects)
    processes: ProcessEffects = field(default_factory=ProcessEffects)
    functions: FunctionInvoker | None = None
    publish: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    async def close(self) -> None:
        await self.http.close()


class Children(Protocol):
    """Starts sub-workflows (the launcher)."""

    async def run_child(self, command: c.StartWorkflow, *, wait: bool = True) -> Any: ...


class Dispatcher:
    def __init__(
        self,
        effects: Effects,
        *,
        executions: LiveExecutions,
        timers: Timers,
        router: EventRouter,
        deliver: Callable[[str, Signal], bool],
        children: Children,
        publish_event: Callable[[dict[str, Any]], Awaitable[None]],
        limits: Limits,
        tracing: Tracing | None = None,
    ) -> None:
        self.effects = effects
        self._executions = executions
        self._timers = timers
        self._router = router
        self._deliver = deliver
        self._children = children
        self._publish_event = publish_event
        self._limits = limits
        self._tracing = tracing

    def dispatch(self, live: LiveExecution, command: c.Command) -> None:
        if isinstance(command, c.StartTimer):
            deliver = self._deliver
            self._timers.arm(
                live.id,
                command.effect_id,
                command.due_at,
                lambda: deliver(live.id, TimerFired(command.effect_id)),
            )
        elif isinstance(command, c.Subscribe):
            self._router.add(Listener(live.id, command.effect_id, command.attributes))
        elif isinstance(command, c.CancelEffect):
            self.cancel(live, command)
        elif isinstance(command, c.CallHttp):
            self.spawn(live, command.effect_id, self.effects.http.call(command))
        elif isinstance(command, c.FetchDocument):
            self.spawn(live, command.effect_id, self.effects.http.fetch_document(command))
        elif isinstance(command, c.CallFunction):
            self.spawn(live, command.effect_id, self.call_function(command, live.workflow))
        elif isinstance(command, c.RunProcess) and command.wait:
            run = self.effects.processes.run(command, app=live.workflow.app)
            self.spawn(live, command.effect_id, run)
        elif isinstance(command, c.StartWorkflow) and command.wait:
            self.spawn(live, command.effect_id, self._children.run_child(command))
        # everything else is fire-and-forget: the outbox relay carries it out

    async def call_function(self, command: c.CallFunction, workflow: LoadedWorkflow) -> Any:
        if self.effects.functions is None:
            detail = f"no function runtime is configured to call `{command.function}`"
            raise EffectError(errors.error(errors.CONFIGURATION, detail))
        return await self.effects.functions.call(command, workflow)

    def spawn(self, live: LiveExecution, effect_id: str, work: Awaitable[Any]) -> None:
        # The span of the task run waiting for this effect: a function call carries it in
        # its CloudEvent, a sub-workflow started here joins the trace under it; JSON log
        # lines of the work name the task and the trace (functions' lines too).
        traced = self._tracing is not None or logcontext.enabled()
        traceparent, task = effect_trace(live.state, effect_id) if traced else (None, None)

        async def run() -> None:
            signal: Signal
            if traced:  # this task's own context (a copy): no reset needed
                CURRENT_TRACE.set(traceparent)
                if logcontext.enabled():
                    logcontext.note(live.id, live.state.trace, task)
            try:
                result = await work
                self._limits.check_output(result)
                signal = EffectSucceeded(effect_id, result)
            except EffectError as exc:
                signal = EffectFailed(effect_id, exc.error)
            except asyncio.CancelledError:
                return
            except Exception as exc:  # an adapter bug must fault the task, not vanish
                log.exception("effect %s of %s failed unexpectedly", effect_id, live.id)
                detail = f"{type(exc).__name__}: {exc}"
                signal = EffectFailed(effect_id, errors.error(errors.RUNTIME, detail))
            finally:
                live.inflight.pop(effect_id, None)
            self._deliver(live.id, signal)

        live.inflight[effect_id] = asyncio.create_task(run())

    def cancel(self, live: LiveExecution, command: c.CancelEffect) -> None:
        effect_id = command.effect_id
        if command.cancelled_kind == c.StartTimer.kind:
            self._timers.disarm(live.id, effect_id)
        elif command.cancelled_kind == c.Subscribe.kind:
            self._router.remove(live.id, effect_id)
        else:
            task = live.inflight.pop(effect_id, None)
            if task is not None:
                task.cancel()

    async def carry_out(self, payload: dict[str, Any], execution_id: str | None = None) -> None:
        """A fire-and-forget command from the outbox, of execution ``execution_id``."""
        command = c.command_from_json(payload)
        if isinstance(command, c.EmitEvent):
            await self._publish_event(command.event)
        elif isinstance(command, c.StartWorkflow):
            traced = self._tracing is not None or logcontext.enabled()
            # An unawaited sub-workflow joins its parent's trace, under its execution.
            parent = self._execution_traceparent(command.parent_execution_id) if traced else None
            token = CURRENT_TRACE.set(parent)
            try:
                await self._children.run_child(command, wait=False)
            finally:
                CURRENT_TRACE.reset(token)
        elif isinstance(command, c.RunProcess):
            app = None if execution_id is None else await self._executions.app_of(execution_id)
            await self.effects.processes.run(command, app=app)

    def _execution_traceparent(self, execution_id: str) -> str:
        live = self._executions.held.get(execution_id)
        inbound = live.state.trace if live is not None else None
        trace_id, _ = execution_trace(execution_id, inbound)
        return format_traceparent(trace_id, span_id_of(execution_id))

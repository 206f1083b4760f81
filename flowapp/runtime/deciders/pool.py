"""Deciding in worker processes, so that no decision can hold the server.

The jq binding holds the GIL while it evaluates, so a thread cannot help: one expression
such as ``[range(1e8)]`` runs for a minute and can only be stopped by killing the process
it runs in. ``flowapp up`` therefore decides in a small pool of worker processes
(``worker``), each with a cap on its memory, plus one started in advance as a standby, so
that a worker killed is replaced at once.

    pump ──decide(turn)──> pending ──one frame per worker per loop round──> worker
         <──Turn──────────── answers, in order, one write per batch <──────────┘

- Turns asked for in the same round of the event loop go to a worker in one frame (to
  the least busy), and the worker answers them in order with one write once they are
  decided (``wire.FLUSH_SECONDS`` at most after the first): one wake-up of each side per
  batch, and the answers that arrive together are committed together. The worker notes
  the turn it is on in memory both map (``wire.Progress``), so the runtime knows which
  turn overstayed or brought its worker down even when the answers before it were not
  written yet.
- The runtime gives each turn ``decision_seconds`` of wall time from when the worker
  began it. Past it, the worker is killed (SIGKILL); the turn's execution is faulted with
  the reason ("decisionTime"), the other turns it held go to another worker, and the
  standby takes the dead worker's place. A worker that dies on its own (out of memory, a
  crash in C) is handled the same way, with its own reason. The execution faulted is
  never decided again.
- A worker keeps the workflows it has built, by id (a digest of the document), so only
  the state and the signals of a turn cross the socket once a workflow is known.

Workers are plain ``python -m flowapp.runtime.deciders.launch`` processes (about a second
to start, which the standby hides), not ``multiprocessing`` children: those would import
the server's ``__main__`` again in every worker. The price of deciding out of process is
a copy of the state each way and a round trip through a socket per batch (docs/security.md
has the numbers); ``flowapp run`` and ``flowapp dev``, on their author's own machine,
decide in process instead (``inprocess``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from flowapp.dsl import errors
from flowapp.engine.limits import limit_error
from flowapp.engine.scope import Environment
from flowapp.engine.signals import signal_to_json
from flowapp.engine.state import ExecutionState
from flowapp.runtime.deciders import launch, wire
from flowapp.runtime.deciders.base import (
    DEFAULT_STEP_BUDGET,
    DEFAULT_TURN_SECONDS,
    DeciderClosed,
    Turn,
    TurnRequest,
)
from flowapp.runtime.deciders.settings import (
    DEFAULT_DECISION_SECONDS,
    DEFAULT_MEMORY_MIB,
    DEFAULT_WORKERS,
)
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.turns import quarantine_error
from flowapp.store.port import StoreError

log = logging.getLogger(__name__)

READY_SECONDS = 60.0  # for a new worker to import the engine and say it is ready
KEPT_ENVIRONMENTS = 1024


@dataclass(frozen=True, slots=True)
class PoolSettings:
    workers: int = DEFAULT_WORKERS
    decision_seconds: float = DEFAULT_DECISION_SECONDS  # a turn's wall time, then it is killed
    memory_bytes: int = DEFAULT_MEMORY_MIB << 20  # each worker's address space (RLIMIT_AS)
    step_budget: int = DEFAULT_STEP_BUDGET
    turn_seconds: float = DEFAULT_TURN_SECONDS
    standby: bool = True  # keep one more worker started, to replace a dead one at once


@dataclass(eq=False)
class _Job:
    id: int
    workflow: LoadedWorkflow
    env_key: str
    env: Environment
    state: ExecutionState  # the runtime's copy, as before the turn
    body: dict[str, Any]
    future: asyncio.Future[Turn]


@dataclass(eq=False)
class _Worker:
    process: asyncio.subprocess.Process
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    progress: wire.Progress  # the turn it is deciding, as it notes it
    inflight: deque[_Job] = field(default_factory=deque)
    workflows: set[str] = field(default_factory=set)
    envs: set[str] = field(default_factory=set)
    watchdog: asyncio.TimerHandle | None = None
    killed_for: _Job | None = None  # the turn it was killed for being over its time
    index: int | None = None  # its place in the pool; None for the standby


class IsolatedDecider:
    def __init__(self, settings: PoolSettings | None = None) -> None:
        self.settings = settings or PoolSettings()
        self._workers: list[_Worker | None] = [None] * self.settings.workers
        self._pending: deque[_Job] = deque()
        self._flush_scheduled = False
        self._envs: dict[int, tuple[Environment, str]] = {}
        self._env_count = 0
        self._next_id = 0
        self._closing = False
        self._standby: _Worker | None = None
        self._standing_by = False
        self._processes: set[_Worker] = set()  # every worker started and not yet reaped
        self._background: set[asyncio.Task[Any]] = set()
        self.deaths: Counter[str] = Counter()  # workers lost, by reason

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers and the standby; turns asked for meanwhile wait for the first."""
        for index in range(self.settings.workers):
            self._in_background(self._fill(index))

    async def close(self) -> None:
        self._closing = True
        for job in self._pending:
            _fail(job, DeciderClosed())
        self._pending.clear()
        for w in self._processes:
            for job in w.inflight:
                _fail(job, DeciderClosed())
            w.inflight.clear()
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for w in self._processes:
            w.writer.close()  # a worker ends when its socket does
        for w in self._processes:
            try:
                await asyncio.wait_for(w.process.wait(), 2)
            except TimeoutError:
                _kill(w)
                await w.process.wait()
            w.progress.close()
        self._processes.clear()

    def worker_pids(self) -> list[int]:
        """The processes deciding now (the standby not included)."""
        return [w.process.pid for w in self._workers if w is not None]

    # --- deciding -----------------------------------------------------------------------

    async def decide(self, request: TurnRequest) -> Turn:
        if self._closing:
            raise DeciderClosed()
        self._next_id += 1
        workflow, state, env = request.workflow, request.state, request.env
        env_key = self._env_key(env)
        body = {
            "id": self._next_id,
            "workflow": workflow.id,
            "env": env_key,
            "state": state.to_json(),
            "signals": [signal_to_json(signal) for signal in request.signals],
            "now": request.now,
            "budget": self.settings.step_budget,
            "seconds": self.settings.turn_seconds,
        }
        future: asyncio.Future[Turn] = asyncio.get_running_loop().create_future()
        job = _Job(self._next_id, workflow, env_key, env, state, body, future)
        self._pending.append(job)
        self._schedule_flush()
        return await future

    def _env_key(self, env: Environment) -> str:
        """A key per environment object (the runtime keeps one per app while its secrets
        stay the same); each worker is sent an environment once, under its key."""
        known = self._envs.get(id(env))
        if known is None or known[0] is not env:
            self._env_count += 1
            known = (env, str(self._env_count))
            self._envs[id(env)] = known
            while len(self._envs) > KEPT_ENVIRONMENTS:  # old ones, secrets rotated since
                self._envs.pop(next(iter(self._envs)))
        return known[1]

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Hand every pending turn to the least busy worker, one frame per worker."""
        self._flush_scheduled = False
        ready = [w for w in self._workers if w is not None]
        if not ready:
            return  # flushed again when a worker is up
        batches: dict[_Worker, list[_Job]] = {}
        while self._pending:
            w = min(ready, key=lambda w: len(w.inflight) + len(batches.get(w, ())))
            batches.setdefault(w, []).append(self._pending.popleft())
        for w, jobs in batches.items():
            try:
                self._send(w, jobs)
            except Exception:  # a bug here must not leave turns waiting forever
                log.exception("cannot send turns to decider process %s", w.process.pid)
                for job in jobs:
                    if not job.future.done() and job not in w.inflight:
                        _fail(job, DeciderClosed())

    def _send(self, w: _Worker, jobs: list[_Job]) -> None:
        """One frame for ``jobs``, with the workflows and environments ``w`` lacks. A job
        whose part is not JSON is answered at once with that problem, and left out."""
        message: dict[str, Any] = {"workflows": {}, "envs": {}, "jobs": []}
        sent = []
        for job in jobs:
            try:
                parts = self._parts(w, job)
                body = wire.encoded(job.body)
            except StoreError as exc:
                detail = f"the execution cannot be handed to a decider: {exc}"
                problem = errors.error(errors.RUNTIME, detail)
                job.future.set_result(Turn(job.state, [], failure=problem))
                continue
            for kind, key, part in parts:
                message[kind][key] = part
            message["jobs"].append(body)
            sent.append(job)
        if not sent:
            return
        for job in sent:
            w.workflows.add(job.workflow.id)
            w.envs.add(job.env_key)
        idle = not w.inflight
        w.inflight.extend(sent)
        w.writer.write(wire.message_frame(message))
        if idle:
            self._arm(w)

    def _parts(self, w: _Worker, job: _Job) -> list[tuple[str, str, Any]]:
        """The workflow and environment of ``job`` that ``w`` has not been sent, encoded."""
        parts = []
        workflow = job.workflow
        if workflow.id not in w.workflows:
            spec = {"document": workflow.document, "functions": sorted(workflow.app_functions)}
            parts.append(("workflows", workflow.id, wire.encoded(spec)))
        if job.env_key not in w.envs:
            parts.append(("envs", job.env_key, wire.encoded(wire.env_to_json(job.env))))
        return parts

    # --- answers ------------------------------------------------------------------------

    async def _read(self, w: _Worker) -> None:
        try:
            while True:
                (size,) = wire.LENGTH.unpack(await w.reader.readexactly(wire.LENGTH.size))
                self._answered(w, await w.reader.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # it died
        except Exception:  # an answer that makes no sense: do not trust that worker again
            log.exception("decider process %s answered nonsense; replacing it", w.process.pid)
            _kill(w)
        await self._died(w)

    def _answered(self, w: _Worker, payload: bytes) -> None:
        header, snapshot = wire.split_result(payload)
        job = w.inflight.popleft()
        self._arm(w)
        if job.id != header["id"]:  # cannot happen: answers come in order
            raise RuntimeError(f"decider answered turn {header['id']}, expected {job.id}")
        if job.future.done():
            return
        cpu = float(header.get("cpu") or 0.0)
        if "failure" in header:
            job.future.set_result(Turn(job.state, [], cpu, failure=header["failure"]))
            return
        state = wire.decode_state(snapshot)
        decisions = [wire.decision_from_json(state, d) for d in header["decisions"]]
        job.future.set_result(Turn(state, decisions, cpu, snapshot=snapshot))

    def _arm(self, w: _Worker) -> None:
        """Give the turn the worker is on its wall-time budget."""
        if w.watchdog is not None:
            w.watchdog.cancel()
            w.watchdog = None
        if w.inflight:
            loop = asyncio.get_running_loop()
            job = w.inflight[0]
            w.watchdog = loop.call_later(self.settings.decision_seconds, self._overdue, w, job)

    def _overdue(self, w: _Worker, job: _Job) -> None:
        """``job`` was sent ``decision_seconds`` ago: stop the worker if the turn it is on
        began that long ago, else look again when that turn's time is up."""
        if not w.inflight or w.inflight[0] is not job or w.killed_for is not None:
            return
        seconds = self.settings.decision_seconds
        current = _deciding(w)
        left = seconds if current is None else current[1] + seconds - time.monotonic()
        if left > 0:  # a later turn, or none (its answers are on their way)
            w.watchdog = asyncio.get_running_loop().call_later(left, self._overdue, w, job)
            return
        assert current is not None
        w.killed_for = current[0]
        log.warning(
            "a decision of execution %s ran over %g s; stopping its decider",
            w.killed_for.state.execution_id,
            seconds,
        )
        _kill(w)

    # --- deaths and births --------------------------------------------------------------

    async def _died(self, w: _Worker) -> None:
        if w.watchdog is not None:
            w.watchdog.cancel()
        w.writer.close()
        try:
            await asyncio.wait_for(w.process.wait(), 5)
        except TimeoutError:
            _kill(w)
            await w.process.wait()
        if self._closing:
            return
        self._processes.discard(w)
        # The turn it noted it was on; else the first it was sent (it may have died
        # taking in the batch, and must not take down worker after worker).
        current = _deciding(w)
        culprit = w.killed_for or (current[0] if current is not None else None)
        if culprit is None and w.inflight:
            culprit = w.inflight[0]
        w.progress.close()
        if culprit is not None:
            w.inflight.remove(culprit)
        reason, problem = self._cause(w, culprit)
        self.deaths[reason] += 1
        if culprit is not None and not culprit.future.done():
            log.warning(
                "decider died (%s) deciding execution %s; faulting it",
                reason,
                culprit.state.execution_id,
            )
            culprit.future.set_result(Turn(culprit.state, [], failure=problem))
        self._pending.extendleft(reversed(w.inflight))  # the others go to another worker
        w.inflight.clear()
        if w.index is None:  # the standby died waiting: start another
            self._standby = None
            self._in_background(self._stand_by())
            return
        self._workers[w.index] = None
        self._schedule_flush()
        await self._fill(w.index)

    def _cause(self, w: _Worker, culprit: _Job | None) -> tuple[str, dict[str, Any]]:
        settings = self.settings
        code = w.process.returncode
        where = culprit.state.current_task() if culprit is not None else "/"
        if w.killed_for is not None and w.killed_for is culprit:
            detail = (
                f"deciding the execution took longer than {settings.decision_seconds:g} s "
                "(decisionTime), so its decider process was stopped; an expression that "
                "runs this long holds whoever evaluates it"
            )
            return "decisionTime", limit_error("decisionTime", detail, instance=where)
        mib = settings.memory_bytes >> 20
        if code == -signal.SIGABRT:
            detail = (
                "the decider process aborted while deciding the execution, as jq does when "
                f"it runs out of memory (the decider has {mib} MiB)"
            )
            return "memory", limit_error("memory", detail, instance=where)
        name = signal.Signals(-code).name if code is not None and code < 0 else f"exit {code}"
        detail = f"the decider process died ({name}) while deciding the execution"
        if code == -signal.SIGKILL:
            detail += ", most likely killed by the system for want of memory"
        return name, quarantine_error(detail + "; it is not run again", instance=where)

    async def _fill(self, index: int) -> None:
        """Put a worker in place ``index``: the standby if it is ready, else a new one."""
        w = self._standby
        self._standby = None
        if w is None:
            w = await self._new_worker()
            if w is None:
                return  # closing
        w.index = index
        self._workers[index] = w
        self._schedule_flush()
        self._in_background(self._stand_by())

    async def _stand_by(self) -> None:
        """Start the standby, unless there is one or one is starting."""
        if not self.settings.standby or self._standby is not None or self._standing_by:
            return
        self._standing_by = True
        try:
            self._standby = await self._new_worker()
        finally:
            self._standing_by = False

    async def _new_worker(self) -> _Worker | None:
        """A worker that said it is ready, retrying while starting one fails."""
        delay = 0.1
        while not self._closing:
            try:
                w = await self._spawn()
            except Exception:
                log.exception("cannot start a decider process; retrying")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._in_background(self._read(w))
            return w
        return None

    async def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        progress = wire.Progress.create()
        try:
            fd = theirs.fileno()
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                launch.__name__,
                str(fd),
                str(self.settings.memory_bytes),
                str(progress.fd),
                pass_fds=(fd, progress.fd),
                stdin=asyncio.subprocess.DEVNULL,
            )
        except BaseException:
            writer.close()
            progress.close()
            raise
        finally:
            theirs.close()
        w = _Worker(process, reader, writer, progress)
        self._processes.add(w)
        try:
            async with asyncio.timeout(READY_SECONDS):
                (size,) = wire.LENGTH.unpack(await reader.readexactly(wire.LENGTH.size))
                header, _ = wire.split_result(await reader.readexactly(size))
            if "ready" not in header:
                raise RuntimeError(f"a decider process said {header!r} instead of ready")
        except Exception:
            _kill(w)
            writer.close()
            progress.close()
            raise
        log.debug("decider process %s is ready", process.pid)
        return w

    def _in_background(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _deciding(w: _Worker) -> tuple[_Job, float] | None:
    """The turn ``w`` is deciding, of those it has not answered, and since when."""
    noted = w.progress.read()
    if noted is None or noted[0] == 0:
        return None
    turn, since = noted
    return next(((job, since) for job in w.inflight if job.id == turn), None)


def _kill(w: _Worker) -> None:
    if w.process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            w.process.kill()


def _fail(job: _Job, error: BaseException) -> None:
    if not job.future.done():
        job.future.set_exception(error)

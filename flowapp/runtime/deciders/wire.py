"""What crosses the socket between the runtime and a decider worker, and how.

A frame is a 4-byte big-endian length and that many bytes. The runtime sends one frame
per batch of turns (the turns one pump round asked for)::

    {"workflows": {id: {"document", "functions"}},   # only those the worker has not seen
     "envs": {key: {...}},                           # likewise
     "jobs": [{"id", "workflow", "env", "state", "signals", "now", "budget", "seconds"}]}

and the worker answers each job, in order, with one frame: a JSON header (its length
first, in 4 bytes) followed by the new state as JSON, so that the state's size is known
without serialising it again::

    {"id", "decisions": [{"commands", "runs", "transitions", "steps"}], "cpu"} + state
    {"id", "failure": problem}                                    (nothing follows)

The answers to one batch are written together, once the batch is decided (or once the
oldest answer waiting is ``FLUSH_SECONDS`` old): one write and one wake-up of the runtime
for the batch, not one per turn. So that the runtime still knows which turn a worker is
on when it has to stop or bury it, the worker notes the turn it starts, and when, in a
few bytes of memory both processes map (``Progress``): no message, no system call.

Everything is JSON, written and read with the store's codec (exact for integers beyond
64 bits and for deep nesting, as the database is): the state and signals are JSON
already, and nothing that is not data (no pickle) is ever read from a worker.
"""

from __future__ import annotations

import dataclasses
import mmap
import os
import struct
import tempfile
from collections.abc import Mapping
from typing import Any

import orjson

from flowapp.engine.commands import command_from_json
from flowapp.engine.records import Decision, TaskRun, Transition
from flowapp.engine.scope import Environment
from flowapp.engine.state import ExecutionState
from flowapp.store.codec import dumps, loads

LENGTH = struct.Struct(">I")
MAX_FRAME = (1 << 32) - 1
# A worker writes the answers it holds once the oldest is this old, even mid-batch.
FLUSH_SECONDS = 0.002
_PROGRESS = struct.Struct("<qd")  # the turn being decided (0: none), since (time.monotonic())
_STABLE_READS = 100


class Progress:
    """The turn a worker is deciding, in memory shared by the runtime and the worker.

    The runtime creates it (``create``) and hands the worker its file descriptor; the
    worker writes, the runtime reads when a turn is overdue or the worker died. A read
    racing a write may see half of each: it is read until two reads agree."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._map = mmap.mmap(fd, _PROGRESS.size)

    @classmethod
    def create(cls) -> Progress:
        with tempfile.TemporaryFile() as backing:  # unlinked: gone with its last user
            fd = os.dup(backing.fileno())
        os.ftruncate(fd, _PROGRESS.size)
        return cls(fd)

    def deciding(self, turn: int, since: float) -> None:
        self._map[: _PROGRESS.size] = _PROGRESS.pack(turn, since)

    def read(self) -> tuple[int, float] | None:
        """(turn, since), or None while the worker moves too fast to read it whole."""
        last = self._map[: _PROGRESS.size]
        for _ in range(_STABLE_READS):
            again = self._map[: _PROGRESS.size]
            if again == last:
                turn, since = _PROGRESS.unpack(again)
                return int(turn), float(since)
            last = again
        return None

    def close(self) -> None:
        if not self._map.closed:
            self._map.close()
            os.close(self.fd)


def frame(payload: bytes) -> bytes:
    return LENGTH.pack(len(payload)) + payload


def message_frame(message: dict[str, Any]) -> bytes:
    return frame(dumps(message))


def encoded(value: Any) -> orjson.Fragment:
    """``value`` encoded now (``StoreError`` if it is not JSON), to place in a message."""
    return orjson.Fragment(dumps(value))


def read_message(payload: bytes) -> dict[str, Any]:
    message: dict[str, Any] = loads(payload)
    return message


def result_frame(header: dict[str, Any], state: bytes = b"") -> bytes:
    head = dumps(header)
    return frame(LENGTH.pack(len(head)) + head + state)


def split_result(payload: bytes) -> tuple[dict[str, Any], bytes]:
    (size,) = LENGTH.unpack_from(payload)
    header = loads(payload[LENGTH.size : LENGTH.size + size])
    return header, payload[LENGTH.size + size :]


def encode_state(state: ExecutionState) -> bytes:
    return dumps(state.to_json())


def decode_state(snapshot: bytes) -> ExecutionState:
    return ExecutionState.from_json(loads(snapshot))


def env_to_json(env: Environment) -> dict[str, Any]:
    return {f.name: _plain(getattr(env, f.name)) for f in dataclasses.fields(env)}


def _plain(value: Any) -> Any:
    """Read-only mappings (an app's secrets) as the dicts JSON knows."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def env_from_json(data: dict[str, Any]) -> Environment:
    return Environment(**data)


def decision_to_json(decision: Decision) -> dict[str, Any]:
    return {
        "commands": [command.to_json() for command in decision.commands],
        "runs": [run.to_json() for run in decision.task_runs],
        "transitions": [[t.status, t.at] for t in decision.transitions],
        "steps": decision.steps,
    }


def decision_from_json(state: ExecutionState, data: dict[str, Any]) -> Decision:
    return Decision(
        state,
        [command_from_json(command) for command in data["commands"]],
        [TaskRun(**run) for run in data["runs"]],
        [Transition(status, at) for status, at in data["transitions"]],
        data["steps"],
    )

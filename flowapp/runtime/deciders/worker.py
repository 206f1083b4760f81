"""A decider worker: a process that runs the engine for the runtime, and nothing else.

Started by ``launch`` (which ignores SIGINT and SIGTERM and lowers the CPU priority
before anything heavy is imported), it caps its own address space (``RLIMIT_AS``), says
it is ready on its socket, and then decides the turns it is sent, one after the other,
noting each turn it starts in the memory it shares with the runtime (``wire.Progress``)
and answering a batch with one write once it is decided (``wire.FLUSH_SECONDS``). It
keeps the workflows it has built (by id, the digest of their document), so only states
and signals cross the socket once a workflow is known. It ends when the runtime closes
its socket (or dies), or when the runtime kills it.
"""

from __future__ import annotations

import os
import resource
import socket
import time
from collections import OrderedDict
from typing import Any, BinaryIO

from flowapp.dsl.build import build_workflow
from flowapp.dsl.model import Workflow
from flowapp.engine.limits import limit_error
from flowapp.engine.scope import Environment
from flowapp.engine.signals import signal_from_json
from flowapp.engine.state import ExecutionState
from flowapp.runtime.deciders import wire
from flowapp.runtime.deciders.base import decide_turn

KEPT_WORKFLOWS = 256


def main(fd: int, memory_bytes: int, progress_fd: int) -> None:
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    sock = socket.socket(fileno=fd)
    try:
        sock.sendall(wire.result_frame({"ready": os.getpid()}))
        Worker(sock, memory_bytes, wire.Progress(progress_fd)).serve()
    except (BrokenPipeError, ConnectionResetError):
        return  # the runtime went away (it stopped, or failed to start): so do we


class Worker:
    def __init__(self, sock: socket.socket, memory_bytes: int, progress: wire.Progress) -> None:
        self.sock = sock
        self.progress = progress
        self.incoming: BinaryIO = sock.makefile("rb")
        self.memory_bytes = memory_bytes
        self.workflows: OrderedDict[str, Workflow] = OrderedDict()
        self.envs: dict[str, Environment] = {}

    def serve(self) -> None:
        while True:
            payload = self.read_frame()
            if payload is None:
                return  # the runtime is gone
            message = wire.read_message(payload)
            for key, spec in message.get("workflows", {}).items():
                functions = frozenset(spec["functions"])
                self.keep(key, build_workflow(spec["document"], app_functions=functions))
            for key, data in message.get("envs", {}).items():
                self.envs[key] = wire.env_from_json(data)
            self.decide_batch(message["jobs"])

    def decide_batch(self, jobs: list[dict[str, Any]]) -> None:
        held: list[bytes] = []  # answers not written yet
        oldest = 0.0
        for job in jobs:
            started = time.monotonic()
            self.progress.deciding(job["id"], started)
            held.append(self.answer(job, held))
            if len(held) == 1:
                oldest = started
            if time.monotonic() - oldest >= wire.FLUSH_SECONDS:
                self.sock.sendall(b"".join(held))
                held.clear()
        if held:
            self.sock.sendall(b"".join(held))
        self.progress.deciding(0, time.monotonic())

    def read_frame(self) -> bytes | None:
        head = self.incoming.read(wire.LENGTH.size)
        if len(head) < wire.LENGTH.size:
            return None
        (size,) = wire.LENGTH.unpack(head)
        payload = self.incoming.read(size)
        return payload if len(payload) == size else None

    def keep(self, key: str, workflow: Workflow) -> None:
        self.workflows[key] = workflow
        self.workflows.move_to_end(key)
        while len(self.workflows) > KEPT_WORKFLOWS:
            self.workflows.popitem(last=False)

    def answer(self, job: dict[str, Any], held: list[bytes]) -> bytes:
        try:
            return self.decide(job)
        except MemoryError:
            mib = self.memory_bytes >> 20
            detail = f"deciding the execution needed more than the decider's {mib} MiB of memory"
            answer = wire.result_frame({"id": job["id"], "failure": limit_error("memory", detail)})
            self.sock.sendall(b"".join([*held, answer]))  # in order: the turns before it first
            os._exit(0)  # start afresh: memory may be left fragmented or half-built

    def decide(self, job: dict[str, Any]) -> bytes:
        workflow = self.workflows[job["workflow"]]
        self.workflows.move_to_end(job["workflow"])
        state = ExecutionState.from_json(job["state"])
        signals = [signal_from_json(data) for data in job["signals"]]
        started = time.process_time()
        decisions = decide_turn(
            workflow,
            state,
            signals,
            job["now"],
            self.envs[job["env"]],
            budget=job["budget"],
            seconds=job["seconds"],
        )
        cpu = round(time.process_time() - started, 6)  # short text: see ``store.codec``
        state.cpu_seconds = round(state.cpu_seconds + cpu, 6)
        snapshot = wire.encode_state(state)
        limit = state.limits.state_bytes
        if len(snapshot) > limit:  # the runtime never has to take in a bloated state
            detail = (
                f"the execution's state is {len(snapshot):,} bytes, over its limit of "
                f"{limit:,} bytes (stateSize)"
            )
            problem = limit_error("stateSize", detail, instance=state.current_task())
            return wire.result_frame({"id": job["id"], "failure": problem, "cpu": cpu})
        header = {
            "id": job["id"],
            "decisions": [wire.decision_to_json(decision) for decision in decisions],
            "cpu": cpu,
        }
        return wire.result_frame(header, snapshot)

"""Dramatiq on Redis: the driver (run as a script) and the actors' module (imported by
the ``dramatiq`` workers it starts).

- 3-step chain: a ``pipeline`` of three ``step`` messages, each passing its result on;
- fan-out: Dramatiq has no join that receives a group's results, so the caller runs
  ``step``, then a ``group`` of ten, waits for their results, then sends ``join``.
Results go through the Redis result backend (``Results`` middleware).
"""

from __future__ import annotations

import sys
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.results import Results
from dramatiq.results.backends import RedisBackend
from peer_common import (
    FUNCTION,
    RESULT_TIMEOUT,
    SETTINGS,
    delete_redis_keys,
    emit,
    measure_with_workers,
    versions,
)

REDIS_URL = SETTINGS.get("redis_url", "redis://127.0.0.1:6379/0")
NAMESPACE = SETTINGS.get("namespace", "bench-peers")
PROCESSES = int(SETTINGS.get("processes", 2))
THREADS = int(SETTINGS.get("threads", 8))
TIMEOUT_MS = int(RESULT_TIMEOUT * 1000)

broker = RedisBroker(url=REDIS_URL, namespace=NAMESPACE)
broker.add_middleware(
    Results(backend=RedisBackend(url=REDIS_URL, namespace=f"{NAMESPACE}-results"))
)
dramatiq.set_broker(broker)


@dramatiq.actor(actor_name="step", store_results=True, max_retries=0)
def step(data: Any) -> Any:
    return FUNCTION.call(data)


@dramatiq.actor(actor_name="join", store_results=True, max_retries=0)
def join(outputs: list[Any]) -> Any:
    return FUNCTION.call({"steps": sum(output["steps"] for output in outputs)})


def chain() -> Any:
    pipe = dramatiq.pipeline([step.message({"steps": 0}), step.message(), step.message()])
    pipe.run()
    return pipe.get_result(block=True, timeout=TIMEOUT_MS)


def fan_out() -> Any:
    first = step.send({"steps": 0}).get_result(block=True, timeout=TIMEOUT_MS)
    branches = dramatiq.group([step.message(first) for _ in range(10)]).run()
    outputs = list(branches.get_results(block=True, timeout=TIMEOUT_MS))
    return join.send(outputs).get_result(block=True, timeout=TIMEOUT_MS)


def main() -> None:
    emit(
        config={
            "versions": versions("dramatiq", "redis"),
            "workers": f"{PROCESSES} processes x {THREADS} threads (dramatiq CLI)",
            "broker": f"RedisBroker {REDIS_URL}, namespace {NAMESPACE}",
            "results": "Results middleware, RedisBackend on the same Redis",
            "worker_timeout": "1000 ms, the default (the longest idle poll of the queue)",
            "chain": "pipeline of 3 messages",
            "fan_out": "step; group of 10 (caller waits for their results); join",
        }
    )
    command = [sys.executable, "-m", "dramatiq", "peer_dramatiq"]
    command += ["--processes", str(PROCESSES), "--threads", str(THREADS)]
    measure_with_workers(command, chain, fan_out, lambda: delete_redis_keys(REDIS_URL, NAMESPACE))


if __name__ == "__main__":
    main()

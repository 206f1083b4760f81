"""Celery on Redis: the driver (run as a script) and the tasks' module (imported by the
``celery worker`` it starts).

- 3-step chain: ``chain(step, step, step)``, each passing its result on;
- fan-out: ``step | chord([step] * 10, join)``: the join receives the ten results.
Results go through the Redis result backend.
"""

from __future__ import annotations

import sys
from typing import Any

from celery import Celery, chord
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
QUEUE = SETTINGS.get("namespace", "bench-peers")
POOL = SETTINGS.get("pool", "threads")
CONCURRENCY = int(SETTINGS.get("concurrency", 16))

app = Celery("peer_celery", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    task_default_queue=QUEUE,
    result_expires=600,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="step")
def step(data: Any) -> Any:
    return FUNCTION.call(data)


@app.task(name="join")
def join(outputs: list[Any]) -> Any:
    return FUNCTION.call({"steps": sum(output["steps"] for output in outputs)})


def chain() -> Any:
    work = step.s({"steps": 0}) | step.s() | step.s()
    return work.apply_async().get(timeout=RESULT_TIMEOUT)


def fan_out() -> Any:
    work = step.s({"steps": 0}) | chord([step.s() for _ in range(10)], join.s())
    return work.apply_async().get(timeout=RESULT_TIMEOUT)


def main() -> None:
    emit(
        config={
            "versions": versions("celery", "kombu", "redis"),
            "workers": f"1 worker, --pool {POOL} --concurrency {CONCURRENCY}",
            "broker": f"{REDIS_URL}, queue {QUEUE}",
            "results": f"Redis backend {REDIS_URL}",
            "chain": "chain of 3 signatures",
            "fan_out": "step | chord(10 x step, join)",
        }
    )
    command = [sys.executable, "-m", "celery", "-A", "peer_celery", "worker"]
    command += ["--pool", POOL, "--concurrency", str(CONCURRENCY), "--queues", QUEUE]
    command += ["--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
    measure_with_workers(command, chain, fan_out, lambda: delete_redis_keys(REDIS_URL, QUEUE))


if __name__ == "__main__":
    main()

"""The operator benchmark: reconcile latency for N FlowApps on the in-memory Kubernetes API.

The API server of the tests (``tests/k8s``: CRDs enforced, watch streams, status
subresource) and the operator (kopf) run in this process, on one event loop, over real
HTTP on 127.0.0.1. N copies of ``examples/append-display`` (8 objects each) are applied
at once, with their database Secret present; then:

- converge: from each FlowApp's creation to its status first written (every object
  created, conditions computed), and the time until all N were;
- ready: after every Knative object and Deployment is marked ready (as Knative's
  controllers would), until all N FlowApps show ``Ready=True``;
- resync: one reconcile of an app that is already converged (lists its 11 kinds of
  children, compares, writes nothing), called N times in a row.

Run: ``.venv/bin/python -m bench.operator`` (``BENCH_APPS`` sets N, default 100), or
``python -m bench operator``. Numbers depend on the machine's load: the line printed first
describes it.
"""

from __future__ import annotations

import asyncio
import copy
import os
import sys
import time
from pathlib import Path

if not __package__:  # run as `python bench/operator.py`: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import describe
from bench.stats import latency_line
from tests.k8s.cluster import ROOT, app_object, condition, running_cluster

APPS = int(os.environ.get("BENCH_APPS", "100"))


async def _wait(predicate: object, timeout: float = 600.0) -> None:
    deadline = time.perf_counter() + timeout
    while not await predicate():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            raise TimeoutError("the apps did not converge in time")
        await asyncio.sleep(0.01)


async def measure(apps: int) -> list[str]:
    lines = []
    async with running_cluster(resync=3600.0, watchdog=None) as cluster:
        await cluster.database_secret()
        template = app_object(ROOT / "examples" / "append-display")
        names = [f"app-{index:03d}" for index in range(apps)]
        store = cluster.server.store
        flowapps = store.find_type("flowapp.dev", "v1alpha1", "flowapps")
        created: dict[str, float] = {}
        converged: dict[str, float] = {}
        start = time.perf_counter()
        for name in names:
            obj = copy.deepcopy(template)
            obj["metadata"]["name"] = name
            created[name] = time.perf_counter()
            await cluster.apply(obj)

        async def all_converged() -> bool:
            now = time.perf_counter()
            for name in names:
                if name not in converged:
                    found = store.objects.get(("flowapp.dev", "flowapps", "default", name))
                    if found and (found.get("status") or {}).get("observedGeneration"):
                        converged[name] = now
            return len(converged) == apps

        await _wait(all_converged)
        total = time.perf_counter() - start
        lines.append(
            latency_line(
                f"converge, creation to status ({apps} apps)",
                [converged[n] - created[n] for n in names],
            )
        )
        lines.append(
            f"all {apps} apps converged in {total:.2f} s "
            f"({apps * 8} objects, {apps * 8 / total:.0f} objects/s)"
        )

        marked = time.perf_counter()
        for name in names:
            await cluster.mark_all_ready(name)

        async def all_ready() -> bool:
            return all(
                condition(store.objects.get(("flowapp.dev", "flowapps", "default", name))).get(
                    "status"
                )
                == "True"
                for name in names
            )

        await _wait(all_ready)
        lines.append(
            f"all {apps} apps Ready {time.perf_counter() - marked:.2f} s "
            "after their objects were marked ready"
        )

        reconciler = cluster.running.reconciler
        assert reconciler is not None
        samples = []
        for name in names:
            body = store.get(flowapps, "default", name)
            began = time.perf_counter()
            outcome = await reconciler.reconcile(body)
            samples.append(time.perf_counter() - began)
            assert outcome.created == outcome.updated == outcome.deleted == 0
        lines.append(latency_line("resync of a converged app (no write)", samples))
        lines.append(f"API requests served: {store.requests}")
    return lines


def main() -> list[str]:
    return asyncio.run(measure(APPS))


if __name__ == "__main__":
    print(describe())
    for line in main():
        print(line)

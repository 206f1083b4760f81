"""The fault tests' workflows, how executions are submitted, and what is expected of them.

Every workflow calls the ``ledger`` fixture function (``tests/fixtures/faults/ledger``),
whose outputs are arithmetic on the input, so an execution's output proves that each of
its calls answered and that the answers reached the right tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from flowapp.dsl.validate import load_text
from flowapp.runtime.registry import LoadedWorkflow, WorkflowRegistry
from flowapp.runtime.runtime import Runtime
from flowapp.store.port import Store

FUNCTIONS = frozenset({"ledger"})


def document(name: str, body: str) -> str:
    """A workflow document: its ``do`` list (YAML) under a header naming it."""
    header = f"document: {{dsl: '1.0.0', namespace: faults, name: {name}, version: '1.0.0'}}\n"
    return header + body


def pipeline(wait_ms: int) -> str:
    """call -> wait -> fork of two calls -> call; the output is ``{n, total: 9 n + 1}``."""
    return document(
        f"pipeline-{wait_ms}",
        f"""do:
  - step1: {{call: ledger, with: {{op: step1, n: '${{ .n }}'}}}}
  - pause: {{wait: {{milliseconds: {wait_ms}}}}}
  - both:
      fork:
        branches:
          - left: {{call: ledger, with: {{op: left, a: '${{ .a }}'}}}}
          - right: {{call: ledger, with: {{op: right, a: '${{ .a }}'}}}}
  - final: {{call: ledger, with: {{op: final, n: '${{ $workflow.input.n }}', parts: '${{ . }}'}}}}
""",
    )


PIPELINE_TASKS = ("step1", "pause", "both", "left", "right", "final")


def pipeline_output(n: int) -> dict[str, int]:
    return {"n": n, "total": 9 * n + 1}


def pair(wait_ms: int) -> str:
    """call -> wait -> call; the output is ``{l: 2 n + 1}``."""
    return document(
        f"pair-{wait_ms}",
        f"""do:
  - step1: {{call: ledger, with: {{op: step1, n: '${{ .n }}'}}}}
  - pause: {{wait: {{milliseconds: {wait_ms}}}}}
  - left: {{call: ledger, with: {{op: left, a: '${{ .a }}'}}}}
""",
    )


PAIR_TASKS = ("step1", "pause", "left")


def pair_output(n: int) -> dict[str, int]:
    return {"l": 2 * n + 1}


def register(store: Store, text: str, functions: frozenset[str] = FUNCTIONS) -> LoadedWorkflow:
    """Validate a document and save it, so engine processes find it by id."""
    definition = load_text(text, known_functions=functions).data
    return WorkflowRegistry(store).add(definition, app_functions=functions)


async def submit_async(
    store: Store, jobs: Sequence[tuple[LoadedWorkflow, Any]], pause: float = 0.0
) -> list[str]:
    """Record pending executions for the engines to claim (``Runtime.submit``)."""
    client = Runtime(store, owner="faults-client")
    await client.start(recover=False)
    try:
        ids = []
        for workflow, data in jobs:
            ids.append(await client.submit(workflow, data))
            if pause:
                await asyncio.sleep(pause)
        return ids
    finally:
        await client.stop()


def submit(
    store: Store, jobs: Sequence[tuple[LoadedWorkflow, Any]], *, pause: float = 0.0
) -> list[str]:
    """``submit_async`` from a thread without an event loop."""
    return asyncio.run(submit_async(store, jobs, pause))

"""How long the ``flowapp`` command takes to start, as a person runs it: a whole process,
from exec to exit.

- ``flowapp --help`` and ``flowapp validate`` of a small workflow (targets <= 0.3 s);
- ``flowapp run`` of a one-task workflow on a store already migrated, as the default
  store in ``$FLOWAPP_HOME`` is after the first run (target <= 0.5 s), and on a new one.

Each is run several times; the best and the median wall time are printed, with the
process's CPU time (user + system, children included), which a loaded machine moves
less than the wall time. ``python -X importtime -m flowapp.cli.main ...`` shows where an
import-bound start goes.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
ONE_TASK = (
    "document: {dsl: '1.0.3', namespace: bench, name: one, version: '1.0.0'}\n"
    "do:\n  - only: {set: {done: true}}\n"
)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``flowapp ARGV``, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flowapp.cli.main", *argv],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def line(name: str, samples: list[tuple[float, float]], target: float | None) -> str:
    walls = [wall for wall, _ in samples]
    cpus = [cpu for _, cpu in samples]
    text = (
        f"{name}: best {min(walls):.3f} s, median {statistics.median(walls):.3f} s wall; "
        f"CPU median {statistics.median(cpus):.3f} s (n={len(samples)})"
    )
    if target is not None:
        text += f"; target <= {target:g} s"
    return text


def main() -> list[str]:
    runs = 3 if os.environ.get("BENCH_QUICK") == "1" else 7
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        env = {**os.environ, "FLOWAPP_HOME": str(folder / "home"), "FLOWAPP_LOG_LEVEL": "WARNING"}
        workflow = folder / "one.yaml"
        workflow.write_text(ONE_TASK)
        current = ["run", str(workflow), "--db", f"sqlite:///{folder / 'current.db'}"]
        timed(current, env)  # the store's first run migrates it; and warms the file cache
        lines = [
            line("flowapp --help", [timed(["--help"], env) for _ in range(runs)], 0.3),
            line(
                "flowapp validate examples/hello/workflow.yaml",
                [timed(["validate", "examples/hello/workflow.yaml"], env) for _ in range(runs)],
                0.3,
            ),
            line(
                "flowapp run, one-task workflow, store already migrated",
                [timed(current, env) for _ in range(runs)],
                0.5,
            ),
            line(
                "flowapp run, one-task workflow, new store (migrated by the run)",
                [
                    timed([*current[:-1], f"sqlite:///{folder / f'new{i}.db'}"], env)
                    for i in range(runs)
                ],
                None,
            ),
        ]
    return lines


if __name__ == "__main__":
    for text in main():
        print(text)

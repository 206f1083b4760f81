"""``python -m bench [engine ...]``: run the named benchmarks (all by default)."""

from __future__ import annotations

import importlib
import sys

from bench.machine import describe

SUITES = (
    "engine",
    "steps",
    "tracing",
    "deciders",
    "invoke",
    "soak",
    "triggers",
    "operator",
    "cli",
    "history",
    "peers",
    "curves",
)


def main(names: list[str]) -> None:
    print(describe())
    for name in names or SUITES:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n[{name}]")
        for line in module.main():
            print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

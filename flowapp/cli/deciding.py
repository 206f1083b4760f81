"""The decider options `flowapp up` and `flowapp cluster-engine` share."""

from __future__ import annotations

from typing import Annotated

import typer

Deciders = Annotated[
    int,
    typer.Option(
        "--deciders",
        min=0,
        help="Processes that decide executions (0: in this process, unprotected).",
    ),
]
DecisionTimeout = Annotated[
    float,
    typer.Option(
        "--decision-timeout",
        min=0.1,
        help="Seconds one decision may take before its process is killed.",
    ),
]
DeciderMemory = Annotated[
    int,
    typer.Option("--decider-memory", min=64, help="MiB of memory each decider process may use."),
]

"""Path and query parameters shared by several routers, with their documented rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

AppName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=63,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="The app's name (a DNS-1123 label).",
        examples=["hello"],
    ),
]
ExecutionId = Annotated[
    str,
    Path(min_length=1, max_length=200, description="The execution's id."),
]

"""``flowapp init`` and ``flowapp new function``: thin commands over ``flowapp.apps.scaffold``.

A refused request (a folder that is not empty, a name taken or invalid, an invalid
``--from`` workflow) is reported with its reason and exits 2, like an invalid definition
for ``flowapp run``; nothing is written in that case.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Runtime(StrEnum):
    python = "python"
    node = "node"
    java = "java"
    go = "go"


def init(
    name: Annotated[str, typer.Argument(help="The FlowApp's name: lowercase letters, digits, -.")],
    from_: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="A Serverless Workflow file: one function folder per function it calls.",
        ),
    ] = None,
    runtime: Annotated[Runtime, typer.Option(help="The language of the functions.")] = (
        Runtime.python
    ),
    dir: Annotated[Path | None, typer.Option(help="Where to create it (default: ./NAME).")] = None,
) -> None:
    """Create a FlowApp project: flowapp.yaml, workflow.yaml, functions, tests and CI."""
    from flowapp.apps.scaffold import init_project, read_workflow

    target = dir if dir is not None else Path(name)
    workflow = read_workflow(from_) if from_ is not None else None
    init_project(
        target,
        name,
        workflow=workflow.data if workflow else None,
        workflow_text=workflow.text if workflow else None,
        runtime=runtime.value,
    )
    typer.echo(f"Created the FlowApp `{name}` in {target}")
    typer.echo(f"Next: cd {target} && flowapp dev   (see README.md)")


def function(
    name: Annotated[str, typer.Argument(help="The function's name: lowercase letters, digits, -.")],
    runtime: Annotated[Runtime, typer.Option(help="The function's language.")] = Runtime.python,
    dir: Annotated[Path, typer.Option(help="The project folder (holding flowapp.yaml).")] = Path(
        "."
    ),
) -> None:
    """Add a function: functions/NAME with code, test and dependency file, in flowapp.yaml."""
    from flowapp.apps.scaffold import new_function

    folder = new_function(dir, name, runtime.value)
    typer.echo(f"Created {folder} ({runtime.value}); call it from the workflow: `call: {name}`")


def register(app: typer.Typer, *, panel: str) -> None:
    """Add ``init`` and ``new function`` to ``app``."""
    app.command(rich_help_panel=panel)(init)
    new = typer.Typer(
        help="Add parts to a FlowApp project.",
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    new.command()(function)
    app.add_typer(new, name="new", rich_help_panel=panel)

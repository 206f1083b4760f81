"""``flowapp completion SHELL``: the script that completes flowapp's commands and options.

    source <(flowapp completion bash)             # this shell
    flowapp completion bash > ~/.local/share/bash-completion/completions/flowapp

The script calls ``flowapp`` back with ``_FLOWAPP_COMPLETE`` set to ask for completions
(typer's protocol), so it follows the commands of whichever flowapp is installed.
"""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated

import typer

PROG_NAME = "flowapp"
COMPLETE_VAR = "_FLOWAPP_COMPLETE"


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"


def completion(shell: Annotated[Shell, typer.Argument(help="Your shell.")]) -> None:
    """Print the shell completion script: `source <(flowapp completion bash)`."""
    from typer._completion_shared import get_completion_script
    from typer.completion import completion_init  # type: ignore[attr-defined]

    completion_init()
    script = get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VAR, shell=shell)
    typer.echo(script)


def prepare() -> None:
    """When the shell asks for completions, typer's shell classes must be registered
    first (typer does it itself only for apps with its ``--install-completion``)."""
    if os.environ.get(COMPLETE_VAR):
        from typer.completion import completion_init  # type: ignore[attr-defined]

        completion_init()


def register(app: typer.Typer, *, panel: str) -> None:
    app.command(rich_help_panel=panel)(completion)

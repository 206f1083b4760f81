"""The ``flowapp`` console command: thin commands over the packages below it.

Every command module imports only what its signature needs (typer, the standard
library, ``flowapp.cli`` helpers); what a command does is imported when it runs, so
``flowapp --help`` or ``flowapp validate`` never loads a database driver or a web server.

``main()`` is the one place errors become messages: whatever a command raises is shown
as what went wrong and what to do (``flowapp.cli.failures``), with the exit code
documented there; ``flowapp --debug`` shows the traceback as well.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer

from flowapp.cli import (
    client,
    cluster,
    completion,
    control,
    engine,
    failures,
    history,
    k8s,
    operator,
    platform,
    running,
    scaffold,
    up,
)

app = typer.Typer(
    name="flowapp",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _Options:
    debug = False


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"flowapp {version('flowapp')}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="FLOWAPP_DEBUG", help="Show the traceback of an error."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_version, help="Print the version."),
    ] = False,
) -> None:
    """A low-code serverless workflow platform for Serverless Workflow 1.0.

    Exit codes: 0 success, 1 the execution faulted, 2 invalid input or definition,
    3 environment or server error, 130 interrupted.
    """
    _Options.debug = debug


# The command modules of each panel of ``flowapp --help``, in the order it lists them.
PANELS = {
    "Workflows": (running, history, control),
    "Projects": (scaffold, up),
    "Server": (client, platform),
    "Platform": (engine, cluster, k8s, operator, completion),
}
for panel, modules in PANELS.items():
    for module in modules:
        module.register(app, panel=panel)


def main() -> None:
    """Run the command; report any error as a message (``failures``) and its exit code."""
    completion.prepare()
    try:
        app(prog_name=completion.PROG_NAME)
    except KeyboardInterrupt:
        sys.exit(failures.EXIT_INTERRUPTED)
    except Exception as error:
        sys.exit(report(error))


def report(error: BaseException) -> int:
    failure = failures.explain(error)
    if _Options.debug:
        traceback.print_exception(error, file=sys.stderr)
    for line in failure.lines:
        print(line, file=sys.stderr)
    for hint in failure.hints:
        print(f"hint: {hint}", file=sys.stderr)
    return failure.code


if __name__ == "__main__":
    main()

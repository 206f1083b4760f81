"""How an error reaches the person at the terminal: one message that says what went wrong
and what to do, and an exit code a script can test. Never a traceback, unless asked
for with ``flowapp --debug``.

Exit codes (``docs/cli.md``):

    0    success: the execution completed, the command did what it was asked
    1    the execution faulted (its error JSON on stdout), or a deploy failed
    2    invalid input or definition: a workflow with problems, input that is not JSON,
         an unknown app or execution, an action the execution's state does not allow
    3    environment or server error: a database or server that cannot be reached, a
         token refused, a file that cannot be written, a server failure
    130  interrupted (Ctrl-C)

Commands raise; ``explain`` turns whatever they raise into lines and a code, and
``flowapp.cli.main`` prints them. The error classes defined here are what commands raise
on purpose; the rest (store, API, definition errors) are recognised by type. This module
imports nothing heavy: a command that needs no database never loads one to report an
error.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

EXIT_OK = 0
EXIT_FAULTED = 1
EXIT_INVALID = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERRUPTED = 130

DEBUG_HINT = "run `flowapp --debug …` to see where it happened"


class CliError(Exception):
    """An error meant for the user: what went wrong, what to do, and the exit code."""

    code = EXIT_ENVIRONMENT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InvalidInput(CliError):
    """Something wrong with what was asked: an option, an id, a file's content."""

    code = EXIT_INVALID


class EnvironmentProblem(CliError):
    """Something wrong around the command: a database, a server, a file system."""

    code = EXIT_ENVIRONMENT


class ApiError(Exception):
    """The server answered with an error: its RFC 7807 problem."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail") or problem.get("title"))
        self.problem = problem


class Unreachable(EnvironmentProblem):
    """The server could not be reached at all."""


@dataclass
class Failure:
    lines: list[str]
    code: int
    hints: list[str] = field(default_factory=list)


def explain(error: BaseException) -> Failure:
    """What to print for ``error`` and which code to exit with."""
    if isinstance(error, CliError):
        return Failure([f"Error: {error.message}"], error.code, _hints(error.hint))
    if isinstance(error, ApiError):
        return explain_problem(error.problem)
    definition = _loaded("flowapp.dsl.problems", "DefinitionError")
    if definition is not None and isinstance(error, definition):
        return Failure([str(p) for p in error.problems], EXIT_INVALID)  # type: ignore[attr-defined]
    return _explain_environment(error)


def explain_problem(problem: dict[str, Any]) -> Failure:
    """A problem the server answered with: its title, detail and every location."""
    title = problem.get("title") or f"HTTP {problem.get('status')}"
    detail = problem.get("detail")
    lines = [f"Error: {title}" + (f": {detail}" if detail else "")]
    for where in problem.get("problems") or []:
        place = str(where.get("file", ""))
        if where.get("line"):
            place += f":{where['line']}:{where.get('column', 0)}"
        lines.append(f"  {place}: {where.get('pointer') or '/'}: {where.get('message')}")
    status = problem.get("status")
    if title == "Deploy Failed":
        return Failure(lines, EXIT_FAULTED)
    if status in (401, 403):
        hint = "log in again with `flowapp login URL --token TOKEN`, or pass --token"
        if status == 403:
            hint = "use a token with that role or app (`flowapp token create` needs an admin)"
        return Failure(lines, EXIT_ENVIRONMENT, [hint])
    if isinstance(status, int) and 400 <= status < 500:
        return Failure(lines, EXIT_INVALID)
    return Failure(lines, EXIT_ENVIRONMENT, ["the server's log says more"])


def _explain_environment(error: BaseException) -> Failure:
    unavailable = _loaded("flowapp.store.port", "StoreUnavailable")
    store_error = _loaded("flowapp.store.port", "StoreError")
    if unavailable is not None and isinstance(error, unavailable):
        hint = "check that the database is running and that --db (or $FLOWAPP_DB) names it"
        return Failure([f"Error: cannot reach the database: {error}"], EXIT_ENVIRONMENT, [hint])
    if store_error is not None and isinstance(error, store_error):
        return Failure([f"Error: the database failed: {error}"], EXIT_ENVIRONMENT, [DEBUG_HINT])
    platform = _loaded("flowapp.server.platform", "PlatformError")
    if platform is not None and isinstance(error, platform):
        lines = [f"Error: {getattr(error, 'detail', error)}"]
        lines += [f"  {p}" for p in getattr(error, "problems", [])]
        return Failure(lines, EXIT_INVALID)
    key = _loaded("flowapp.runtime.secrets.box", "SecretsKeyError")
    if key is not None and isinstance(error, key):
        hint = "check $FLOWAPP_SECRETS_KEY and the data directory's secrets.key"
        return Failure([f"Error: the secrets cannot be opened: {error}"], EXIT_ENVIRONMENT, [hint])
    scaffold = _loaded("flowapp.apps.errors", "ScaffoldError")
    if scaffold is not None and isinstance(error, scaffold):
        return Failure([f"Error: {error}"], EXIT_INVALID)
    if isinstance(error, OSError):
        return Failure([f"Error: {_os_error(error)}"], EXIT_ENVIRONMENT)
    kind = type(error).__name__
    lines = [f"Error: unexpected {kind}: {error}" if str(error) else f"Error: unexpected {kind}"]
    return Failure(
        lines, EXIT_ENVIRONMENT, [DEBUG_HINT, "this is a bug of flowapp: please report it"]
    )


def _os_error(error: OSError) -> str:
    what = error.strerror or str(error)
    if error.filename is not None:
        return f"{error.filename}: {what}"
    return what


def _hints(hint: str | None) -> list[str]:
    return [hint] if hint else []


def _loaded(module: str, name: str) -> type[BaseException] | None:
    """The class, if its module is loaded: an error can only be an instance of a class
    whose module was imported, so there is nothing to import to recognise it."""
    loaded = sys.modules.get(module)
    found = getattr(loaded, name, None) if loaded is not None else None
    return found if isinstance(found, type) else None

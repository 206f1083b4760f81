"""What ``flowapp dev`` watches, twice a second (polling works on every file system):

- the project's YAML: ``flowapp.yaml``, the other YAML files next to it (the workflow)
  and ``config/*.yaml``. On a change the project is loaded and validated first: its
  problems are printed with their locations and the running version stays; a valid
  project is deployed in place as a new revision (the previous one keeps serving if the
  new one's functions fail to start, and the author's error is shown);
- each function folder of the serving revision. On a change that function restarts on
  the new code; if it fails to start, the author's own error comes first: the file and
  line in their folder and the message, then the code shown with it
  (``flowapp.functions.boot_errors``), not the host's traceback.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowapp.cli.banner import say
from flowapp.functions.boot_errors import user_error
from flowapp.functions.watch import Snapshot, snapshot

if TYPE_CHECKING:
    from flowapp.local.platform import LocalPlatform
    from flowapp.local.revisions import RevisionHost

PROJECT_YAML = ("*.yaml", "*.yml", "config/*.yaml", "config/*.yml")
FAILED_INSTANCE = re.compile(r"instance (\S+) ")
SHOWN_LINES = 12


def yaml_snapshot(folder: Path) -> Snapshot:
    files: Snapshot = {}
    for pattern in PROJECT_YAML:
        for path in folder.glob(pattern):
            try:
                stat = path.stat()
            except OSError:
                continue
            files[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return files


async def watch_project(
    running: Any,
    folder: Path,
    name: str,
    environment: str | None,
    *,
    ready: asyncio.Event,
    interval: float = 0.5,
) -> None:
    """Poll until cancelled; redeploy on YAML changes, restart functions on code changes.
    ``ready`` is set once the files as they are now have been seen: a change made after
    it is noticed."""
    yaml_last = await asyncio.to_thread(yaml_snapshot, folder)
    code_last: dict[tuple[str, str], Snapshot] = {}
    await _functions_changed(running, name, code_last)
    ready.set()
    while True:
        await asyncio.sleep(interval)
        yaml_now = await asyncio.to_thread(yaml_snapshot, folder)
        if yaml_now != yaml_last:
            yaml_last = yaml_now
            await redeploy(running, folder, name, environment)
        host = serving_host(running.platform, name)
        if host is None:  # not serving (a deploy failed): nothing to restart
            continue
        for function in await _functions_changed(running, name, code_last):
            path = host.app.functions[function].path
            await restart(host.supervisor, name, function, path, folder)


async def _functions_changed(
    running: Any, name: str, last: dict[tuple[str, str], Snapshot]
) -> list[str]:
    """The serving revision's functions whose files changed since ``last`` (updated)."""
    host = serving_host(running.platform, name)
    if host is None:
        return []
    changed = []
    for function, spec in host.app.functions.items():
        key = (host.revision, function)
        current = await asyncio.to_thread(snapshot, spec.path)
        previous, last[key] = last.get(key), current
        if previous is not None and previous != current:
            changed.append(function)
    return changed


def serving_host(platform: LocalPlatform, name: str) -> RevisionHost | None:
    return platform.hosts.serving_host(name)


async def redeploy(running: Any, folder: Path, name: str, environment: str | None) -> None:
    from flowapp.cli.running import load_in_environment
    from flowapp.dsl.problems import DefinitionError
    from flowapp.server.platform import PlatformError

    try:
        app = await asyncio.to_thread(load_in_environment, folder, environment)
    except DefinitionError as error:
        say(f"{name}: the project has problems; the running version stays:")
        for problem in error.problems:
            say(f"  {_relative(problem, folder)}")
        return
    if app.name != name:
        say(f"{name}: metadata.name is now {app.name}: restart `flowapp dev` to serve it")
        return
    say(f"{name}: the project changed: deploying it")
    try:
        view = await running.platform.deploy_in_place(folder)
    except PlatformError as error:
        failed = failed_functions(error.detail, list(app.functions))
        if not failed:
            say(f"{name}: {error.detail}")
            return
        say(f"{name}: the new revision did not start; the previous one keeps serving:")
        for function, lines in failed.items():
            found = user_error(lines, app.functions[function].path)
            if found is None:
                say(f"  {function}: {lines[0] if lines else 'failed'}")
                continue
            say(f"  {function}: {found.describe(folder)}")
            for line in found.excerpt:
                say(f"    {line}")
        return
    say(f"{name}: {view.message}")


def failed_functions(detail: str, names: list[str]) -> dict[str, list[str]]:
    """The output of each function in a revision's failure (``RevisionFailed``: "functions
    failed to start: NAME: instance … ; NAME: instance …"), by function."""
    starts = sorted(
        (detail.find(f"{name}: instance "), name)
        for name in names
        if f"{name}: instance " in detail
    )
    failed = {}
    for number, (start, name) in enumerate(starts):
        end = starts[number + 1][0] if number + 1 < len(starts) else len(detail)
        failed[name] = detail[start + len(name) + 2 : end].splitlines()
    return failed


async def restart(supervisor: Any, app: str, function: str, code: Path, project: Path) -> None:
    say(f"{function}: its files changed: restarting it")
    await supervisor.reload(function)
    status = supervisor.status()[function]
    if status.ready:
        say(f"{function}: restarted")
        return
    if status.last_error is None:
        return  # scaled to zero: it starts, on the new code, at its next call
    for line in failure_report(app, function, status.last_error, supervisor, code, project):
        say(line)


def failure_report(
    app: str, function: str, last_error: str, supervisor: Any, code: Path, project: Path
) -> list[str]:
    """The author's error first (from the failed instance's whole output), then how to
    see the rest."""
    instance = FAILED_INSTANCE.search(last_error)
    head, *rest = last_error.splitlines() or [""]
    if instance is None and rest:
        # A build failed (javac, go build, pip): the tool's own messages, first ones first,
        # not what the instance that ran before printed.
        report = [f"{function} failed to restart: {head}"]
        report += [f"  {line}" for line in rest[:SHOWN_LINES]]
        report.append(f"  (save a fix and it restarts; `flowapp logs {app} {function}` has it all)")
        return report
    lines = [
        line.text
        for line in supervisor.logs(function, limit=1000)
        if instance is None or line.instance == instance.group(1)
    ] or last_error.splitlines()
    found = user_error(lines, code)
    if found is None:
        report = [f"{function} failed to restart: {last_error.splitlines()[0]}"]
        report += [f"  {line}" for line in lines[-SHOWN_LINES:]]
    else:
        report = [f"{function} failed to restart: {found.describe(project)}"]
        report += [f"  {line}" for line in found.excerpt]
    report.append(f"  (save a fix and it restarts; `flowapp logs {app} {function}` has it all)")
    return report


def _relative(problem: Any, folder: Path) -> str:
    """A problem with its file named from the project folder (``workflow.yaml:10:5``)."""
    from dataclasses import replace

    try:
        return str(replace(problem, file=str(Path(problem.file).relative_to(folder))))
    except ValueError:
        return str(problem)

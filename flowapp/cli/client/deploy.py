"""``flowapp deploy [DIR]``: upload a project folder and watch it deploy.

    DIR --pack_folder (tar.gz of what git would commit: .gitignore honoured; never
        .flowapp, .venv, node_modules, __pycache__, .git ...)
        --PUT /api/v1/apps/{name}/source?stream=true--> server
        <-- NDJSON: {"progress": ...}* then {"deploy": ...} or {"error": problem}

The app's name is ``metadata.name`` in ``DIR/flowapp.yaml`` unless ``--app`` says
otherwise. Progress lines are shown on stderr as they arrive, with a spinner; the result
goes to stdout. A failed deploy exits 1 with the problem's detail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from flowapp.cli.client.config import LocalProblem
from flowapp.cli.failures import ApiError
from flowapp.cli.options import JsonOption, TokenOption, UrlOption

DEPLOY_TIMEOUT_SECONDS = 900.0  # a build may be quiet for a while


def deploy(
    folder: Annotated[Path, typer.Argument(help="The project folder.")] = Path("."),
    app_name: Annotated[
        str | None, typer.Option("--app", help="The app (default: metadata.name).")
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upload a project folder to the server and deploy it."""
    import httpx
    from rich.markup import escape

    from flowapp.apps.sources import pack_folder
    from flowapp.cli.client.api import connect
    from flowapp.cli.output import print_json, stdout

    name = app_name or project_name(folder)
    archive = pack_folder(folder)
    timeout = httpx.Timeout(30.0, read=DEPLOY_TIMEOUT_SECONDS)
    with connect(url, token, timeout=timeout) as api:
        result = upload(api, name, archive)
    if as_json:
        print_json(result)
    else:
        revision, status = result["revision"], result["status"]
        stdout().print(f"Deployed {escape(name)}: revision {escape(revision)} ({status})")


def project_name(folder: Path) -> str:
    from flowapp.dsl.problems import DefinitionError
    from flowapp.dsl.source import read_source

    manifest = folder / "flowapp.yaml"
    if not folder.is_dir():
        raise LocalProblem(f"{folder} is not a folder")
    if not manifest.is_file():
        raise LocalProblem(f"no flowapp.yaml in {folder} (or pass --app NAME)")
    try:
        data = read_source(manifest).data
    except DefinitionError as error:
        raise LocalProblem(str(error)) from None
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name:
        raise LocalProblem(f"{manifest} has no metadata.name (or pass --app NAME)")
    return name


def upload(api: Any, name: str, archive: bytes) -> dict[str, Any]:
    """Send the archive and follow the stream; the deploy, or ``ApiError``."""
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from flowapp.cli.output import stderr

    path = f"/api/v1/apps/{name}/source"
    headers = {"Content-Type": "application/gzip"}
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with (
        api.stream("PUT", path, params={"stream": "true"}, content=archive, headers=headers) as r,
        Progress(*columns, console=stderr(), transient=True) as progress,
    ):
        task = progress.add_task(f"deploying {escape(name)}", total=None)
        for line in r.iter_lines():
            if not line.strip():
                continue
            message = json.loads(line)
            if "progress" in message:
                text = escape(str(message["progress"]))
                progress.console.print(f"  {text}")
                progress.update(task, description=text)
            elif "error" in message:
                raise ApiError(message["error"])
            elif "deploy" in message:
                return dict(message["deploy"])
    raise ApiError({"title": "Deploy Interrupted", "detail": "the server ended the stream early"})

"""A local store's executions, shown as the API shows a server's."""

from __future__ import annotations

from flowapp.cli.localdb.store import describe, local_store


def list_local(
    *, db: str | None, app_name: str | None, status: str | None, limit: int, as_json: bool
) -> None:
    from flowapp.cli.output import print_json
    from flowapp.cli.tables import print_executions
    from flowapp.server.views import execution_json
    from flowapp.store.port import ExecutionFilter

    with local_store(db) as store:
        page = store.list_executions(ExecutionFilter(app=app_name, status=status), limit=limit)
    items = [execution_json(record) for record in page.items]
    if as_json:
        print_json(items)
    else:
        print_executions(items, source=describe(db))


def show_local(execution_id: str, *, db: str | None, as_json: bool) -> None:
    from flowapp.cli.output import print_json, stdout
    from flowapp.cli.shortids import resolve_local
    from flowapp.cli.tables import task_runs_table
    from flowapp.server.views import execution_json

    with local_store(db) as store:
        found = resolve_local(store, execution_id)
        record = store.get_execution(found)
        runs = store.task_runs(found)
    shown = execution_json(record, runs)
    if as_json:
        print_json(shown)
    else:
        stdout().print(task_runs_table(shown))


def purge_local(
    older_than: str, *, db: str | None, app_name: str | None, dry_run: bool, as_json: bool
) -> None:
    import time

    import typer

    from flowapp.cli.failures import InvalidInput
    from flowapp.cli.output import print_json
    from flowapp.store.port import PurgeFilter
    from flowapp.store.retention import parse_retention, purge

    try:
        age = parse_retention(older_than)
    except ValueError as exc:
        raise InvalidInput(f"--older-than: {exc}") from None
    where = PurgeFilter(ended_before=time.time() - age, app=app_name)
    with local_store(db) as store:
        done = store.count_purgeable(where) if dry_run else purge(store, where)
    if as_json:
        print_json({"dry_run": dry_run, "executions": done.executions, "task_runs": done.task_runs})
        return
    verb = "would delete" if dry_run else "deleted"
    whose = f" of {app_name}" if app_name else ""
    typer.echo(
        f"{verb} {done.executions} finished executions{whose} that ended over {older_than} ago, "
        f"with {done.task_runs} task runs ({describe(db)})"
    )

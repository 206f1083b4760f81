"""``flowapp executions purge``: what it would delete, what it deletes, bad durations."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import run_flowapp
from tests.postgres import new_database

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "examples" / "hello" / "workflow.yaml"


def flowapp(*args: str) -> subprocess.CompletedProcess[str]:
    return run_flowapp(*args)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with new_database(request.param, tmp_path, "flowapp_purge_cli") as url:
        yield url


def listed(db: str) -> list[dict[str, object]]:
    done = flowapp("executions", "--db", db, "--json")
    assert done.returncode == 0, done.stderr
    items: list[dict[str, object]] = json.loads(done.stdout)
    return items


def purge(db: str, *args: str) -> dict[str, object]:
    done = flowapp("executions", "purge", "--db", db, "--json", *args)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_dry_run_deletes_nothing_then_purge_deletes_what_it_said(db: str) -> None:
    for name in ("Ada", "Bo"):
        ran = flowapp("run", str(HELLO), "--input", json.dumps({"name": name}), "--db", db)
        assert ran.returncode == 0, ran.stderr
    one = listed(db)[0]["id"]
    task_runs = len(
        json.loads(flowapp("execution", str(one), "--db", db, "--json").stdout)["tasks"]
    )

    assert purge(db, "--older-than", "1d") == {"dry_run": False, "executions": 0, "task_runs": 0}
    would = purge(db, "--older-than", "0s", "--dry-run")
    assert would == {"dry_run": True, "executions": 2, "task_runs": 2 * task_runs}
    assert len(listed(db)) == 2
    assert purge(db, "--older-than", "0s", "--app", "someone-else")["executions"] == 0

    text = flowapp("executions", "purge", "--db", db, "--older-than", "PT0S")
    assert text.returncode == 0, text.stderr
    assert f"deleted 2 finished executions that ended over PT0S ago, with {2 * task_runs}" in (
        text.stdout
    )
    assert listed(db) == []


def test_a_bad_duration_is_refused_with_the_option_named(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'flowapp.db'}"
    done = flowapp("executions", "purge", "--db", db, "--older-than", "thirty days")
    assert done.returncode == 2
    assert "--older-than: `thirty days` is not a duration such as 30d" in done.stderr
    missing = flowapp("executions", "purge", "--db", db)
    assert missing.returncode == 2 and "--older-than" in missing.stderr

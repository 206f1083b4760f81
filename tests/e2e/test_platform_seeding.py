"""``flowapp up --app DIR`` (what ``make demo`` runs) started again does not overwrite what
was pushed to the app's repository since; a change to the folder itself does reach the
app, and the output says which happened."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.platform_process import flowapp_up
from tests.e2e.test_pushes_and_deploys import clone, git
from tests.integration.local.lifecycle_apps import CHARGE_FIXED, orders_project

SHOUTING = CHARGE_FIXED.replace('data["amount"]', 'data["amount"] * 10')


def charged(api: httpx.Client, amount: int) -> int:
    done = api.post("/api/v1/apps/orders/executions?wait=30", json={"order": "s", "amount": amount})
    assert done.status_code == 200, done.text
    return int(done.json()["output"]["charged"])


def wait_for_revision(api: httpx.Client, revision: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while api.get("/api/v1/apps/orders").json()["deployed_revision"] != revision:
        assert time.monotonic() < deadline, f"{revision} was not deployed"
        time.sleep(0.2)


def test_flowapp_up_again_keeps_pushes_and_takes_folder_changes(tmp_path: Path) -> None:
    folder = orders_project(tmp_path / "orders", charge=CHARGE_FIXED)
    data = tmp_path / "data"
    with flowapp_up(data, "--app", str(folder)) as platform, platform.client() as api:
        work = clone(platform, "orders", tmp_path / "work")
        (work / "functions" / "charge" / "main.py").write_text(SHOUTING)
        git("commit", "-qam", "Charge ten times", cwd=work)
        git("push", "origin", "main", cwd=work)
        wait_for_revision(api, "orders-00002")
    first_log = (tmp_path / "data-up.log").read_text()
    assert "orders: created from the folder" in first_log

    with flowapp_up(data, "--app", str(folder)) as platform, platform.client() as api:
        assert charged(api, 2) == 20  # the push is what serves, not the folder
        assert api.get("/api/v1/apps/orders").json()["deployed_revision"] == "orders-00002"
    assert "orders: kept as its repository has it" in (tmp_path / "data-up.log").read_text()

    (folder / "functions" / "charge" / "main.py").write_text(CHARGE_FIXED + "# edited\n")
    with flowapp_up(data, "--app", str(folder)) as platform, platform.client() as api:
        assert api.get("/api/v1/apps/orders").json()["deployed_revision"] == "orders-00003"
        assert charged(api, 2) == 2
    assert (
        "the folder changed since it last reached the app" in (tmp_path / "data-up.log").read_text()
    )

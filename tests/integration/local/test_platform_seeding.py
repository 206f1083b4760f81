"""``flowapp up --app DIR`` run again: the folder seeds the app when there is none, and
updates it only when the folder itself changed, so what reached the app's repository
otherwise (a push) is kept."""

from __future__ import annotations

from pathlib import Path

from flowapp.local.seeding import seed_from_folder

from .lifecycle_apps import CHARGE_BROKEN, CHARGE_FIXED, deploy, orders_project, running


async def test_the_folder_seeds_once_and_then_only_its_own_changes_reach_the_app(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    folder = orders_project(tmp_path / "orders", charge=CHARGE_FIXED)
    async with running(data) as up:
        seeded = await seed_from_folder(up.platform, "orders", folder)
        assert seeded.action == "seeded" and "orders-00001" in seeded.message
        # What a push does: another source on main, deployed.
        pushed = await deploy(
            up, "orders", orders_project(tmp_path / "pushed", charge=CHARGE_BROKEN)
        )
        assert pushed.revision_id == "orders-00002"

    async with running(data) as up:
        kept = await seed_from_folder(up.platform, "orders", folder)
        assert kept.action == "kept" and "has not changed" in kept.message
        assert (await up.platform.get_app("orders")).deployed_revision == "orders-00002"
        revisions = await up.platform.list_revisions("orders")
        assert [r.number for r in revisions] == [2, 1]

        (folder / "functions" / "charge" / "main.py").write_text(CHARGE_FIXED + "# v3\n")
        updated = await seed_from_folder(up.platform, "orders", folder)
        assert updated.action == "updated" and "the folder changed" in updated.message
        assert (await up.platform.get_app("orders")).deployed_revision == "orders-00003"


async def test_an_app_the_folder_never_reached_is_kept_and_the_folder_recorded(
    tmp_path: Path,
) -> None:
    """A data directory from before seeds were recorded: the app is kept as it is."""
    data = tmp_path / "data"
    folder = orders_project(tmp_path / "orders", charge=CHARGE_FIXED)
    async with running(data) as up:
        await deploy(up, "orders", orders_project(tmp_path / "other", charge=CHARGE_BROKEN))
        kept = await seed_from_folder(up.platform, "orders", folder)
        assert kept.action == "kept" and "once the folder changes" in kept.message
        again = await seed_from_folder(up.platform, "orders", folder)
        assert again.action == "kept"
        assert [r.number for r in await up.platform.list_revisions("orders")] == [1]

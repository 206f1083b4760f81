"""The dashboard in a real browser (Debian's chromium, driven by Playwright) against a
real ``flowapp up`` on a free port with a fresh data directory.

Playwright's own browser download is not used: ``CHROMIUM`` is the system's chromium,
started headless. The dashboard must be built (``make install``). Without chromium or a
build the tests are skipped, except under CI (``CI`` set), where they fail.

Each test gets a fresh browser context (empty sessionStorage and localStorage), logged
in with the platform's admin token; when it ends, a screenshot of the page is kept in
``dashboard/test-results/<test>.png`` (git-ignored) and its path printed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowapp.server.dashboard import Dashboard
from tests.e2e.platform_process import ROOT, RunningPlatform, flowapp_up
from tests.servers import unavailable

CHROMIUM = os.environ.get("FLOWAPP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
RESULTS = ROOT / "dashboard" / "test-results"
AXE = ROOT / "dashboard" / "node_modules" / "axe-core" / "axe.min.js"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    if not Dashboard().built:
        return "the dashboard is not built (make install, with npm)"
    if not AXE.is_file():
        return "axe-core is not installed (make install runs npm ci)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make install)"
    return None


# Module scope, not session: while sync Playwright runs, its event loop counts as the
# thread's running loop, so every asyncio test that a worker ran after these would fail
# with "Cannot run the event loop while another loop is running".
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        unavailable(f"the dashboard's browser tests cannot run: {missing}")
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[RunningPlatform]:
    data = tmp_path_factory.mktemp("dashboard") / "data"
    with flowapp_up(data) as running:
        yield running


@pytest.fixture
def page(browser: Any, platform: RunningPlatform, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    context.set_default_timeout(20_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    try:
        log_in(opened, platform)
        yield opened
    finally:
        keep_screenshot(opened, request.node.name)
        context.close()
    assert errors == [], f"errors in the page: {errors}"


def keep_screenshot(page: Any, name: str) -> Path:
    """A screenshot of the page as it is now, kept as a test artifact."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    shot = RESULTS / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")
    return shot


def log_in(page: Any, platform: RunningPlatform) -> None:
    page.goto(platform.url + "/")
    page.fill('input[name="token"]', platform.token)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Apps").wait_for()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A violations of the page as it is (labels, names, roles,
    keyboard reachability); colour contrast is not judged here."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag21a']}})"
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]

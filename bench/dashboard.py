"""``python -m bench dashboard``: how fast the dashboard opens and lays out, in headless
chromium (Debian's, as the browser tests use it) against a real ``flowapp up``.

- load: the demo app's editor (``/apps/append-display``, as ``make demo`` deploys it),
  each time in a fresh browser context (nothing cached): first contentful paint,
  DOM interactive, and "graph drawn" (the first task node on the canvas), in ms from
  navigation start, from the browser's Performance API;
- layout: a 500-task workflow (50 `for` containers of 8 tasks, and 50 tasks between them)
  opened in the editor: ELK's time in the Web Worker, and the longest gap between two
  animation frames while the canvas is panned 60 times (a freeze would show there);
- run view: an execution of 9,999 task runs (a `for` over 4,999 items, two tasks each)
  opened at ``/executions/{id}``: from navigation start until every run is on the
  timeline and the graph is coloured, in a fresh browser context.

Needs the dashboard built (make install) and chromium; prints why not otherwise.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.processes import _stop, _wait_healthy, free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOADS = 5


@contextlib.contextmanager
def platform(data: Path) -> Iterator[tuple[str, str]]:
    port = free_port()
    command = [sys.executable, "-m", "flowapp.cli.main", "up", "--data-dir", str(data)]
    command += ["--port", str(port), "--app", str(ROOT / "examples" / "append-display")]
    log = data.parent / "up.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, timeout=120)
        token = (data / "admin-token").read_text().strip()
        _wait_deployed(url, token)
        yield url, token
    finally:
        _stop(process)


def _wait_deployed(url: str, token: str) -> None:
    deadline = time.monotonic() + 120
    request = urllib.request.Request(
        f"{url}/api/v1/apps/append-display", headers={"Authorization": f"Bearer {token}"}
    )
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(request) as answer:
            if json.load(answer).get("deployed_revision"):
                return
        time.sleep(0.2)


def big_workflow(loops: int = 50, inner: int = 8) -> str:
    lines = ["document: {dsl: '1.0.3', namespace: bench, name: big, version: '1.0.0'}", "do:"]
    for i in range(loops):
        lines += [f"  - step{i}:", "      set: {n: " + str(i) + "}"]
        lines += [f"  - loop{i}:", "      for: {each: item, in: '${ [1, 2] }'}", "      do:"]
        for j in range(inner):
            lines += [f"        - task{i}x{j}:", f"            set: {{j: {j}}}"]
    return "\n".join(lines) + "\n"


LOAD_TIMES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  return {fcp: paint ? paint.startTime : null, interactive: nav.domInteractive};
}"""
FRAME_GAPS = """async () => {
  const pane = document.querySelector('.react-flow__pane');
  const box = pane.getBoundingClientRect();
  let last = performance.now(), worst = 0, frames = 0, running = true;
  const tick = (now) => { worst = Math.max(worst, now - last); last = now; frames++;
                          if (running) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  return {box: {x: box.x, y: box.y, w: box.width, h: box.height},
          stop: () => { running = false; return {worst, frames}; }};
}"""


def main() -> Iterator[str]:
    if not Path(CHROMIUM).exists() or not (ROOT / "flowapp/server/dashboard_assets").is_dir():
        yield "skipped: needs /usr/bin/chromium and the built dashboard (make install)"
        return
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as scratch,
        platform(Path(scratch) / "data") as (url, token),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield from _load(browser, url, token)
            yield from _layout(browser, url, token)
            yield from _run_view(browser, url, token)
        finally:
            browser.close()


def _context(browser, url: str, token: str, draft: str | None = None):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    script = f"sessionStorage.setItem('flowapp.token', {json.dumps(token)});"
    if draft is not None:
        value = json.dumps({"text": draft, "base": None, "savedAt": 0})
        script += f"localStorage.setItem('flowapp.draft.new', {json.dumps(value)});"
    context.add_init_script(script)
    return context


def _load(browser, url: str, token: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    fcp, interactive, drawn = [], [], []
    for _ in range(LOADS):
        context = _context(browser, url, token)
        page = context.new_page()
        page.goto(f"{url}/apps/append-display")
        page.locator('[data-task="/do/1/display"]').wait_for(timeout=30_000)
        drawn.append(page.evaluate("() => performance.now()"))
        times = page.evaluate(LOAD_TIMES)
        fcp.append(times["fcp"])
        interactive.append(times["interactive"])
        context.close()
    yield (
        f"demo app editor load (median of {LOADS}, fresh context): first contentful paint "
        f"{statistics.median(fcp):.0f} ms, DOM interactive "
        f"{statistics.median(interactive):.0f} ms, graph drawn {statistics.median(drawn):.0f} ms"
    )


def _layout(browser, url: str, token: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    text = big_workflow()
    context = _context(browser, url, token, draft=text)
    page = context.new_page()
    started = time.perf_counter()
    page.goto(f"{url}/new")
    page.wait_for_function(
        "() => document.querySelector('[data-layout-ms]')?.dataset.layoutMs", timeout=120_000
    )
    shown = (time.perf_counter() - started) * 1000
    tasks, layout_ms = page.evaluate(
        "() => { const e = document.querySelector('[data-layout-ms]');"
        " return [parseInt(e.textContent), parseFloat(e.dataset.layoutMs)]; }"
    )
    page.evaluate("() => { window.__gaps = null; }")
    handle = page.evaluate_handle(FRAME_GAPS)
    box = handle.evaluate("h => h.box")
    x, y = box["x"] + box["w"] / 2, box["y"] + box["h"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(60):
        page.mouse.move(x + (step % 20) * 10, y + step * 4)
    page.mouse.up()
    gaps = handle.evaluate("h => h.stop()")
    context.close()
    yield (
        f"{tasks}-task workflow: ELK layout in the worker {layout_ms:.0f} ms; editor opened "
        f"and laid out in {shown:.0f} ms; panning: {gaps['frames']} frames, longest frame "
        f"gap {gaps['worst']:.0f} ms"
    )


MANY_RUNS = """\
document: {dsl: '1.0.3', namespace: bench, name: many, version: '1.0.0'}
do:
  - each:
      for: {each: item, in: '${ [range(0; 4999)] }'}
      do:
        - first:
            set: {n: '${ $item }'}
        - second:
            set: {m: '${ .n + 1 }'}
"""


def _api(
    url: str,
    token: str,
    method: str,
    path: str,
    body: bytes | None = None,
    kind: str = "application/json",
) -> dict:
    request = urllib.request.Request(
        url + path,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {token}", "content-type": kind},
    )
    with urllib.request.urlopen(request, timeout=300) as answer:
        return json.load(answer)


def _run_view(browser, url: str, token: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    _api(url, token, "POST", "/api/v1/apps", MANY_RUNS.encode(), "application/yaml")
    _api(url, token, "POST", "/api/v1/apps/many/deploys")
    started = time.perf_counter()
    execution = _api(url, token, "POST", "/api/v1/apps/many/executions?wait=300", b"null")
    ran = time.perf_counter() - started
    shown = _api(url, token, "GET", f"/api/v1/executions/{execution['id']}?tasks_limit=1")
    runs = shown["task_count"]
    opened = []
    for _ in range(3):
        context = _context(browser, url, token)
        page = context.new_page()
        page.goto(f"{url}/executions/{execution['id']}")
        page.wait_for_function(
            "(n) => [...document.querySelectorAll('.segment')]"
            ".reduce((sum, s) => sum + Number(s.dataset.runs), 0) === n"
            " && document.querySelector('.run-node[data-task=\"/do/0/each/do/0/first\"]')"
            "?.dataset.status === 'completed'",
            arg=runs,
            timeout=120_000,
        )
        opened.append(page.evaluate("() => performance.now()"))
        context.close()
    yield (
        f"run view of an execution of {runs} task runs ({execution['status']} in {ran:.1f} s): "
        f"opened with every run on the timeline in {statistics.median(opened):.0f} ms "
        f"(median of 3, fresh context)"
    )


if __name__ == "__main__":
    from bench.machine import describe

    print(describe())
    for line in main():
        print(line)

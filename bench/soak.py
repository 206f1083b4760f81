"""A soak: 8 concurrent synchronous callers of ``examples/append-display`` through the API
of a real ``flowapp up`` for ``FLOWAPP_SOAK_SECONDS`` (default 600), as a steady load.

Prints the latency distribution (p50, p99, p99.9, max), how many calls took over 100 ms
and how many of those lie beyond the p99.9 allowance (0.1 % of the calls; the target is
none), how many calls got 202 (not finished within ``?wait=10``), how much the resident
memory of the server and of its function processes grew per 1,000 executions, and how
many bytes the database (``flowapp.db`` with its WAL) and the functions' log files grew
per execution. Memory and sizes are measured after a warm-up and at the end.

    FLOWAPP_SOAK_SECONDS=60 python -m bench soak
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bench.stats import percentile
from tests.e2e.platform_process import ROOT, RunningPlatform, flowapp_up

CALLERS = 8
SLOW = 0.1  # seconds: a call slower than this counts as a stall
WARM_UP = 20  # calls per caller before the measured window
URL = "/api/v1/apps/append-display/executions?wait=10"


def soak_seconds() -> float:
    raw = os.environ.get("FLOWAPP_SOAK_SECONDS", "600")
    try:
        seconds = float(raw)
    except ValueError:
        raise SystemExit(f"FLOWAPP_SOAK_SECONDS must be a number of seconds, got {raw!r}") from None
    if seconds <= 0:
        raise SystemExit(f"FLOWAPP_SOAK_SECONDS must be positive, got {raw!r}")
    return seconds


@dataclass
class Calls:
    seconds: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, status: int) -> None:
        with self.lock:
            self.seconds.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1


def _caller(platform: RunningPlatform, number: int, until: float, calls: Calls) -> None:
    with platform.client() as api:
        sent = 0
        while time.monotonic() < until:
            started = time.perf_counter()
            response = api.post(URL, json={"message": f"c{number}-{sent}"})
            calls.add(time.perf_counter() - started, response.status_code)
            sent += 1


def _load(platform: RunningPlatform, seconds: float) -> Calls:
    calls = Calls()
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_caller, args=(platform, n, until, calls)) for n in range(CALLERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return calls


def _warm_up(platform: RunningPlatform) -> None:
    with platform.client() as api:
        for n in range(WARM_UP * CALLERS):
            api.post(URL, json={"message": f"warm-{n}"}).raise_for_status()


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the function hosts run in sessions of their own)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def _rss_kib(pids: Iterable[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue  # it exited meanwhile
    return total


@dataclass(frozen=True)
class Footprint:
    server_kib: int  # flowapp up and its decider processes
    functions_kib: dict[str, int]  # by runtime: the function hosts
    database_bytes: int
    log_bytes: int


def _command(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _kind(pid: int) -> str:
    """``server`` for flowapp's own processes, else the function host's runtime."""
    command = " ".join(_command(pid))
    if "flowapp.cli.main" in command or "flowapp.runtime.deciders" in command:
        return "server"
    if "flowapp.functions.host" in command:
        return "python"
    return Path(_command(pid)[0]).name if _command(pid) else "gone"


def _footprint(platform: RunningPlatform) -> Footprint:
    by_kind: dict[str, list[int]] = {}
    for pid in _tree(platform.process.pid):
        by_kind.setdefault(_kind(pid), []).append(pid)
    server = by_kind.pop("server", [])
    data = platform.data_dir
    database = sum(f.stat().st_size for f in data.glob("flowapp.db*") if f.is_file())
    logs = sum(f.stat().st_size for f in (data / "logs").rglob("*.log") if f.is_file())
    functions = {kind: _rss_kib(pids) for kind, pids in sorted(by_kind.items())}
    return Footprint(_rss_kib(server), functions, database, logs)


def _growth(before: int, after: int, per_thousand: float) -> str:
    return f"{(after - before) * per_thousand:+.0f} KiB ({before // 1024} -> {after // 1024} MiB)"


def report(calls: Calls, seconds: float, before: Footprint, after: Footprint) -> list[str]:
    ms = sorted(s * 1000 for s in calls.seconds)
    n = len(ms)
    slow = sum(1 for m in ms if m > SLOW * 1000)
    allowance = n // 1000  # p99.9: one call in a thousand may be as slow as it likes
    per_thousand = 1000 / max(n, 1)
    accepted = calls.statuses.get(202, 0)
    failed = n - calls.statuses.get(200, 0) - accepted
    return [
        f"soak of append-display, {CALLERS} concurrent synchronous callers, {seconds:g} s: "
        f"{n} calls, {n / seconds:.0f} executions/s",
        f"latency: p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, "
        f"p99.9 {percentile(ms, 0.999):.1f} ms, max {ms[-1] if ms else float('nan'):.1f} ms",
        f"calls over {SLOW * 1000:.0f} ms: {slow} ({100 * slow / max(n, 1):.3f} %); beyond the "
        f"p99.9 allowance of {allowance}: {max(0, slow - allowance)} (target 0)",
        f"calls answered 202 (not done within ?wait=10): {accepted}; other statuses: {failed}",
        "RSS growth per 1,000 executions: server (with its deciders) "
        + _growth(before.server_kib, after.server_kib, per_thousand)
        + "".join(
            f", {kind} function host "
            + _growth(before.functions_kib.get(kind, 0), kib, per_thousand)
            for kind, kib in after.functions_kib.items()
        ),
        f"database growth: {(after.database_bytes - before.database_bytes) / max(n, 1):.0f} "
        f"bytes per execution (flowapp.db and WAL, {after.database_bytes / 2**20:.1f} MiB); "
        f"function logs {(after.log_bytes - before.log_bytes) / max(n, 1):.0f} bytes per execution",
    ]


def main() -> list[str]:
    seconds = soak_seconds()
    with tempfile.TemporaryDirectory() as directory:
        example = str(ROOT / "examples" / "append-display")
        data = Path(directory) / "data"
        # --sandbox off: this measures the call path; bench/sandbox_overhead.py the sandbox.
        with flowapp_up(data, "--app", example, "--sandbox", "off") as platform:
            _warm_up(platform)
            before = _footprint(platform)
            calls = _load(platform, seconds)
            after = _footprint(platform)
    return report(calls, seconds, before, after)


if __name__ == "__main__":
    print("\n".join(main()))

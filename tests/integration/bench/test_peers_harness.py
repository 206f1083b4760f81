"""The harness of ``python -m bench peers``, without installing any peer: the table and
the configuration it prints, a driver that fails or hangs (reported, its processes
ended), and the step every peer runs (one HTTP call to the bench's echo function)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import textwrap
import time
from pathlib import Path
from types import ModuleType

import pytest

from bench.peers import DRIVERS, Column, Figures, config_lines, run_bounded, run_driver, table
from bench.processes import function_host


def test_the_table_gives_flowapps_ratio_to_each_peer_and_to_the_floor() -> None:
    floor = Figures(chain=[0.002] * 10, rate=1000.0)
    flowapp = Figures(chain=[0.004] * 10, rate=800.0, fan_out=[0.010] * 10)
    peer = Figures(chain=[0.016] * 10, rate=200.0, fan_out=[0.020] * 10)
    lines = table(
        [
            Column("floor", floor),
            Column("flowapp SQLite", flowapp, "floor", flowapp=True),
            Column("Peer", peer, "flowapp SQLite"),
        ]
    )
    assert lines[0] == "| workload | floor | flowapp SQLite | Peer |"
    chain_p50, _, in_flight, fan_out = lines[2:6]
    assert chain_p50.endswith("| 2.00 ms | 4.00 ms (2.00x) | 16.00 ms (0.25x) |")
    assert in_flight.endswith("| 1,000/s | 800/s (0.80x) | 200/s (4.00x) |")
    assert fan_out.endswith("| — | 10.00 ms | 20.00 ms (0.50x) |")


def test_a_peer_without_figures_shows_dashes_and_why() -> None:
    flowapp = Figures(chain=[0.004], rate=800.0, fan_out=[0.010])
    broken = Figures(chain=[0.010], problem="hung: no end within 300 s")
    lines = table([Column("flowapp", flowapp), Column("Broken", broken, "flowapp")])
    assert lines[2].endswith("| 4.00 ms | 10.00 ms (0.40x) |")
    assert lines[4].endswith("| 800/s | — |")
    assert lines[-1] == "- Broken: hung: no end within 300 s"


def test_the_configuration_is_printed_as_the_peer_reported_it() -> None:
    reported = Figures(config={"versions": {"dramatiq": "2.2.1", "redis": "8.1.0"}, "workers": "2"})
    assert config_lines("Dramatiq", reported) == [
        "Dramatiq:",
        "  versions: dramatiq 2.2.1, redis 8.1.0",
        "  workers: 2",
    ]
    silent = config_lines("Celery", Figures(problem="x"), ("celery[redis]==5.7.0",))
    assert silent == ["Celery: no configuration reported (requirements celery[redis]==5.7.0)"]


def test_a_failed_install_step_names_the_command_and_its_error() -> None:
    command = [
        sys.executable,
        "-c",
        "import sys; print('no such package', file=sys.stderr); exit(3)",
    ]
    with pytest.raises(RuntimeError, match=r"^pip install nothing: exit 3: no such package$"):
        run_bounded(command, 30, "pip install nothing")


def _driver(folder: Path, body: str) -> Path:
    script = folder / "driver.py"
    script.write_text(textwrap.dedent(body))
    return script


def test_a_driver_that_hangs_is_ended_with_its_workers_and_its_figures_kept(
    tmp_path: Path,
) -> None:
    script = _driver(
        tmp_path,
        """
        import json, subprocess, sys, time
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open("worker.pid", "w").write(str(worker.pid))
        print(json.dumps({"config": {"workers": "1"}}), flush=True)
        print(json.dumps({"workload": "chain", "samples": [0.01, 0.02]}), flush=True)
        time.sleep(600)
        """,
    )
    figures = run_driver(Path(sys.executable), script, {}, 3.0, tmp_path / "driver.log")
    assert figures.problem == "hung: no end within 3 s"
    assert figures.config == {"workers": "1"}
    assert figures.chain == [0.01, 0.02] and figures.rate is None
    worker = int((tmp_path / "worker.pid").read_text())
    deadline = time.monotonic() + 10  # a signal is delivered, not waited for
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not: it was killed, its parent died first)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_driver_that_fails_is_reported_with_its_last_error_line(tmp_path: Path) -> None:
    script = _driver(tmp_path, "raise SystemExit('redis refused the connection')\n")
    figures = run_driver(Path(sys.executable), script, {}, 60.0, tmp_path / "driver.log")
    assert figures.problem == "failed (exit 1): redis refused the connection"


def _peer_common(settings: dict[str, object]) -> ModuleType:
    os.environ["BENCH_PEER"] = json.dumps(settings)
    try:
        spec = importlib.util.spec_from_file_location("peer_common", DRIVERS / "peer_common.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        del os.environ["BENCH_PEER"]


def test_a_peers_step_calls_the_echo_function_as_flowapp_does() -> None:
    from bench.peers import echo_headers

    with function_host() as (url, _):
        common = _peer_common({"function_url": url, "headers": echo_headers()})
        try:
            assert common.FUNCTION.call({"steps": 0}) == {"steps": 1}
            assert common.FUNCTION.call({"steps": 1}) == {"steps": 2}  # the kept connection
        finally:
            common.FUNCTION.close()
        bare = common.Function(url, {})
        try:
            with pytest.raises(RuntimeError, match="answered 400"):  # a CloudEvent is required
                bare.call({"steps": 0})
        finally:
            bare.close()

"""Fixtures for the sandbox's tests: real bubblewrap, real processes, as root.

- ``data_dir``: a private data directory (0700) the sandbox hides;
- ``open_confined(**limits)``: the sandbox ``flowapp up`` would open, with these limits;
- ``make_supervisor(*specs, sandbox=..., app=...)``: a supervisor stopped after the test;
- ``deployed(fixture, name)``: a copy of a fixture function in a revision folder.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from flowapp.functions.scaling import Backoff
from flowapp.functions.spec import FunctionSpec
from flowapp.functions.supervisor import Supervisor
from flowapp.sandbox import Limits, Sandbox, SandboxSettings, open_sandbox
from tests.sandboxing import require_root_and_bwrap

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "functions"


@pytest.fixture(autouse=True)
def _needs_the_sandbox() -> None:
    require_root_and_bwrap()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    (folder / "admin-token").write_text("fa_secret\n")
    (folder / "admin-token").chmod(0o600)
    return folder


@pytest.fixture
def open_confined(data_dir: Path) -> Callable[..., Sandbox]:
    def make(**limits: Any) -> Sandbox:
        settings = SandboxSettings(mode="bwrap", limits=Limits(**limits), hidden=(data_dir,))
        sandbox, warnings = open_sandbox(settings)
        assert warnings == [] and sandbox.mode == "bwrap"
        return sandbox

    return make


@pytest.fixture
def deployed(data_dir: Path) -> Callable[[str, str], Path]:
    def copy(fixture: str, name: str) -> Path:
        folder = data_dir / "revisions" / "shop-00001" / "functions" / name
        shutil.copytree(FIXTURES / fixture, folder)
        return folder

    return copy


@pytest.fixture
async def make_supervisor() -> AsyncIterator[Callable[..., Awaitable[Supervisor]]]:
    started: list[Supervisor] = []

    async def make(*specs: FunctionSpec, **options: Any) -> Supervisor:
        options.setdefault("registry", CollectorRegistry())
        options.setdefault("grace_period", 5.0)
        options.setdefault("backoff", Backoff(initial=0.05, maximum=0.2))
        options.setdefault("app", "shop")
        supervisor = Supervisor(specs, **options)
        started.append(supervisor)
        await supervisor.start()
        return supervisor

    yield make
    for supervisor in started:
        await supervisor.stop()

"""Servers shared by several integration suites, started once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.triggers.servers import free_port, start_tansu, stop_process


@pytest.fixture(scope="session")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Kafka-compatible broker (Tansu) for this test session: ``host:port``."""
    port = free_port()
    process = start_tansu(port, tmp_path_factory.mktemp("tansu") / "tansu.log")
    yield f"127.0.0.1:{port}"
    stop_process(process)

"""A function instance learns where the engine exports spans, never its credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowapp.functions.launch import Launcher
from flowapp.functions.spec import FunctionSpec


class RecordingSandbox:
    """Keeps the environment the launcher asks for: what a confined instance gets."""

    def __init__(self) -> None:
        self.env: dict[str, str] = {}

    def spawn(self, argv: Any, *, app: str, env: dict[str, str], cwd: Path, readable: Any) -> Any:
        self.env = dict(env)
        return None


def test_an_instance_gets_the_collector_but_not_its_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "3")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer operator-token")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/etc/otel/key.pem")
    spec = FunctionSpec("greet", "python", tmp_path, env={"OTEL_EXPORTER_OTLP_TIMEOUT": "9"})
    sandbox = RecordingSandbox()
    Launcher(spec, ("python",), "shop", 5.0, sandbox=sandbox).launch(8080)  # type: ignore[arg-type]
    assert sandbox.env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert sandbox.env["OTEL_EXPORTER_OTLP_COMPRESSION"] == "gzip"
    assert sandbox.env["OTEL_EXPORTER_OTLP_TIMEOUT"] == "9"  # the function's own env wins
    assert "OTEL_EXPORTER_OTLP_HEADERS" not in sandbox.env
    assert "OTEL_EXPORTER_OTLP_CLIENT_KEY" not in sandbox.env

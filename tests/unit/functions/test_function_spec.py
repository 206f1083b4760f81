"""Function specs: defaults, validation, and the FlowApp resource form."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowapp.functions.spec import FunctionSpec, ScaleSpec


def test_defaults_are_knative_like() -> None:
    spec = FunctionSpec("append", "python", "functions/append")

    assert spec.scale == ScaleSpec(min=1, max=4, concurrency=8)
    assert (spec.timeout, spec.idle_period, spec.startup_timeout) == (30.0, 60.0, 30.0)
    assert spec.path == Path("functions/append")


@pytest.mark.parametrize(
    "scale", [{"min": -1}, {"max": 0}, {"min": 3, "max": 2}, {"concurrency": 0}]
)
def test_scale_is_validated(scale: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ScaleSpec(**scale)


def test_command_runtime_needs_a_command() -> None:
    with pytest.raises(ValueError, match="needs a `command`"):
        FunctionSpec("hello", "command", "functions/hello")


def test_unknown_runtime_is_refused() -> None:
    with pytest.raises(ValueError, match="runtime must be one of"):
        FunctionSpec("x", "ruby", "functions/x")  # type: ignore[arg-type]


def test_env_is_a_read_only_copy() -> None:
    env = {"A": "1"}
    spec = FunctionSpec("x", "python", "f", env=env)
    env["A"] = "2"

    assert spec.env["A"] == "1"
    with pytest.raises(TypeError):
        spec.env["A"] = "3"  # type: ignore[index]


def test_from_resource_reads_the_flowapp_entry() -> None:
    entry = {
        "runtime": "command",
        "command": "java Hello",
        "path": "functions/hello",
        "env": {"GREETING": "hi", "RETRIES": 3},
        "scale": {"min": 0, "max": 2, "concurrency": 1},
        "timeout": "PT5S",
        "idlePeriod": 10,
    }

    spec = FunctionSpec.from_resource("hello", entry, base_dir=Path("/project"))

    assert spec.path == Path("/project/functions/hello")
    assert spec.command == "java Hello"
    assert dict(spec.env) == {"GREETING": "hi", "RETRIES": "3"}
    assert spec.scale == ScaleSpec(min=0, max=2, concurrency=1)
    assert (spec.timeout, spec.idle_period) == (5.0, 10.0)


def test_from_resource_defaults_the_folder_to_the_name() -> None:
    spec = FunctionSpec.from_resource("append", {"runtime": "python"})

    assert spec.path == Path("functions/append")

"""The polyglot append-display example: it loads, and the hosts it carries are flowapp's
own (as `flowapp new function` writes them), so the example never runs a stale host."""

from __future__ import annotations

from pathlib import Path

from flowapp.apps import load_app
from flowapp.apps.scaffold import host_files

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "append-display-polyglot"


def test_the_example_loads_with_a_go_and_a_java_function() -> None:
    app = load_app(EXAMPLE)
    assert {name: spec.runtime for name, spec in app.functions.items()} == {
        "append": "go",
        "display": "java",
    }


def test_the_example_carries_the_current_hosts() -> None:
    for runtime, function in (("go", "append"), ("java", "display")):
        folder = EXAMPLE / "functions" / function
        for relative, text in host_files(runtime, function).items():
            assert (folder / relative).read_text() == text, f"{function}/{relative} is stale"

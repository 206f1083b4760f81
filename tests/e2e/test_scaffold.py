"""``flowapp init`` and ``flowapp new function`` through real CLI processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flowapp.apps import load_app

CLI = "flowapp.cli.main"


def flowapp(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", CLI, *args], capture_output=True, text=True, timeout=60, cwd=cwd
    )


def test_init_creates_a_project_named_after_its_folder(tmp_path: Path) -> None:
    result = flowapp("init", "shop", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Created the FlowApp `shop` in shop" in result.stdout
    app = load_app(tmp_path / "shop")
    assert (app.name, list(app.functions)) == ("shop", ["hello"])


def test_init_from_a_workflow_in_another_folder_with_node(tmp_path: Path) -> None:
    (tmp_path / "drawn.yaml").write_text(
        "document: {dsl: '1.0.3', namespace: media, name: thumbs, version: '1.0.0'}\n"
        "do:\n  - resize: {call: resize}\n  - notify: {call: notify}\n"
    )
    args = ["init", "media", "--from", "drawn.yaml", "--runtime", "node", "--dir", "out/media"]
    result = flowapp(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    app = load_app(tmp_path / "out" / "media")
    assert {name: spec.runtime for name, spec in app.functions.items()} == {
        "notify": "node",
        "resize": "node",
    }


def test_new_function_registers_it_in_flowapp_yaml(tmp_path: Path) -> None:
    assert flowapp("init", "shop", cwd=tmp_path).returncode == 0
    result = flowapp("new", "function", "resize", "--runtime", "node", cwd=tmp_path / "shop")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "shop" / "functions" / "resize" / "index.js").is_file()
    assert load_app(tmp_path / "shop").functions["resize"].runtime == "node"
    by_dir = flowapp("new", "function", "charge", "--dir", "shop", cwd=tmp_path)
    assert by_dir.returncode == 0, by_dir.stderr
    assert sorted(load_app(tmp_path / "shop").functions) == ["charge", "hello", "resize"]


def test_refusals_exit_2_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    assert flowapp("init", "shop", cwd=tmp_path).returncode == 0
    cases = [
        (("init", "shop"), "shop is not empty"),
        (("init", "Bad_Name"), "project name `Bad_Name` is not valid"),
        (("new", "function", "hello", "--dir", "shop"), "already declared"),
        (("new", "function", "x"), "has no flowapp.yaml"),
    ]
    for args, message in cases:
        result = flowapp(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "Bad_Name").exists()


def test_an_invalid_from_workflow_is_reported_with_its_location(tmp_path: Path) -> None:
    (tmp_path / "drawn.yaml").write_text(
        "document: {dsl: '1.0.3', namespace: a, name: b, version: '1.0.0'}\n"
        "do:\n  - bad: {call: resize, then: nowhere}\n"
    )
    result = flowapp("init", "media", "--from", "drawn.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("drawn.yaml:3:")
    assert "/do/0/bad/then" in result.stderr
    assert not (tmp_path / "media").exists()

"""The client CLI's local rules: where the login is kept (0600), which server and token a
command uses, how input and problems are read and shown."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from flowapp.cli.client.config import (
    LocalProblem,
    Login,
    config_path,
    normalize_url,
    remote_configured,
    resolve,
    save_login,
)
from flowapp.cli.client.invoke import read_input
from flowapp.cli.failures import EnvironmentProblem, explain_problem


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOWAPP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_the_login_is_saved_readable_by_its_owner_only(home: Path) -> None:
    path = save_login(Login("http://127.0.0.1:8080", "fa_secret"))
    assert path == home / "config.json" == config_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"url": "http://127.0.0.1:8080", "token": "fa_secret"}


def test_an_existing_config_file_is_made_private(home: Path) -> None:
    home.mkdir()
    (home / "config.json").write_text("{}")
    (home / "config.json").chmod(0o644)
    save_login(Login("http://h", "t"))
    assert stat.S_IMODE((home / "config.json").stat().st_mode) == 0o600


def test_resolve_prefers_options_and_never_leaks_the_token_elsewhere() -> None:
    assert resolve(None, None) is None and not remote_configured(None)
    save_login(Login("http://a:1", "fa_a"))
    assert remote_configured(None)
    assert resolve(None, None) == Login("http://a:1", "fa_a")
    assert resolve(None, "fa_b") == Login("http://a:1", "fa_b")
    assert resolve("http://a:1/", None) == Login("http://a:1", "fa_a")
    assert resolve("http://other:2", None) == Login("http://other:2", None)


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "ftp://x", "http://"])
def test_a_url_must_be_http(url: str) -> None:
    with pytest.raises(LocalProblem):
        normalize_url(url)


def test_a_broken_config_file_is_an_environment_problem(home: Path) -> None:
    home.mkdir()
    (home / "config.json").write_text("{oops")
    with pytest.raises(EnvironmentProblem, match=r"config\.json"):
        resolve(None, None)


def test_read_input_from_text_or_file(tmp_path: Path) -> None:
    assert read_input('{"a": 1}') == {"a": 1}
    (tmp_path / "in.json").write_text("[1, 2]")
    assert read_input(f"@{tmp_path / 'in.json'}") == [1, 2]
    with pytest.raises(LocalProblem, match=r"--input:1:2: the input is not JSON"):
        read_input("{oops")
    with pytest.raises(LocalProblem, match="cannot read"):
        read_input(f"@{tmp_path / 'missing.json'}")


def test_problem_lines_show_every_location() -> None:
    problem = {
        "title": "Invalid FlowApp",
        "detail": "the resource has 1 problem",
        "problems": [
            {"file": "flowapp.yaml", "line": 4, "column": 13, "pointer": "/do", "message": "bad"}
        ],
    }
    assert explain_problem(problem).lines == [
        "Error: Invalid FlowApp: the resource has 1 problem",
        "  flowapp.yaml:4:13: /do: bad",
    ]

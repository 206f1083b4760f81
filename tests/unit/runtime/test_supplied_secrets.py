"""Secrets given to ``flowapp up`` at start: a secrets file and FLOWAPP_SECRETS_<APP>."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowapp.runtime.secrets import (
    SuppliedSecretsError,
    read_secrets_file,
    take_environment_secrets,
)


def test_a_secrets_file_maps_apps_to_their_secrets(tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text(
        "shop:\n  apiKey: k-123\n  petStore: {username: ada, password: pw}\nbilling: {}\n"
    )
    assert read_secrets_file(path) == {
        "shop": {"apiKey": "k-123", "petStore": {"username": "ada", "password": "pw"}},
        "billing": {},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", "maps app names to their secrets"),
        ("Shop: {a: b}\n", "`Shop` is not an app name"),
        ("shop: [a]\n", "/shop: an app's secrets are an object"),
        ("shop: {'1bad': x}\n", "/shop/1bad: not a secret name"),
        ("shop: {when: 2024-01-01}\n", "a secret must be a JSON value"),
        ("shop: {a: [\n", "not YAML or JSON"),
    ],
)
def test_a_bad_secrets_file_says_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text(text)
    with pytest.raises(SuppliedSecretsError, match=r"secrets\.yaml") as raised:
        read_secrets_file(path)
    assert message in str(raised.value)


def test_a_missing_secrets_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SuppliedSecretsError, match="cannot read"):
        read_secrets_file(tmp_path / "absent.yaml")


def test_environment_secrets_are_taken_out_of_the_environment() -> None:
    environ = {
        "FLOWAPP_SECRETS_APPEND_DISPLAY": '{"apiKey": "k-1", "my-oauth2-secret": {"a": 1}}',
        "FLOWAPP_SECRETS_SHOP": "{}",
        "PATH": "/bin",
    }
    taken = take_environment_secrets(environ)
    assert taken == {
        "append-display": {"apiKey": "k-1", "my-oauth2-secret": {"a": 1}},
        "shop": {},
    }
    assert environ == {"PATH": "/bin"}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FLOWAPP_SECRETS_SHOP", "not json", "not JSON"),
        ("FLOWAPP_SECRETS_SHOP", '"a string"', "an object of name: value"),
        ("FLOWAPP_SECRETS_", "{}", "is not an app name"),
    ],
)
def test_a_bad_environment_secret_names_its_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SuppliedSecretsError, match=variable) as raised:
        take_environment_secrets({variable: value})
    assert message in str(raised.value)

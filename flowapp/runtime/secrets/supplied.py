"""Secrets given to ``flowapp up`` when it starts: a file and the environment.

A secrets file (``--secrets-file``, YAML or JSON) maps app names to that app's secrets;
a value is any JSON value (an ``oauth2`` secret is an object of settings)::

    shop:
      apiKey: k-123
      petStore: {username: ada, password: s3cr3t}
    billing:
      stripe: sk_live_...

In the environment, ``FLOWAPP_SECRETS_<APP>`` holds one app's secrets as a JSON object;
``<APP>`` is the app's name in capitals with ``-`` written ``_`` (app ``append-display``:
``FLOWAPP_SECRETS_APPEND_DISPLAY``). The variables are taken out of the process's
environment once read, so that no process started later (a function, a ``run: shell``)
inherits them.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import orjson
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from flowapp.store.platform.rules import DNS_LABEL, SECRET_NAME

ENVIRONMENT_PREFIX = "FLOWAPP_SECRETS_"

Supplied = dict[str, dict[str, Any]]  # app -> name -> value


class SuppliedSecretsError(Exception):
    """A secrets file or variable that cannot be used; the message says where and why."""


def read_secrets_file(path: Path) -> Supplied:
    try:
        text = path.read_text()
    except OSError as error:
        raise SuppliedSecretsError(f"{path}: cannot read the secrets file: {error}") from None
    try:
        loaded = YAML(typ="safe").load(text)
    except YAMLError as error:
        raise SuppliedSecretsError(f"{path}: not YAML or JSON: {error}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SuppliedSecretsError(f"{path}: maps app names to their secrets (an object)")
    return {
        _app_name(app, f"{path}: /{app}"): _secrets_of(secrets, f"{path}: /{app}")
        for app, secrets in loaded.items()
    }


def take_environment_secrets(environ: MutableMapping[str, str]) -> Supplied:
    """Every ``FLOWAPP_SECRETS_<APP>`` variable, removed from ``environ``."""
    found: Supplied = {}
    for variable in [name for name in environ if name.startswith(ENVIRONMENT_PREFIX)]:
        text = environ.pop(variable)
        app = variable[len(ENVIRONMENT_PREFIX) :].lower().replace("_", "-")
        _app_name(app, variable)
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise SuppliedSecretsError(f"{variable}: not JSON (it holds a JSON object)") from None
        found[app] = _secrets_of(value, variable)
    return found


def _app_name(app: object, where: str) -> str:
    if not isinstance(app, str) or not DNS_LABEL.fullmatch(app):
        raise SuppliedSecretsError(f"{where}: `{app}` is not an app name (a DNS-1123 label)")
    return app


def _secrets_of(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SuppliedSecretsError(f"{where}: an app's secrets are an object of name: value")
    for name in value:
        if not isinstance(name, str) or not SECRET_NAME.fullmatch(name):
            raise SuppliedSecretsError(
                f"{where}/{name}: not a secret name (a letter or '_' first, then letters, "
                "digits, '_', '.' or '-')"
            )
    return _plain_json(value, where)


def _plain_json(value: dict[str, Any], where: str) -> dict[str, Any]:
    """A copy through JSON: YAML dates and other non-JSON values are refused here."""
    try:
        copied: dict[str, Any] = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise SuppliedSecretsError(f"{where}: a secret must be a JSON value: {error}") from None
    return copied

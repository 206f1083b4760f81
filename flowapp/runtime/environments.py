"""What each app's decisions see, and which values are kept out of what is saved.

An execution is decided with its own app's secrets, never another app's (``secrets``
maps an app to them; without it every workflow sees ``env.secrets``). The secret values
a workflow declares are sealed out of its saved state and outbox (``sealing.py``), and
put back when the state is read again. Each environment and each set of known values is
built once per app while its secrets stay the same object: a decider process is sent
each environment once, and the pump asks for them at every turn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from flowapp.engine.scope import Environment
from flowapp.runtime.registry import LoadedWorkflow
from flowapp.runtime.sealing import NONE, KnownSecrets, unseal_state

AppSecrets = Callable[[str | None], Mapping[str, Any]]


class Environments:
    def __init__(self, env: Environment, secrets: AppSecrets | None = None) -> None:
        self.env = env
        self.secrets = secrets
        self._envs: dict[str | None, tuple[Mapping[str, Any], Environment]] = {}
        self._known: dict[str, tuple[Mapping[str, Any], KnownSecrets]] = {}

    def env_for(self, workflow: LoadedWorkflow) -> Environment:
        """What the engine is told for a decision of this workflow: its own app's secrets,
        never another app's."""
        if self.secrets is None:
            return self.env
        secrets = self.secrets(workflow.app)
        kept = self._envs.get(workflow.app)
        if kept is None or kept[0] is not secrets:  # one per app while its secrets stay
            kept = self._envs[workflow.app] = (secrets, replace(self.env, secrets=secrets))
        return kept[1]

    def known_secrets(self, workflow: LoadedWorkflow) -> KnownSecrets:
        """The values of the secrets ``workflow`` declares, to keep out of what is saved
        (``sealing.py``); built again only when its app's secrets change."""
        secrets = self.env_for(workflow).secrets
        kept = self._known.get(workflow.id)
        if kept is not None and kept[0] is secrets:
            return kept[1]
        declared = {n: secrets[n] for n in workflow.model.secrets if n in secrets}
        known = KnownSecrets(declared) if declared else NONE
        self._known[workflow.id] = (secrets, known)
        return known

    def app_secrets(self, app: str | None) -> KnownSecrets:
        """The values of all of an app's secrets (to mask in its functions' logs)."""
        secrets = self.secrets(app) if self.secrets is not None else self.env.secrets
        kept = self._known.get(f"app:{app}")
        if kept is not None and kept[0] is secrets:
            return kept[1]
        known = KnownSecrets(secrets) if secrets else NONE
        self._known[f"app:{app}"] = (secrets, known)
        return known

    def open_sealed(
        self, workflow: LoadedWorkflow, data: dict[str, Any], missing: list[str] | None = None
    ) -> dict[str, Any]:
        """A saved state or outbox command, with the secrets it refers to put back."""
        return unseal_state(data, self.env_for(workflow).secrets, missing)

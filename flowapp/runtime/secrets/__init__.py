"""Apps' secrets on ``flowapp up``: where they come from, how they are kept, who sees them.

- ``box.py``: sealing with AES-256-GCM under a key ring (a key file in the data dir,
  created 0600, or ``FLOWAPP_SECRETS_KEY``); what the database holds is only sealed;
- ``supplied.py``: secrets given at start, in a file (``--secrets-file``) or in the
  environment (``FLOWAPP_SECRETS_<APP>``);
- ``vault.py``: ``AppSecrets``, the one place that merges the three sources per app, keeps
  them in memory for the runtime (``for_app``) and writes the store (``set``, ``delete``);
- ``redaction.py``: a logging filter that masks every app's secret values in log lines.
"""

from flowapp.runtime.secrets.box import KeyRing, SecretsKeyError, load_key_ring
from flowapp.runtime.secrets.redaction import RedactSecrets, redacting_logs
from flowapp.runtime.secrets.supplied import (
    ENVIRONMENT_PREFIX,
    SuppliedSecretsError,
    read_secrets_file,
    take_environment_secrets,
)
from flowapp.runtime.secrets.vault import AppSecrets, SecretInfo

__all__ = [
    "ENVIRONMENT_PREFIX",
    "AppSecrets",
    "KeyRing",
    "RedactSecrets",
    "SecretInfo",
    "SecretsKeyError",
    "SuppliedSecretsError",
    "load_key_ring",
    "read_secrets_file",
    "redacting_logs",
    "take_environment_secrets",
]

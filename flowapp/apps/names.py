"""Which names a FlowApp accepts, and the messages that explain a refused one.

Every name in a FlowApp ends up in Kubernetes (the app as a ``FlowApp`` resource, each
function as a Knative Service, each trigger as a source), so they follow Kubernetes' DNS
rules even on one machine: a project that runs locally must deploy unchanged.
"""

from __future__ import annotations

import re

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""RFC 1123 label: what ``metadata.name`` and ``metadata.namespace`` must be."""

FUNCTION_NAME = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
"""RFC 1035 label: a Knative Service name, so a function name starts with a letter."""

PROJECT_NAME = re.compile(r"[a-z]([a-z0-9]|-(?=[a-z0-9])){0,62}")
"""What ``flowapp init`` accepts: a DNS label that is also a valid workflow name (no ``--``)."""

LABEL_RULES = "lowercase letters, digits and '-', starting and ending with a letter or digit"


def dns_label_problem(value: object, what: str) -> str | None:
    """Why ``value`` is not a DNS-1123 label, or None if it is one."""
    if isinstance(value, str) and DNS_LABEL.fullmatch(value):
        return None
    return f"{what} `{value}` is not a DNS-1123 label ({LABEL_RULES}, at most 63 characters)"


def function_name_problem(value: object) -> str | None:
    """Why ``value`` cannot name a function, or None if it can."""
    if isinstance(value, str) and FUNCTION_NAME.fullmatch(value):
        return None
    return (
        f"function name `{value}` is not valid: use lowercase letters, digits and '-', "
        "starting with a letter, ending with a letter or digit, at most 63 characters "
        "(it names a Knative Service when deployed)"
    )


def project_name_problem(value: str) -> str | None:
    """Why ``flowapp init`` refuses ``value`` as a project name, or None."""
    if PROJECT_NAME.fullmatch(value):
        return None
    return (
        f"project name `{value}` is not valid: use lowercase letters, digits and single "
        "'-', starting with a letter, ending with a letter or digit, at most 63 characters "
        "(it names the FlowApp and its workflow)"
    )

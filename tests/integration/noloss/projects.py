"""FlowApp projects for one test: a fixture folder copied into tmp with its trigger pointed
at the test's own (uuid-named) queue.

The copy keeps the fixture's comments and layout (ruamel round trip); only the trigger
item named ``trigger`` is replaced. Also used by ``bench/triggers.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.integration.noloss.launcher import REPO

FIXTURES = REPO / "tests" / "fixtures" / "noloss"
RECORD = FIXTURES / "record"  # one Python function call: output {"n": <the message's n>}
SET_STEP = FIXTURES / "set-step"  # one `set` task, no function
APPEND_DISPLAY = REPO / "examples" / "append-display"

_BUILD_OUTPUT = shutil.ignore_patterns("__pycache__", "node_modules", ".venv", ".flowapp")


def project(source: Path, target: Path, trigger: dict[str, Any]) -> Path:
    """Copy ``source`` to ``target`` and replace its trigger named ``trigger["name"]``."""
    shutil.copytree(source, target, ignore=_BUILD_OUTPUT)
    path = target / "flowapp.yaml"
    yaml = YAML()  # round trip: comments and order stay
    yaml.width = 100
    resource = yaml.load(path.read_text())
    triggers = resource["spec"]["triggers"]
    names = [item["name"] for item in triggers]
    if trigger["name"] not in names:
        raise ValueError(f"{source} has no trigger {trigger['name']!r} (has {names})")
    triggers[names.index(trigger["name"])] = trigger
    with path.open("w") as output:
        yaml.dump(resource, output)
    return target


def app_name(folder: Path) -> str:
    return str(YAML(typ="safe").load((folder / "flowapp.yaml").read_text())["metadata"]["name"])

"""docs/architecture.md names files and packages of the code: each must exist, so that the
map is not left describing a shape the code no longer has."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "docs" / "architecture.md"
# `runtime/pump.py`, `functions/{node,java,go}`, `engine/tasks/`: paths under flowapp/.
NAMED = re.compile(r"`((?:[a-z_]+/)+(?:[a-z_]+\.py|\{[a-z,]+\}|))`")


def named_paths() -> list[str]:
    names: list[str] = []
    for match in NAMED.finditer(MAP.read_text()):
        path = match.group(1)
        braces = re.search(r"\{([a-z,]+)\}", path)
        if braces:
            names += [path.replace(braces.group(0), part) for part in braces.group(1).split(",")]
        else:
            names.append(path)
    return names


def test_the_map_names_paths() -> None:
    assert len(named_paths()) > 40


def test_every_path_the_map_names_exists() -> None:
    missing = [
        path
        for path in named_paths()
        if not (ROOT / "flowapp" / path).exists() and not (ROOT / path).exists()
    ]
    assert missing == []


def test_every_package_of_flowapp_is_on_the_map() -> None:
    text = MAP.read_text()
    packages = sorted(p.name for p in (ROOT / "flowapp").iterdir() if (p / "__init__.py").exists())
    assert [name for name in packages if f"{name}/" not in text] == []

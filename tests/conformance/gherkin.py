"""A small reader for the conformance kit's Gherkin: features, scenarios, steps and
their doc strings. The kit uses only this subset, so no Gherkin library is needed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_KEYWORDS = ("Given", "When", "Then", "And", "But")


@dataclass
class Step:
    keyword: str
    text: str
    doc: str | None = None
    line: int = 0


@dataclass
class Scenario:
    feature: str
    name: str
    path: Path
    line: int
    steps: list[Step] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.path.stem}: {self.name}"


def _dedent_doc(lines: list[str], indent: int) -> str:
    return "\n".join(line[indent:] if len(line) >= indent else line.strip() for line in lines)


def parse_feature(path: Path) -> list[Scenario]:
    lines = path.read_text(encoding="utf-8").splitlines()
    scenarios: list[Scenario] = []
    feature = path.stem
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if stripped.startswith("Feature:"):
            feature = stripped.removeprefix("Feature:").strip()
        elif stripped.startswith("Scenario:"):
            name = stripped.removeprefix("Scenario:").strip()
            scenarios.append(Scenario(feature, name, path, index + 1))
        elif stripped.startswith('"""') and scenarios and scenarios[-1].steps:
            indent = len(lines[index]) - len(lines[index].lstrip())
            end = index + 1
            while not lines[end].strip().startswith('"""'):
                end += 1
            scenarios[-1].steps[-1].doc = _dedent_doc(lines[index + 1 : end], indent)
            index = end
        elif stripped.split(" ", 1)[0] in _KEYWORDS and scenarios:
            keyword, _, text = stripped.partition(" ")
            scenarios[-1].steps.append(Step(keyword, text.strip(), line=index + 1))
        index += 1
    return scenarios


def parse_features(paths: list[Path]) -> list[Scenario]:
    return [scenario for path in sorted(paths) for scenario in parse_feature(path)]


QUOTED = re.compile(r"'([^']*)'")

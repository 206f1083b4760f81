"""What the fuzz tests generate: JSON values, YAML-shaped text, and valid documents with
one part replaced by something else (the mutations most likely to reach code that
trusted a type)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from flowapp.apps.sources import read_tree
from flowapp.dsl.source import parse_text

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "append-display"
EXAMPLE_FILES = read_tree(EXAMPLE)
EXAMPLE_RESOURCE: dict[str, Any] = parse_text(EXAMPLE_FILES["flowapp.yaml"].decode()).data

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", "..", "../../admin-token", "/etc/passwd", "${ . }", "\ud800"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

_YAML_TOKENS = [
    "[", "]", "{", "}", ": ", ", ", "\n", "\n  ", "- ", "&a ", "*a", "<<: ", "'", '"', "a",
    "1", "# c", "!!binary ", "!!python/object:os.system ", "? ", "|\n", ">\n", "---\n",
    "...\n", "%YAML 1.2\n", "\t", "\\u0000", "\x00", "\ud800", "é", "document", "do",
    "apiVersion: flowapp.dev/v1alpha1", "kind: FlowApp", "spec", "metadata", "name",
]  # fmt: skip
yaml_text = st.lists(st.sampled_from(_YAML_TOKENS), max_size=60).map("".join)


def _pointers(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _pointers(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _pointers(child, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with one to three values (a mapping, a list or a scalar anywhere,
    the root included) replaced by arbitrary JSON values."""
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(_pointers(result)))
        value = draw(json_values)
        if not where:
            if isinstance(value, dict):
                result = value
            continue
        parent = result
        for step in where[:-1]:
            parent = parent[step]
        parent[where[-1]] = value
    return result


def as_text(document: Any, style: str) -> str:
    """JSON text, which YAML reads too (lone surrogates kept as escapes)."""
    indent = 2 if style == "pretty" else None
    return json.dumps(document, indent=indent)

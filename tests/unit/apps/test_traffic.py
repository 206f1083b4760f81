"""``spec.revision`` and ``spec.traffic``: read with every problem at its pointer."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowapp.apps.loader import load_app
from flowapp.apps.traffic import TrafficTarget
from flowapp.dsl.problems import DefinitionError

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "append-display"


def with_spec(tmp_path: Path, **spec: Any) -> Path:
    resource = yaml.safe_load((EXAMPLE / "flowapp.yaml").read_text())
    resource["spec"].update(copy.deepcopy(spec))
    shutil.copytree(EXAMPLE / "functions", tmp_path / "functions", dirs_exist_ok=True)
    (tmp_path / "flowapp.yaml").write_text(yaml.safe_dump(resource))
    return tmp_path


def problems_of(folder: Path) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        load_app(folder)
    return [(p.pointer, p.message) for p in caught.value.problems]


def test_a_split_is_read_with_tags_defaulting_to_the_revision(tmp_path: Path) -> None:
    traffic = [
        {"revision": "v1", "percent": 90, "tag": "stable"},
        {"revision": "v2", "percent": 10},
    ]
    app = load_app(with_spec(tmp_path, revision="v2", traffic=traffic))
    assert app.revision == "v2"
    assert app.traffic == (TrafficTarget("v1", 90, "stable"), TrafficTarget("v2", 10, "v2"))


def test_no_revision_no_traffic(tmp_path: Path) -> None:
    app = load_app(with_spec(tmp_path))
    assert (app.revision, app.traffic) == (None, ())


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"traffic": [{"revision": "v1", "percent": 100}]},
            ("/spec/traffic", "needs `spec.revision`"),
        ),
        (
            {
                "revision": "v2",
                "traffic": [{"revision": "v1", "percent": 60}, {"revision": "v2", "percent": 30}],
            },
            ("/spec/traffic", "add up to 90, not 100"),
        ),
        (
            {
                "revision": "v2",
                "traffic": [{"revision": "v2", "percent": 50}, {"revision": "v2", "percent": 50}],
            },
            ("/spec/traffic", "each revision may appear once: v2"),
        ),
        (
            {
                "revision": "v2",
                "traffic": [
                    {"revision": "v2", "percent": 50, "tag": "a"},
                    {"revision": "v1", "percent": 50, "tag": "a"},
                ],
            },
            ("/spec/traffic", "each tag may appear once: a"),
        ),
        ({"revision": "V2"}, ("/spec/revision", "not 'V2'")),
        ({"revision": "release-2024-06-01"}, ("/spec/revision", "at most 12 characters")),
        (
            {"revision": "v2", "traffic": [{"revision": "v2"}]},
            ("/spec/traffic/0", "missing required key `percent`"),
        ),
        (
            {"revision": "v2", "traffic": [{"revision": "v2", "percent": 101}]},
            ("/spec/traffic/0/percent", "between 0 and 100"),
        ),
        (
            {"revision": "v2", "traffic": [{"revision": "v2", "percent": 100, "weight": 1}]},
            ("/spec/traffic/0/weight", "unknown key"),
        ),
        ({"revision": "v2", "traffic": []}, ("/spec/traffic", "non-empty list")),
    ],
    ids=[
        "no-revision",
        "not-100",
        "repeated-revision",
        "repeated-tag",
        "upper-case",
        "too-long",
        "no-percent",
        "over-100",
        "unknown-key",
        "empty",
    ],
)
def test_a_bad_split_is_refused_where_it_is_wrong(
    tmp_path: Path, spec: dict[str, Any], expected: tuple[str, str]
) -> None:
    found = problems_of(with_spec(tmp_path, **spec))
    pointer, text = expected
    assert any(p == pointer and text in m for p, m in found), found

"""The shipped templates: every one renders, and ``{{name}}`` is the only placeholder."""

from __future__ import annotations

import re

import pytest

from flowapp.apps.templates import FUNCTION_FILES, PROJECT_FILES, STARTER_WORKFLOW, render

VALUES = {
    "app": "shop",
    "name": "resize",
    "functions": " {}",
    "class_name": "Resize",
    "app_package": "app.shop",
    "go_module": "resize",
}
ALL = [*PROJECT_FILES.values(), STARTER_WORKFLOW] + [
    template for files in FUNCTION_FILES.values() for template in files.values()
]


@pytest.mark.parametrize("template", ALL)
def test_every_template_renders_completely(template: str) -> None:
    text = render(template, VALUES)
    assert not re.search(r"\{\{[a-z_]+\}\}", text)
    assert text.endswith("\n")


def test_dollar_signs_and_single_braces_are_left_alone() -> None:
    node = render("node/index.js.tmpl", VALUES)
    assert "{ function: 'resize', input: data }" in node
    script = render("project/ci/test.sh.tmpl", VALUES)
    assert '"$(dirname "$0")/.."' in script


def test_a_placeholder_without_a_value_is_a_bug() -> None:
    with pytest.raises(KeyError, match="name"):
        render("python/main.py.tmpl", {"app": "shop"})

"""The text templates of a new project and a new function, and how they are filled in.

Templates are plain files shipped in the package (``flowapp/apps/templates/``), each named
``<file>.tmpl`` so that no tool mistakes them for real code, tests or ignore files. A
placeholder is ``{{name}}``: ``$`` and single braces are everywhere in JavaScript, shell
and YAML, and doubled braces with no space inside are found in none of the templates
(GitHub Actions' ``${{ x }}`` has spaces, so it is left alone). A placeholder without a
value is a bug in flowapp and raises ``KeyError``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from importlib.resources import files

# Where each file of a project comes from: target path -> template path.
PROJECT_FILES = {
    "flowapp.yaml": "project/flowapp.yaml.tmpl",
    "README.md": "project/README.md.tmpl",
    ".gitignore": "project/gitignore.tmpl",
    "config/dev.yaml": "project/config/dev.yaml.tmpl",
    "config/prod.yaml": "project/config/prod.yaml.tmpl",
    ".ci/test.sh": "project/ci/test.sh.tmpl",
    ".github/workflows/test.yml": "project/github/test.yml.tmpl",
}
STARTER_WORKFLOW = "project/workflow.yaml.tmpl"
# The files of one function, by runtime: file name -> template path.
FUNCTION_FILES = {
    "python": {
        "main.py": "python/main.py.tmpl",
        "test_main.py": "python/test_main.py.tmpl",
        "requirements.txt": "python/requirements.txt.tmpl",
        "pytest.ini": "python/pytest.ini.tmpl",
    },
    "node": {
        "index.js": "node/index.js.tmpl",
        "index.test.js": "node/index.test.js.tmpl",
        "package.json": "node/package.json.tmpl",
    },
    # {{class_name}} in a path is the function's class (resize-image: ResizeImage).
    "java": {
        "src/main/java/{{class_name}}.java": "java/Handler.java.tmpl",
        "src/test/java/{{class_name}}Test.java": "java/HandlerTest.java.tmpl",
        "pom.xml": "java/pom.xml.tmpl",
    },
    "go": {
        "main.go": "go/main.go.tmpl",
        "main_test.go": "go/main_test.go.tmpl",
        "go.mod": "go/go.mod.tmpl",
    },
}
EXECUTABLE = frozenset({".ci/test.sh"})


# ``{{name}}``; the other groups ``string.Template`` requires can never match.
_PLACEHOLDER = r"""
    \{\{(?:
        (?P<named>[a-z_][a-z0-9_]*)\}\}
      | (?P<braced>(?!))
      | (?P<escaped>(?!))
      | (?P<invalid>(?!))
    )
"""


class _Template(string.Template):
    """``{{name}}`` placeholders (see the module docstring)."""

    # A string here is string.Template's documented extension point: the subclass
    # compiles it when it is created (typeshed only knows the compiled attribute).
    pattern = _PLACEHOLDER  # type: ignore[assignment]


def render(template: str, values: Mapping[str, str]) -> str:
    """The template at ``template`` (relative to ``templates/``) with ``values`` filled in."""
    text = files("flowapp.apps").joinpath("templates", *template.split("/")).read_text("utf-8")
    return _Template(text).substitute(values)

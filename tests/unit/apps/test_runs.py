"""Where a workflow starts processes (shell, script, container), for the allow-run switch."""

from __future__ import annotations

from pathlib import Path

from flowapp.apps import load_app
from flowapp.apps.runs import disabled_runs, run_processes

SHELL = {"run": {"shell": {"command": "true"}}}
SCRIPT = {"run": {"script": {"language": "python", "code": "1"}}}


def test_every_process_task_is_found_with_its_pointer_nested_ones_too() -> None:
    document = {
        "use": {"functions": {"helper": SCRIPT}},
        "do": [
            {"one": SHELL},
            {"guarded": {"try": [{"inner": SCRIPT}], "catch": {"do": [{"fix": SHELL}]}}},
            {"both": {"fork": {"branches": [{"left": {"run": {"container": {"image": "x"}}}}]}}},
            {"loop": {"for": {"each": "i", "in": "${ . }"}, "do": [{"each": SHELL}]}},
            {"child": {"run": {"workflow": {"namespace": "n", "name": "w", "version": "1"}}}},
        ],
    }
    assert sorted(run_processes(document)) == [
        ("/do/0/one", "shell"),
        ("/do/1/guarded/catch/do/0/fix", "shell"),
        ("/do/1/guarded/try/0/inner", "script"),
        ("/do/2/both/fork/branches/0/left", "container"),
        ("/do/3/loop/do/0/each", "shell"),
        ("/use/functions/helper", "script"),
    ]


def test_a_disabled_kind_is_a_problem_at_its_line_in_flowapp_yaml(tmp_path: Path) -> None:
    (tmp_path / "flowapp.yaml").write_text(
        "apiVersion: flowapp.dev/v1alpha1\n"
        "kind: FlowApp\n"
        "metadata: {name: shop}\n"
        "spec:\n"
        "  workflow:\n"
        "    document: {dsl: '1.0.0', namespace: default, name: shop, version: '1.0.0'}\n"
        "    do:\n"
        "      - list:\n"
        "          run:\n"
        "            shell: {command: ls}\n"
        "      - compute:\n"
        "          run:\n"
        "            script: {language: python, code: '1'}\n"
    )
    app = load_app(tmp_path)

    (problem,) = disabled_runs(app, frozenset({"script"}))

    assert problem.pointer == "/spec/workflow/do/0/list/run/shell"
    assert (Path(problem.file).name, problem.line) == ("flowapp.yaml", 10)
    assert "flowapp allow-run shop shell" in problem.message
    assert disabled_runs(app, frozenset({"shell", "script"})) == []

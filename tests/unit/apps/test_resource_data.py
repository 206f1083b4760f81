"""``load_resource_data``: a FlowApp object from a cluster, with no project folder."""

from __future__ import annotations

from typing import Any

import pytest

from flowapp.apps.loader import load_resource_data
from flowapp.dsl.problems import DefinitionError


def resource(**spec: Any) -> dict[str, Any]:
    workflow = {
        "document": {"dsl": "1.0.3", "namespace": "default", "name": "shop", "version": "1.0.0"},
        "do": [{"first": {"call": "append"}}],
    }
    return {
        "apiVersion": "flowapp.dev/v1alpha1",
        "kind": "FlowApp",
        "metadata": {"name": "shop", "namespace": "prod"},
        "spec": {"functions": {"append": {"image": "reg/a:1"}}, "workflow": workflow, **spec},
    }


def test_functions_need_no_folder_on_a_cluster() -> None:
    app = load_resource_data(resource(), file="prod/shop")
    assert app.name == "shop" and app.namespace == "prod"
    assert set(app.functions) == {"append"}


def test_every_problem_is_reported_with_its_pointer() -> None:
    bad = resource(delivery={"retry": -1})
    bad["spec"]["workflow"]["do"].append({"second": {"call": "nowhere"}})
    bad["spec"]["workflow"]["do"].append({"third": {"set": {"x": "${ .a | }"}}})
    with pytest.raises(DefinitionError) as caught:
        load_resource_data(bad, file="prod/shop")
    pointers = {problem.pointer for problem in caught.value.problems}
    assert "/spec/delivery/retry" in pointers
    assert "/spec/workflow/do/1/second/call" in pointers
    assert "/spec/workflow/do/2/third/set/x" in pointers
    assert {problem.file for problem in caught.value.problems} == {"prod/shop"}


def test_a_workflow_ref_has_no_folder_to_point_into() -> None:
    bad = resource()
    bad["spec"]["workflowRef"] = "workflow.yaml"
    del bad["spec"]["workflow"]
    with pytest.raises(DefinitionError, match="needs a project folder"):
        load_resource_data(bad, file="prod/shop")

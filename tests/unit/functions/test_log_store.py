"""The per-function log ring: bounded, tagged with executions, optionally on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowapp.functions.logs import LogStore, execution_tags


def add(store: LogStore, text: str, *, function: str = "f") -> None:
    store.append(function=function, instance=f"{function}-1", stream="stderr", text=text, time=1.0)


def test_json_log_lines_are_tagged_with_their_execution() -> None:
    line = '{"message": "hi", "execution_id": "e1", "task_reference": "/do/0/a"}'

    assert execution_tags(line) == ("e1", "/do/0/a")


@pytest.mark.parametrize("text", ["plain text", "{not json", "[1, 2]", '{"message": "no ids"}'])
def test_other_lines_have_no_execution(text: str) -> None:
    assert execution_tags(text) == (None, None)


def test_query_by_execution_and_limit() -> None:
    store = LogStore()
    add(store, '{"execution_id": "e1", "message": "one"}')
    add(store, "print from the function")
    add(store, '{"execution_id": "e2", "message": "two"}')
    add(store, '{"execution_id": "e1", "message": "three"}')

    assert [line.text for line in store.query("f", limit=2)][-1].endswith('"three"}')
    assert len(store.query("f")) == 4
    e1 = store.query("f", execution_id="e1")
    assert [line.execution_id for line in e1] == ["e1", "e1"]
    assert store.query("f", execution_id="e1", limit=1)[0].text.endswith('"three"}')
    assert store.query("other") == []


def test_the_ring_is_bounded_per_function() -> None:
    store = LogStore(capacity=3)
    for n in range(5):
        add(store, f"line {n}")
    add(store, "elsewhere", function="g")

    assert [line.text for line in store.query("f")] == ["line 2", "line 3", "line 4"]
    assert [line.text for line in store.query("g")] == ["elsewhere"]


def test_lines_are_appended_to_a_file_per_function(tmp_path: Path) -> None:
    store = LogStore(directory=tmp_path / "logs")
    add(store, "hello")
    store.close()

    written = (tmp_path / "logs" / "f.log").read_text()
    assert written.endswith(" f-1 stderr hello\n")

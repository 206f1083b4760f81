"""Limits from the command line, and which limit stopped a process."""

from __future__ import annotations

import signal

import pytest

from flowapp.sandbox.identity import app_user
from flowapp.sandbox.limits import Limits, parse_limits, stopped_by

LIMITS = Limits(cpu_seconds=2, memory_bytes=256 << 20, processes=64)


def test_limits_parse_with_units_over_the_defaults() -> None:
    parsed = parse_limits("cpu=60, memory=512M,processes=256,output=64Ki,tmp=1G,files=99")
    assert parsed == Limits(
        cpu_seconds=60,
        memory_bytes=512 << 20,
        processes=256,
        output_bytes=64 << 10,
        tmp_bytes=1 << 30,
        open_files=99,
    )
    assert parse_limits("") == Limits()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cpu=2s", "'2s' is not a whole number"),
        ("memory=lots", "'lots' is not a size"),
        ("mem=1", "KEY one of cpu, memory"),
        ("cpu", "expected KEY=VALUE"),
        ("cpu=0", "cpu_seconds must be at least 1"),
    ],
)
def test_a_bad_limit_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_limits(text)


@pytest.mark.parametrize(
    ("code", "stderr", "named"),
    [
        (-signal.SIGXCPU, "", "its CPU time limit (2 s)"),
        (128 + signal.SIGXCPU, "", "its CPU time limit (2 s)"),
        (137, "", "hard CPU time limit (7 s)"),
        (1, "Traceback ...\nMemoryError\n", "its memory limit (256 MiB)"),
        (134, "FATAL ERROR: ... JavaScript heap out of memory", "its memory limit"),
        (2, "sh: 1: Cannot fork", "its process limit (64 processes"),
        (1, "RuntimeError: can't start new thread", "its process limit"),
    ],
)
def test_the_limit_that_stopped_a_process_is_named(code: int, stderr: str, named: str) -> None:
    assert named in (stopped_by(code, stderr, LIMITS) or "")


@pytest.mark.parametrize(("code", "stderr"), [(0, "MemoryError"), (1, "no such file"), (None, "")])
def test_an_ordinary_exit_names_no_limit(code: int | None, stderr: str) -> None:
    assert stopped_by(code, stderr, LIMITS) is None


def test_an_app_keeps_its_user_and_apps_differ() -> None:
    assert app_user("shop") == app_user("shop")
    assert app_user("shop").uid != app_user("billing").uid
    assert 1_800_000_000 <= app_user("shop").uid < 1_800_065_536
    assert app_user("shop", base=5000).uid < 5000 + 65_536

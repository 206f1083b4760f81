"""What a test does when a server it needs cannot be had."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(message: str) -> NoReturn:
    """CI starts every server the tests need, so there a missing one fails the test;
    elsewhere the test is skipped, with the reason in the summary."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def skip_unless_ci(missing: bool) -> bool:
    """A ``skipif`` condition: skip where a toolchain is ``missing``, except in CI, where
    it is installed and the test must run (and fail if it is not)."""
    return missing and not os.environ.get("CI")

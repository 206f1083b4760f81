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

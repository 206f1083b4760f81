"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres import throwaway_database


@pytest.fixture
def postgres_db() -> Iterator[str]:
    """A PostgreSQL database of this test's own."""
    with throwaway_database("flowapp_e2e") as url:
        yield url

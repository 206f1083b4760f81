"""The ``flowapp`` console command."""

from __future__ import annotations


def main() -> None:
    raise SystemExit("flowapp: no commands yet")

"""The isolated decider's defaults, in a module of their own: the CLI shows them in its
help without importing the engine."""

from __future__ import annotations

DEFAULT_WORKERS = 2
DEFAULT_DECISION_SECONDS = 5.0  # a turn's wall time before its worker is killed
DEFAULT_MEMORY_MIB = 1024  # each worker's address space (RLIMIT_AS)

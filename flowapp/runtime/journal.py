"""The decision journal: which executions this process is deciding right now.

If the whole process dies while deciding (the kernel's out-of-memory killer, a crash in a
C extension), the execution it was deciding would be taken back at the next start and
decided again, and kill the process again, forever. So the ids of the executions being
decided are kept in a small file: rewritten in place (one ``pwrite``, no ``fsync``) when a
turn begins and when it ends. That survives the death of the process (the kernel keeps
the written pages), not of the machine, which is enough: the machine's death is not an
execution's doing. It costs two small writes per turn and nothing else.

At the next start, the ids left in the file are those the process died deciding; the
runtime counts it in their state (``crashes``) and quarantines (faults) an execution
once the process has died deciding it ``QUARANTINE_AFTER`` times.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from pathlib import Path

QUARANTINE_AFTER = 2


class DecisionJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._deciding: Counter[str] = Counter()

    def open(self) -> set[str]:
        """Start journaling; the ids the previous process left (it died deciding them)."""
        left = self.read(self.path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        self._write()
        return left

    @staticmethod
    def read(path: Path) -> set[str]:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return set()
        text = data.split(b"\0", 1)[0].decode("utf-8", "replace")
        return {line for line in text.splitlines() if line}

    def begin(self, execution_id: str) -> None:
        self._deciding[execution_id] += 1
        self._write()

    def end(self, execution_id: str) -> None:
        self._deciding[execution_id] -= 1
        if self._deciding[execution_id] <= 0:
            del self._deciding[execution_id]
        self._write()

    def close(self) -> None:
        if self._fd is not None:
            self._deciding.clear()
            self._write()
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def _write(self) -> None:
        if self._fd is None:
            return
        text = "".join(f"{execution_id}\n" for execution_id in self._deciding)
        os.pwrite(self._fd, text.encode() + b"\0", 0)

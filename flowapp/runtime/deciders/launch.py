"""``python -m flowapp.runtime.deciders.launch FD MEMORY_BYTES PROGRESS_FD``: start a decider
worker (its socket, its memory cap, and the memory it notes its progress in).

Only the standard library is imported before the worker settles in: it ignores SIGINT
and SIGTERM (a Ctrl-C or a stop of the process group must not kill it in the middle of a
turn, which the runtime would take for the turn's fault) and lowers its CPU priority
below the server's (on a busy machine, answering requests comes first), and only then
imports the engine, which takes about a second.
"""

from __future__ import annotations

import os
import signal
import sys

NICENESS = 5


def settle() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.nice(NICENESS)


if __name__ == "__main__":
    settle()
    from flowapp.runtime.deciders.worker import main

    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))

"""Ctrl-C for a child process whatever started the test run.

A shell starts a background job with SIGINT ignored, and a child inherits that: a
``flowapp`` process started by tests that run in the background would then never see
the SIGINT a test sends it as Ctrl-C. ``preexec_fn=ctrl_c_reaches_it`` gives the child
the default disposition back, as a terminal's foreground job has.
"""

from __future__ import annotations

import signal


def ctrl_c_reaches_it() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)

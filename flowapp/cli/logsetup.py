"""The log of the long-running commands (``up``, ``dev``, ``engine``): one line per
event on stderr, without the chatter of libraries at start (schema migrations say
what they do at INFO; they are quiet unless something needs saying)."""

from __future__ import annotations

import logging
import sys

QUIET_LIBRARIES = ("alembic",)


def configure_logging(level: int) -> None:
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))

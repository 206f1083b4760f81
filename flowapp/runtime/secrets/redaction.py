"""Log records with known secret values masked, whatever logged them.

``RedactSecrets`` is a ``logging.Filter`` for the handlers of the root logger (a filter
on a handler sees every record the handler writes, from any logger): the message, once
formatted with its arguments, and the traceback text are masked with the values of every
app's secrets (``sealing.KnownSecrets``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flowapp.runtime.sealing import KnownSecrets


class RedactSecrets(logging.Filter):
    def __init__(self, known: Callable[[], KnownSecrets]) -> None:
        super().__init__()
        self.known = known

    def filter(self, record: logging.LogRecord) -> bool:
        known = self.known()
        if not known:
            return True
        message = record.getMessage()
        masked = known.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = known.mask(record.exc_text)
        return True


@contextmanager
def redacting_logs(known: Callable[[], KnownSecrets]) -> Iterator[RedactSecrets]:
    """Mask secrets in everything the root logger's handlers write, while inside."""
    redact = RedactSecrets(known)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(redact)
    try:
        yield redact
    finally:
        for handler in handlers:
            handler.removeFilter(redact)

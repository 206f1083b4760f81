"""Log lines never carry a known secret value, whoever logs them."""

from __future__ import annotations

import io
import logging

from flowapp.runtime.sealing import KnownSecrets
from flowapp.runtime.secrets import RedactSecrets

SECRET = "tok-c2VjcmV0LXRva2Vu"


def test_messages_arguments_and_tracebacks_are_masked() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(lambda: KnownSecrets({"shop": {"token": SECRET}})))
    logger = logging.getLogger("flowapp.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("GET https://api.example.com/?key=%s failed", SECRET)
        try:
            raise ValueError(f"refused Bearer {SECRET}")
        except ValueError:
            logger.exception("call failed")
        logger.warning("nothing secret here")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert SECRET not in written
    assert "key=******** failed" in written
    assert "ValueError: refused Bearer ********" in written
    assert "nothing secret here" in written

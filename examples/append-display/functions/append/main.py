"""The `append` function: appends a suffix (from the task's `with`, default "!") to a message.

Input: ``{"message": "hello", "suffix": "?"}``; output: ``{"message": "hello?"}``.
"""

from __future__ import annotations

from typing import Any

from flowapp.functions.sdk import Context, FunctionError


def handle(data: Any, context: Context) -> dict[str, str]:
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, str):
        # A 4xx reply is a communication error the workflow can catch; retrying won't help.
        raise FunctionError(422, "Missing message", "the input has no 'message' string")
    suffix = str(data.get("suffix", "!"))
    context.logger.info("appending %r to %r", suffix, message)
    return {"message": message + suffix}

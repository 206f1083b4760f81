"""Size limits that keep one execution from bloating the store.

An execution input over the limit is refused before anything is stored; a function or
HTTP output over it faults the task with a clear error (which ``try`` can catch), and
nothing of it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from flowapp.dsl import errors
from flowapp.runtime.effects.base import EffectError

DEFAULT_MAX_PAYLOAD = 1 << 20  # 1 MiB


class PayloadTooLarge(ValueError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the input is {size:,} bytes, over the limit of {limit:,} bytes")
        self.size = size
        self.limit = limit


def encoded_size(value: Any) -> int:
    try:
        return len(orjson.dumps(value))
    except TypeError:  # not JSON: let the store report what is wrong with it
        return 0


@dataclass(frozen=True, slots=True)
class Limits:
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD

    def check_input(self, value: Any) -> None:
        size = encoded_size(value)
        if size > self.max_payload_bytes:
            raise PayloadTooLarge(size, self.max_payload_bytes)

    def check_output(self, value: Any) -> None:
        size = encoded_size(value)
        if size > self.max_payload_bytes:
            detail = (
                f"the output is {size:,} bytes, over the limit of "
                f"{self.max_payload_bytes:,} bytes (max_payload_bytes)"
            )
            raise EffectError(errors.error(errors.RUNTIME, detail, status=413))

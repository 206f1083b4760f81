"""What keeping secrets out of the database costs a checkpoint, and what the egress
policy costs a call: sealing a saved state (and opening it again), masking a task run,
and checking one address.

    python -m bench secrets
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from flowapp.runtime.egress import EgressPolicy
from flowapp.runtime.sealing import KnownSecrets, seal_state, unseal_state

SECRETS = {
    "token": "tok-Q29uZmlkZW50aWFsLXRva2Vu",
    "petStore": {"username": "ada", "password": "pw-c2VjcmV0cGFzcw"},
    "client": {"id": "runtime", "secret": "cs-Y2xpZW50c2VjcmV0"},
}


def state_of(frames: int, with_secret: bool) -> dict[str, Any]:
    """A saved state shaped like the engine's: frames with inputs, one call in flight."""
    key = SECRETS["token"] if with_secret else "public-value"
    return {
        "execution_id": "01a2511fb9a9f06887e25fca4ed2",
        "status": "waiting",
        "frames": {
            str(i): {
                "reference": f"/do/{i}/task",
                "input": {"order": i, "items": list(range(20)), "note": "x" * 80},
                "data": {"request": {"headers": {"X-Api-Key": key}}} if i == 0 else {},
            }
            for i in range(frames)
        },
        "effects": {
            "e1": {"command": {"kind": "call-http", "headers": {"X-Api-Key": key}}},
        },
    }


def timed(work: Callable[[], object], rounds: int) -> float:
    """Microseconds per call, best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            work()
        best = min(best, (time.perf_counter() - start) / rounds)
    return best * 1e6


def main() -> Iterator[str]:
    known = KnownSecrets(SECRETS)
    for frames in (10, 100, 1000):
        state = state_of(frames, with_secret=True)
        size = len(repr(state))
        rounds = max(10, 20_000 // frames)
        sealed = seal_state(state, known)
        seal = timed(lambda s=state: seal_state(s, known), rounds)
        unseal = timed(lambda s=sealed: unseal_state(s, SECRETS), rounds)
        yield (
            f"state of {frames:>4} frames (~{size // 1024} KiB): seal {seal:8.1f} us, "
            f"open {unseal:6.1f} us per checkpoint"
        )
    plain = state_of(100, with_secret=False)
    clean = timed(lambda: seal_state(plain, known), 2_000)
    yield f"state of  100 frames holding no secret value: seal {clean:8.1f} us"
    nothing = KnownSecrets({})
    yield f"an app without secrets: {timed(lambda: seal_state(plain, nothing), 20_000):.2f} us"
    run = {"input": {"key": SECRETS["token"], "order": 7}, "output": {"ok": True}}
    yield f"mask a task run: {timed(lambda: known.mask(run), 20_000):.1f} us"
    policy = EgressPolicy.enforcing(["10.0.0.0/8", "api.internal:8443"])
    check = timed(lambda: policy.refusal("api.example.com", "93.184.215.14", 443), 50_000)
    yield f"egress check of one address: {check:.1f} us"

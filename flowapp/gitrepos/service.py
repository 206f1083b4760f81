"""One git service exchange (upload-pack or receive-pack) over a blocking read/write pair.

This is the dulwich side of ``flowapp.gitrepos.http`` and runs in a worker thread:
``serve`` builds dulwich's ``UploadPackHandler`` (clone, fetch) or a ``ReceivePackHandler``
(push) in stateless-RPC mode, the mode of git's smart HTTP protocol in which every HTTP
request carries one complete client turn, and lets it read the request body and write
the response through the callables it is given.

Writes are gathered into chunks of up to 64 KiB before they are handed on: dulwich
writes one pkt-line at a time, and each hand-over crosses to the event loop. Holding
output back cannot deadlock, because git sends a request body whole before it reads
the response.

Pushes: the handler subclass remembers the refs dulwich updated (its post-receive step
runs after the refs are written) and refuses to delete the deploy branch, which, like
git's ``receive.denyDeleteCurrent``, would leave the app with nothing to deploy. Given a
``check``, it also refuses to move the deploy branch to a commit the check finds
problems in: each problem goes to git's progress channel, which git prints as a
``remote:`` line, and the ref is rejected with a one-line reason (like a pre-receive
hook on any git server). The pack is stored; only the branch does not move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from dulwich.objects import ObjectID
from dulwich.protocol import (
    CAPABILITY_SIDE_BAND_64K,
    SIDE_BAND_CHANNEL_PROGRESS,
    Protocol,
    ReceivableProtocol,
)
from dulwich.refs import Ref
from dulwich.repo import Repo
from dulwich.server import (
    Backend,
    BackendRepo,
    DictBackend,
    ReceivePackHandler,
    UploadPackHandler,
)

SERVICES = ("git-upload-pack", "git-receive-pack")
DEPLOY_REF = Ref(b"refs/heads/main")
CHUNK_SIZE = 64 * 1024
MAX_PROBLEM_LINES = 100  # told to git; a project with more is told how many are left out
_ZERO = ObjectID(b"0" * 40)

# The problems of the commit a push would deploy (its full sha); [] when it may deploy.
CheckCommit = Callable[[str], list[str]]


class RefUpdate(NamedTuple):
    """A ref a push changed: full shas, ``"0" * 40`` for none (a new or deleted ref)."""

    ref: str
    old: str
    new: str


class _ReceivePack(ReceivePackHandler):
    """dulwich's receive-pack, remembering what it updated and guarding the deploy branch.

    ``_on_update`` and ``_on_post_receive`` are dulwich's hook points (where it runs the
    repository's ``update`` and ``post-receive`` hooks); the integration tests pin their
    behaviour against the dulwich version flowapp depends on.
    """

    def __init__(
        self,
        backend: Backend,
        args: Sequence[str],
        proto: Protocol,
        *,
        check: CheckCommit | None = None,
        **kwargs: bool,
    ) -> None:
        super().__init__(backend, args, proto, **kwargs)
        self.updated: list[RefUpdate] = []
        self.check = check

    def _on_update(self, ref_name: Ref, old_sha: ObjectID, new_sha: ObjectID) -> bytes | None:
        if ref_name == DEPLOY_REF and new_sha == _ZERO:
            return b"refusing to delete main: it is the branch the app deploys from"
        if ref_name == DEPLOY_REF and self.check is not None:
            problems = self.check(new_sha.decode("ascii"))
            if problems:
                self._tell(problems)
                count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
                return f"the project cannot be deployed: {count}, listed above".encode()
        return super()._on_update(ref_name, old_sha, new_sha)

    def _tell(self, problems: list[str]) -> None:
        """Problems as ``remote:`` lines (git's progress channel), when the client has
        one (every git since 1.6 asks for it)."""
        if self._client_capabilities is None or not self.has_capability(CAPABILITY_SIDE_BAND_64K):
            return
        lines = [line for problem in problems for line in problem.splitlines()]
        if len(lines) > MAX_PROBLEM_LINES:
            more = len(lines) - MAX_PROBLEM_LINES
            lines = [*lines[:MAX_PROBLEM_LINES], f"… and {more} more"]
        text = "".join(f"{line}\n" for line in lines).encode("utf-8", "replace")
        for start in range(0, len(text), 60_000):  # a side-band packet carries < 64 KiB
            self.proto.write_sideband(SIDE_BAND_CHANNEL_PROGRESS, text[start : start + 60_000])

    def _on_post_receive(self, client_refs: list[tuple[ObjectID, ObjectID, Ref]]) -> None:
        self.updated = [RefUpdate(r.decode(), o.decode(), n.decode()) for o, n, r in client_refs]
        super()._on_post_receive(client_refs)


class _ChunkedWriter:
    """Gathers small writes into chunks of ``CHUNK_SIZE`` for ``emit``."""

    def __init__(self, emit: Callable[[bytes], None]) -> None:
        self._emit = emit
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK_SIZE:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            chunk, self._buffer = bytes(self._buffer), bytearray()
            self._emit(chunk)


def serve(
    repo: Repo,
    service: str,
    *,
    advertise: bool,
    read: Callable[[int], bytes],
    emit: Callable[[bytes], None],
    check: CheckCommit | None = None,
) -> list[RefUpdate]:
    """Run ``service`` on ``repo``; the refs a push updated (empty for anything else).

    ``advertise`` answers ``GET info/refs``: the ref advertisement, preceded by the
    ``# service=`` line smart HTTP requires. Otherwise the request body is read with
    ``read(n)`` (up to ``n`` bytes, ``b""`` at its end) and the result goes to ``emit``.
    ``check`` vets the commit a push moves the deploy branch to (see ``_ReceivePack``).
    """
    writer = _ChunkedWriter(emit)
    proto = ReceivableProtocol(read, writer.write)
    repos: dict[str, BackendRepo] = {"/": repo}  # dict is invariant: name the value type
    backend = DictBackend(repos)
    handler: UploadPackHandler | _ReceivePack
    if service == "git-receive-pack":
        handler = _ReceivePack(
            backend, ["/"], proto, check=check, stateless_rpc=True, advertise_refs=advertise
        )
    else:
        handler = UploadPackHandler(
            backend, ["/"], proto, stateless_rpc=True, advertise_refs=advertise
        )
    if advertise:
        proto.write_pkt_line(f"# service={service}\n".encode("ascii"))
        proto.write_pkt_line(None)
    handler.handle()
    writer.flush()
    return handler.updated if isinstance(handler, _ReceivePack) else []

"""One ``flowapp up`` per data directory, and a listening port that a crash does not hold.

Two servers on one data directory would both recover the same executions, write the same
SQLite file and the same revision folders. The first holds an exclusive ``flock`` on
``<data>/flowapp.lock`` and writes its pid and address there; a second is refused with
both. The kernel releases the lock when the process ends in any way (SIGKILL included),
so a restart after a crash is never refused by a stale lock file.

The listening socket is bound before the platform starts, with ``SO_REUSEADDR``: after a
crash the kernel keeps the old connections of the port in ``TIME_WAIT`` / ``FIN_WAIT2``
for up to a minute, and without that option a new bind fails with "address in use"
until they are gone. (The option never lets two servers listen on one port.) Binding
first also means the port is checked once, by the socket that then serves.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = "flowapp.lock"


class DataDirInUse(Exception):
    def __init__(self, data_dir: Path, holder: dict[str, object]) -> None:
        pid = holder.get("pid", "unknown")
        address = holder.get("address", "an unknown address")
        super().__init__(
            f"another flowapp (pid {pid}, serving {address}) is using the data directory {data_dir}"
        )
        self.holder = holder


class PortInUse(Exception):
    pass


@contextlib.contextmanager
def holding(data_dir: Path, *, address: str) -> Iterator[None]:
    """Hold the data directory for this process while the block runs; raises
    ``DataDirInUse`` (with the holder's pid and address) if another process holds it."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataDirInUse(data_dir, _holder(path)) from None
        record = {"pid": os.getpid(), "address": address, "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(path: Path) -> dict[str, object]:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEADDR`` (not listening yet: the
    server starts listening once the platform is up). ``PortInUse`` if another socket
    listens there."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said out loud: asyncio switches Nagle's algorithm off (TCP_NODELAY) only
    # on sockets whose protocol is TCP, and connections inherit the listener's. With it
    # on, a keep-alive client waited ~40 ms (the peer's delayed ACK) for every answer.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(f"port {port} on {host} is in use ({exc.strerror})") from None
    return sock

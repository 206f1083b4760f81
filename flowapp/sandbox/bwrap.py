"""The bubblewrap command line that confines one process.

What the process sees (everything else of the host's file system is absent):

- read-only: ``/usr`` (with ``/bin``, ``/lib``... as on the host: links into ``/usr`` or
  read-only binds), the few entries of ``/etc`` that name resolution, TLS, the dynamic
  loader and the JDK read (:data:`ETC_FILES`; not the rest: ``/etc`` holds services'
  credentials on many hosts), and the folders the caller names (the interpreter's
  installation, flowapp's own package, the function's folder);
- read-write: the folders the caller names writable (a function folder while its
  dependencies are installed), and a private ``/tmp`` (tmpfs, size-limited, also
  ``HOME`` and ``TMPDIR``);
- its own ``/proc`` (new PID namespace: it sees only its own processes), a minimal
  ``/dev``; its own IPC and UTS namespaces.

If the data directory lies inside one of the folders made visible, it is hidden under an
empty tmpfs, then the folders below it that the process needs are bound again on top.

Running as root, bwrap is "privileged" and needs no user namespace; it keeps only
``CAP_SETUID`` and ``CAP_SETGID`` for ``setpriv``, which switches to the app's user, clears
supplementary groups, the capability bounding set and inheritable capabilities, and sets
``no_new_privs`` before running the code. The code thus runs as an unprivileged user of
the host (not one mapped back to root). Not running as root, bwrap creates a user
namespace and the code keeps the server's user (see ``sandbox.py``).

The network namespace is shared on purpose: a function serves HTTP to the supervisor on
127.0.0.1. Outbound traffic is not confined here.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from flowapp.sandbox.identity import AppUser

ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "/etc/alternatives",  # /usr/bin/java and friends are links through it
    "/etc/ca-certificates",
    "/etc/gai.conf",
    "/etc/host.conf",
    "/etc/hosts",
    "/etc/java-*",  # Debian's JDKs keep their configuration (java.security) here
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/resolv.conf",
    "/etc/ssl",
)


@dataclass(frozen=True, slots=True)
class Confinement:
    """What one process may see, besides the system folders."""

    readable: tuple[Path, ...] = ()
    writable: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()  # never visible, even inside a readable folder
    cwd: Path = Path("/tmp")
    tmp_bytes: int = 256 << 20


def bwrap_argv(
    bwrap: str,
    confinement: Confinement,
    command: Sequence[str],
    *,
    user: AppUser | None,
    setpriv: str = "/usr/bin/setpriv",
) -> list[str]:
    """``bwrap ... -- [setpriv ...] command``; ``user`` None keeps the caller's user (in a
    user namespace)."""
    argv = [bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    argv += ["--unshare-cgroup-try", "--hostname", "sandbox"]
    if user is None:
        argv += ["--unshare-user", "--disable-userns"]
    argv += ["--ro-bind", "/usr", "/usr", *_root_links()]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--perms", "1777", "--size", str(confinement.tmp_bytes), "--tmpfs", "/tmp"]
    argv += ["--perms", "0755", "--dir", "/var", "--symlink", "../tmp", "/var/tmp"]
    made: set[Path] = {Path("/"), Path("/tmp"), Path("/usr"), Path("/var")}
    for etc in sorted(path for pattern in ETC_FILES for path in glob.glob(pattern)):
        argv += [*_parents(Path(etc), made), "--ro-bind", etc, etc]
    wanted = [(path, "--ro-bind") for path in confinement.readable]
    wanted += [(path, "--bind") for path in confinement.writable]
    wanted = [(path, how) for path, how in wanted if not _under(path, Path("/usr"))]
    outer = _outermost(path for path, how in wanted if how == "--ro-bind")
    binds = [(path, how) for path, how in wanted if how == "--bind" or path in outer]
    for path, how in binds:
        argv += [*_parents(path, made), how, str(path), str(path)]
    for hidden in confinement.hidden:
        if any(_under(hidden, path) for path, _ in binds):
            argv += [*_parents(hidden, made), "--tmpfs", str(hidden)]
            inside = {hidden, *hidden.parents}  # the tmpfs is empty: parents made anew
            for path, how in wanted:  # what was inside it and is meant to be seen
                if _under(path, hidden) and path != hidden:
                    argv += [*_parents(path, inside), how, str(path), str(path)]
    argv += ["--chdir", str(confinement.cwd), "--"]
    if user is None:
        return [*argv, *command]
    argv[1:1] = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    drop = [setpriv, f"--reuid={user.uid}", f"--regid={user.gid}", "--clear-groups"]
    drop += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return [*argv, *drop, *command]


def _root_links() -> list[str]:
    """``/bin`` and friends as on the host: merged-/usr links, or read-only binds."""
    args: list[str] = []
    for name in ROOT_LINKS:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", str(path.readlink()), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    return args


def _parents(path: Path, made: set[Path]) -> list[str]:
    """Create the missing parents of ``path`` world-traversable (bwrap would make them
    0700, closed to the unprivileged user the code runs as)."""
    args: list[str] = []
    for parent in reversed(path.parents):
        if parent not in made:
            made.add(parent)
            args += ["--perms", "0755", "--dir", str(parent)]
    made.add(path)
    return args


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """The paths, without those inside another one of them (bound with it already)."""
    unique = sorted(set(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in unique:
        if not any(_under(path, outer) for outer in kept):
            kept.append(path)
    return kept


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents

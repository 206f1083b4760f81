"""Resource limits of a sandboxed process, and how to tell that one stopped it.

Limits are POSIX resource limits (``setrlimit``), set in the child before it executes
anything, so they hold through bubblewrap, ``setpriv`` and whatever the code starts:

- CPU: ``RLIMIT_CPU``, seconds of CPU time per process. At the soft limit the kernel sends
  ``SIGXCPU`` (the Python and Node.js hosts treat it as SIGTERM: they finish the calls in
  flight and exit, and the supervisor starts a fresh instance); five seconds later,
  ``SIGKILL``. For a function instance the budget covers its whole life, not one call
  (a call is bounded by its ``timeout``).
- memory: ``RLIMIT_DATA``, the process's heap and private writable mappings. Unlike
  ``RLIMIT_AS`` it does not count address space that is only reserved, which Node.js
  and the JVM reserve by the gigabyte; past it an allocation fails (``MemoryError``,
  "JavaScript heap out of memory").
- processes: ``RLIMIT_NPROC``, processes *and threads* of one user at once. Every app
  has its own user in the sandbox, so this is a budget per app, shared by its function
  instances and its ``run`` processes; a fork bomb stops at it.
- open files: ``RLIMIT_NOFILE``; core dumps: none.

Output (``run`` processes' stdout and stderr) and the private ``/tmp`` (a tmpfs) are
bounded by the caller and by bubblewrap, from the same :class:`Limits`.

cgroups would account memory and processes more exactly, but they are not always
delegated to a service (containers, cgroup v1 hosts like the one these numbers were
measured on); resource limits work everywhere Linux does.
"""

from __future__ import annotations

import resource
import signal
from dataclasses import dataclass

MiB = 1 << 20
_CPU_GRACE = 5  # seconds between SIGXCPU and SIGKILL
# What a program prints when an allocation or a fork failed: how a limit shows.
_OUT_OF_MEMORY = (
    "MemoryError",
    "Cannot allocate memory",
    "out of memory",
    "bad_alloc",
    "OutOfMemoryError",
    "memory exhausted",
)
_NO_MORE_PROCESSES = (
    "Cannot fork",
    "can't fork",
    "fork: Resource temporarily unavailable",
    "fork: retry",
    "Resource temporarily unavailable",
    "can't start new thread",
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-process limits (per-app for ``processes``). Sizes are bytes."""

    cpu_seconds: int = 600
    memory_bytes: int = 1024 * MiB
    processes: int = 1024
    open_files: int = 1024
    output_bytes: int = 1 * MiB
    tmp_bytes: int = 256 * MiB

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            if getattr(self, name) < 1:
                raise ValueError(f"sandbox limit {name} must be at least 1")

    def describe(self) -> str:
        return (
            f"CPU {self.cpu_seconds} s per process, memory {self.memory_bytes // MiB} MiB, "
            f"{self.processes} processes per app, output {self.output_bytes // 1024} KiB, "
            f"/tmp {self.tmp_bytes // MiB} MiB"
        )


def apply(limits: Limits, *, count_processes: bool) -> None:
    """In the child, before ``exec``. ``count_processes`` is false when the process keeps
    the server's own user, whose other processes the count would include."""
    cpu = limits.cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + _CPU_GRACE))
    resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if count_processes:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


def stopped_by(returncode: int | None, output: str, limits: Limits) -> str | None:
    """Which limit most likely stopped a process that ended with ``returncode`` after
    printing ``output`` (its stderr); None when nothing says a limit did.

    A signal is certain (only the CPU limit sends SIGXCPU); memory and process counts
    show only as failed allocations and forks, recognised by what programs print.
    """
    if returncode is None or returncode == 0:
        return None
    if returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return f"its CPU time limit ({limits.cpu_seconds} s)"
    if returncode in (-signal.SIGKILL, 128 + signal.SIGKILL):  # SIGXCPU was ignored
        hard = limits.cpu_seconds + _CPU_GRACE
        return f"SIGKILL, at its hard CPU time limit ({hard} s) unless the host ran out of memory"
    if any(marker in output for marker in _OUT_OF_MEMORY):
        return f"its memory limit ({limits.memory_bytes // MiB} MiB)"
    if any(marker in output for marker in _NO_MORE_PROCESSES):
        return f"its process limit ({limits.processes} processes and threads per app)"
    return None


_SIZES = {
    "": 1,
    "k": 1 << 10,
    "m": 1 << 20,
    "g": 1 << 30,
    "ki": 1 << 10,
    "mi": 1 << 20,
    "gi": 1 << 30,
}
_KEYS = {
    "cpu": "cpu_seconds",
    "memory": "memory_bytes",
    "processes": "processes",
    "files": "open_files",
    "output": "output_bytes",
    "tmp": "tmp_bytes",
}


def parse_limits(text: str, base: Limits | None = None) -> Limits:
    """``cpu=60,memory=512M,processes=256,files=1024,output=1M,tmp=256M`` over ``base``
    (sizes take K, M, G or Ki, Mi, Gi; bare numbers are bytes). ``ValueError`` says what
    is wrong."""
    values: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        field = _KEYS.get(key.strip())
        if not sep or field is None:
            raise ValueError(f"`{item}`: expected KEY=VALUE with KEY one of {', '.join(_KEYS)}")
        values[field] = _number(value.strip(), sized=field.endswith("_bytes"), item=item)
    base = base or Limits()
    return Limits(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **values})


def _number(value: str, *, sized: bool, item: str) -> int:
    digits = value.rstrip("kKmMgGiI")
    unit = value[len(digits) :].lower()
    if not digits.isdigit() or (unit and not sized) or unit not in _SIZES:
        raise ValueError(f"`{item}`: {value!r} is not a {'size' if sized else 'whole number'}")
    return int(digits) * _SIZES[unit]

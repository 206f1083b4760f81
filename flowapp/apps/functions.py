"""``spec.functions``: each entry checked with a pointer per key, then a ``FunctionSpec``.

``FunctionSpec.from_resource`` (``flowapp.functions.spec``) is the one reader of an entry;
it raises a bare ``ValueError`` on the first mistake. Here every key is checked first, so a
user sees every mistake at once with its JSON pointer (``/spec/functions/append/scale/max``),
and the folder is checked against the project on disk: it must exist, stay inside the
project, and hold the entry point its runtime loads (``main.py``, ``index.js``, ``main.go``,
``src/main/java``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowapp.apps.keys import Keys
from flowapp.apps.names import function_name_problem
from flowapp.apps.project import OutsideProject, ProjectFiles, project_path
from flowapp.dsl.problems import Problem, join_pointer
from flowapp.functions.spec import RUNTIMES, FunctionSpec, ScaleSpec

POINTER = "/spec/functions"
ENTRY_POINTS = {"python": "main.py", "node": "index.js", "go": "main.go", "java": "src/main/java"}
_CONTRACTS = {
    "python": "a python function is `def handle(data, context)` in main.py",
    "node": "a node function exports `handle(data, context)` from index.js",
    "go": "a go function is `func Handle(ctx flowapp.Context, data any) (any, error)` in main.go",
    "java": "a java function is a class implementing dev.flowapp.Handler in src/main/java",
}
DURATION_KEYS = ("timeout", "idlePeriod", "startupTimeout")
# (lowest, highest) of each ``scale`` key; ``min`` must also not exceed ``max``.
SCALE_BOUNDS = {"min": (0, 1000), "max": (1, 1000), "concurrency": (1, 10_000)}


def read_functions(
    value: Any, project: ProjectFiles | None, problems: list[Problem]
) -> dict[str, FunctionSpec]:
    """The valid entries of ``spec.functions``; a problem for every mistake in the others.

    ``project`` None means there is no project folder (a FlowApp on Kubernetes, where each
    function is a container image), so folders are not checked."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Problem(POINTER, "must be a mapping of function names to settings"))
        return {}
    specs: dict[str, FunctionSpec] = {}
    for name, entry in value.items():
        spec = read_function(name, entry, project, problems)
        if spec is not None:
            specs[name] = spec
    return specs


def read_function(
    name: str, entry: Any, project: ProjectFiles | None, problems: list[Problem]
) -> FunctionSpec | None:
    """One entry as a ``FunctionSpec``, or None after recording its problems."""
    pointer = join_pointer(POINTER, name)
    found: list[Problem] = []
    if (message := function_name_problem(name)) is not None:
        found.append(Problem(pointer, message))
    keys = Keys(entry, pointer, found)
    runtime = keys.choice("runtime", RUNTIMES, default="python")
    path = keys.optional("path") or default_folder(name)
    # The folder is worth checking only under a valid name, runtime and path.
    check_folder = not found and isinstance(entry, dict)
    if keys.optional("command") is None and runtime == "command":
        keys.problem(None, "runtime `command` needs a `command`: the program that serves it")
    # The container image that serves the function on Kubernetes; locally the folder runs.
    keys.optional("image")
    _check_env(keys, found)
    _check_scale(keys.mapping("scale"))
    for key in DURATION_KEYS:
        keys.duration(key)
    keys.finish()
    if check_folder and project is not None:
        where = join_pointer(pointer, "path") if keys.has("path") else pointer
        found += _folder_problems(project, path, runtime, where)
    problems += found
    base_dir = project.root if project is not None else Path(".")
    return None if found else _spec(name, entry, base_dir, pointer, problems)


def default_folder(name: str) -> str:
    return f"functions/{name}"


def function_folder(name: str, entry: Any) -> str:
    """The folder of a valid ``spec.functions`` entry, relative to the project."""
    path = entry.get("path") if isinstance(entry, dict) else None
    return project_path(path if isinstance(path, str) else default_folder(name))


def _spec(
    name: str, entry: dict[str, Any], base_dir: Path, pointer: str, problems: list[Problem]
) -> FunctionSpec | None:
    try:
        return FunctionSpec.from_resource(name, entry, base_dir=base_dir)
    except (ValueError, TypeError) as exc:  # a rule only FunctionSpec knows
        problems.append(Problem(pointer, str(exc)))
        return None


def _check_env(keys: Keys, problems: list[Problem]) -> None:
    env = keys.raw("env")
    if env is None:
        return
    if not isinstance(env, dict):
        keys.problem("env", "`env` must be a mapping of variable names to values")
        return
    for key, value in env.items():
        if isinstance(value, dict | list) or value is None:
            message = f"environment variable `{key}` must be a string, number or boolean"
            problems.append(Problem(join_pointer(keys.pointer, "env", key), message))


def _check_scale(scale: Keys | None) -> None:
    if scale is None:
        return
    defaults = ScaleSpec()
    low = scale.integer("min", default=defaults.min, minimum=0, maximum=SCALE_BOUNDS["min"][1])
    high = scale.integer("max", default=defaults.max, minimum=1, maximum=SCALE_BOUNDS["max"][1])
    low_c, high_c = SCALE_BOUNDS["concurrency"]
    scale.integer("concurrency", default=defaults.concurrency, minimum=low_c, maximum=high_c)
    if low > high:
        written = "" if scale.has("max") else ", the default"
        scale.problem("min", f"`min` ({low}) must not exceed `max` ({high}{written})")
    scale.finish()


def _folder_problems(project: ProjectFiles, path: str, runtime: str, pointer: str) -> list[Problem]:
    try:
        if not project.is_dir(path):
            return [Problem(pointer, f"folder {path} does not exist")]
        entry_point = ENTRY_POINTS.get(runtime)
        is_there = project.is_dir if runtime == "java" else project.is_file
        if entry_point is not None and not is_there(f"{path}/{entry_point}"):
            message = f"folder {path} has no {entry_point}: {_CONTRACTS[runtime]}"
            return [Problem(pointer, message)]
    except OutsideProject as exc:
        return [Problem(pointer, f"folder {exc}")]
    return []

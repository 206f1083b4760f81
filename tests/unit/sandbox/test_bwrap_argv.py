"""The bubblewrap command line: what is bound, hidden, created, and who runs the code."""

from __future__ import annotations

from pathlib import Path

from flowapp.sandbox.bwrap import Confinement, bwrap_argv
from flowapp.sandbox.identity import AppUser

USER = AppUser(1_800_000_007, 1_800_000_007)


def triples(argv: list[str], option: str) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, arg in enumerate(argv) if arg == option]


def made_dirs(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "--dir"]


def test_the_code_runs_after_setpriv_drops_to_the_apps_user() -> None:
    argv = bwrap_argv("/usr/bin/bwrap", Confinement(), ["python", "-c", "1"], user=USER)
    code = argv[argv.index("--") + 1 :]
    assert code[:2] == ["/usr/bin/setpriv", f"--reuid={USER.uid}"]
    assert {"--clear-groups", "--no-new-privs", "--bounding-set=-all"} <= set(code)
    assert code[-3:] == ["python", "-c", "1"]
    assert argv[1:5] == ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    assert "--unshare-user" not in argv and "--unshare-net" not in argv
    assert {"--unshare-pid", "--die-with-parent", "--unshare-ipc"} <= set(argv)


def test_without_root_the_code_keeps_the_callers_user_in_a_user_namespace() -> None:
    argv = bwrap_argv("bwrap", Confinement(), ["true"], user=None)
    assert argv[argv.index("--") + 1 :] == ["true"]
    assert {"--unshare-user", "--disable-userns"} <= set(argv)
    assert "--cap-add" not in argv


def test_folders_are_bound_at_their_own_path_with_traversable_parents() -> None:
    folder = Path("/srv/data/revisions/r1/functions/f")
    confinement = Confinement(
        readable=(Path("/opt/python"), Path("/opt/python/lib"), Path("/usr/lib/x")),
        writable=(folder,),
        cwd=folder,
    )
    argv = bwrap_argv("bwrap", confinement, ["true"], user=USER)

    assert triples(argv, "--ro-bind")[-1] == ("/opt/python", "/opt/python")  # inner one merged
    assert ("/usr/lib/x", "/usr/lib/x") not in triples(argv, "--ro-bind")  # /usr is bound
    assert triples(argv, "--bind") == [(str(folder), str(folder))]
    assert "/srv/data/revisions/r1/functions" in made_dirs(argv)
    for parent in made_dirs(argv):
        assert argv[argv.index(parent) - 3 : argv.index(parent) - 1] == ["--perms", "0755"]
    assert argv[argv.index("--chdir") + 1] == str(folder)


def test_the_data_directory_inside_a_readable_folder_is_hidden_but_the_own_folder_is_not() -> None:
    project = Path("/home/dev/project")
    data = project / ".flowapp"
    own = data / "revisions" / "r1" / "functions" / "f"
    confinement = Confinement(readable=(project, own), hidden=(data,))
    argv = bwrap_argv("bwrap", confinement, ["true"], user=USER)

    hidden_at = argv.index(str(data), argv.index("--tmpfs", argv.index("/tmp") + 1))
    rebound = [i for i, arg in enumerate(argv) if arg == str(own) and argv[i - 1] == "--ro-bind"]
    assert rebound and rebound[-1] > hidden_at  # bound again on top of the empty tmpfs


def test_a_data_directory_outside_every_bound_folder_needs_no_hiding() -> None:
    confinement = Confinement(readable=(Path("/opt/python"),), hidden=(Path("/var/lib/flowapp"),))
    argv = bwrap_argv("bwrap", confinement, ["true"], user=USER)
    assert "/var/lib/flowapp" not in argv


def test_tmp_is_private_world_writable_and_bounded() -> None:
    argv = bwrap_argv("bwrap", Confinement(tmp_bytes=1 << 20), ["true"], user=USER)
    at = argv.index("/tmp")
    assert argv[at - 5 : at] == ["--perms", "1777", "--size", str(1 << 20), "--tmpfs"]

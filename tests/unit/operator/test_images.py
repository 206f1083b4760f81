"""``flowapp k8s images``: a Dockerfile per function with its language host, and image names
that change with the function's code and nothing else."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from flowapp.apps.loader import load_app
from flowapp.functions.build import find_go
from flowapp.operator.images import function_images
from tests.cli import run_flowapp

ROOT = Path(__file__).resolve().parents[3]
FANOUT = ROOT / "tests" / "fixtures" / "k8s" / "pure-fanout"
POLYGLOT = ROOT / "examples" / "append-display-polyglot"
needs_java = pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK")
needs_go = pytest.mark.skipif(find_go() is None, reason="needs go")


def flowapp(*args: str) -> subprocess.CompletedProcess[str]:
    return run_flowapp(*args)


def test_images_writes_a_dockerfile_per_runtime_and_prints_the_names_render_uses(
    tmp_path: Path,
) -> None:
    project = tmp_path / "notify"
    shutil.copytree(FANOUT, project)
    result = flowapp("k8s", "images", str(project), "--image-prefix", "reg.example/shop/")
    assert result.returncode == 0, result.stderr
    printed = dict(line.split("\t")[:2] for line in result.stdout.splitlines())
    assert set(printed) == {"enrich", "email", "sms", "audit", "archive"}
    assert printed["sms"].startswith("reg.example/shop/notify-sms:")
    images = project / "k8s" / "images"
    python = (images / "email" / "Dockerfile").read_text()
    assert "flowapp.functions.host" in python and "COPY functions/email/ /function/" in python
    node = (images / "sms" / "Dockerfile").read_text()
    assert 'CMD ["node", "/flowapp/host.js", "--path", "/function"]' in node
    assert (images / "sms" / "host.js").read_bytes() == (
        ROOT / "flowapp" / "functions" / "node" / "host.js"
    ).read_bytes()
    command = (images / "archive" / "Dockerfile").read_text()
    assert 'CMD ["./archive", "--serve"]' in command
    rendered = flowapp("k8s", "render", str(project), "--image-prefix", "reg.example/shop/")
    assert rendered.returncode == 0, rendered.stderr
    used = {
        obj["metadata"]["name"]: obj["spec"]["template"]["spec"]["containers"][0]["image"]
        for obj in yaml.safe_load_all(rendered.stdout)
        if obj["kind"] == "Service" and obj["apiVersion"].startswith("serving")
    }
    assert used == {f"notify-{name}": image for name, image in printed.items()}


def test_an_image_tag_changes_with_the_function_code_only(tmp_path: Path) -> None:
    project = tmp_path / "notify"
    shutil.copytree(FANOUT, project)
    before = function_images(load_app(project), "r/")
    (project / "functions" / "sms" / "index.js").write_text("exports.handle = async () => 1;\n")
    (project / "functions" / "email" / "__pycache__").mkdir()
    (project / "functions" / "email" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    after = function_images(load_app(project), "r/")
    assert [name for name in before if before[name] != after[name]] == ["sms"]


def test_render_without_images_says_which_function_lacks_one() -> None:
    result = flowapp("k8s", "render", str(FANOUT))
    assert result.returncode == 2
    assert "no image for function(s) archive, audit, email, enrich, sms" in result.stderr
    assert result.stdout == ""


def test_render_explain_names_the_mode_and_its_reasons() -> None:
    result = flowapp(
        "k8s",
        "render",
        str(ROOT / "examples" / "append-display"),
        "--image-prefix",
        "r/",
        "--explain",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == "append-display: mode engine"
    assert "trigger `api` (http) is a webhook served by the engine" in result.stderr
    kinds = [obj["kind"] for obj in yaml.safe_load_all(result.stdout)]
    assert kinds.count("Service") == 3 and "PingSource" in kinds


def test_the_engine_image_is_the_one_the_engine_and_the_operator_run() -> None:
    result = flowapp("k8s", "engine-image", "--image-prefix", "reg.example/team/")
    assert result.returncode == 0, result.stderr
    dockerfile = result.stdout
    assert 'ENTRYPOINT ["flowapp"]' in dockerfile
    assert "USER 10001" in dockerfile  # numeric: the manifests say runAsNonRoot
    name = result.stderr.strip().removeprefix("image: ")
    rendered = flowapp(
        "k8s",
        "render",
        str(ROOT / "examples" / "append-display"),
        "--image-prefix",
        "reg.example/team/",
    )
    manifests = flowapp("k8s", "operator-manifests", "--image-prefix", "reg.example/team/")
    engine = next(o for o in yaml.safe_load_all(rendered.stdout) if o["kind"] == "Deployment")
    operator = next(o for o in yaml.safe_load_all(manifests.stdout) if o["kind"] == "Deployment")
    for deployment in (engine, operator):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == name
        assert container["securityContext"]["runAsNonRoot"] is True


def build_step(dockerfile: str) -> str:
    """The build stage's RUN that compiles the function, as one shell command."""
    lines = dockerfile.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("COPY k8s/images/")) + 2
    command = []
    for line in lines[start:]:
        command.append(line.removeprefix("RUN ").rstrip("\\"))
        if not line.endswith("\\"):
            break
    return " ".join(command)


@pytest.mark.parametrize(
    ("runtime", "function", "built"),
    [
        pytest.param("java", "display", "classes/Display.class", marks=needs_java),
        pytest.param("go", "append", "function", marks=needs_go),
    ],
)
@pytest.mark.parametrize("own_host", [True, False], ids=["own-host", "flowapp-host"])
@pytest.mark.timeout(600)  # a first Go build with an empty cache compiles std packages
def test_the_java_and_go_dockerfiles_build_steps_compile_the_function(
    tmp_path: Path, runtime: str, function: str, built: str, own_host: bool
) -> None:
    project = tmp_path / "polyglot"
    shutil.copytree(POLYGLOT, project, ignore=shutil.ignore_patterns("target"))
    if not own_host:  # a folder without the host: the image's copy is used
        shutil.rmtree(project / "functions" / "append" / "flowapp")
        (project / "functions" / "append" / "serve.go").unlink()
        shutil.rmtree(project / "functions" / "display" / "src" / "main" / "java" / "dev")
    result = flowapp("k8s", "images", str(project), "--image-prefix", "reg.example/")
    assert result.returncode == 0, result.stderr
    here = project / "k8s" / "images" / function
    dockerfile = (here / "Dockerfile").read_text()
    assert "GOPROXY=off" in dockerfile if runtime == "go" else "javac" in dockerfile

    step = build_step(dockerfile)
    out = tmp_path / "out"
    step = step.replace("/flowapp-host", str(here / "host")).replace("/out/", f"{out}/")
    go = find_go()
    path = f"{Path(go).parent}:{os.environ['PATH']}" if go else os.environ["PATH"]
    done = subprocess.run(
        ["sh", "-c", step],
        cwd=project / "functions" / function,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / built).is_file()
    if runtime == "java":  # the runtime stage's rehearsal writes the class data archive
        rehearse_in_runtime_stage(dockerfile, out)


def rehearse_in_runtime_stage(dockerfile: str, out: Path) -> None:
    """The runtime stage's RUN (the class data archive) on /out as its /function."""
    lines = dockerfile.splitlines()
    classpath = next(line for line in lines if line.startswith("ENV CLASSPATH="))
    start = next(i for i, line in enumerate(lines) if "-XX:ArchiveClassesAtExit" in line)
    step = " ".join(line.removeprefix("RUN ").rstrip("\\") for line in lines[start : start + 2])
    step = step.split(" || ")[0]  # here a failed rehearsal must fail the test
    env = {**os.environ, "CLASSPATH": classpath.removeprefix("ENV CLASSPATH=")}
    env["CLASSPATH"] = env["CLASSPATH"].replace("/function/", f"{out}/")
    (out / "lib").mkdir(exist_ok=True)
    done = subprocess.run(
        ["sh", "-c", step.replace("/function/", f"{out}/")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / "app.jsa").is_file()
    command = next(line for line in lines if line.startswith("CMD ["))
    assert "-XX:SharedArchiveFile=/function/app.jsa" in command

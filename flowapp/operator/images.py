"""Container images for a FlowApp's functions: their names, and the Dockerfiles that build them.

flowapp builds and pushes nothing; ``flowapp k8s images DIR`` writes what a build needs
and prints the names ``flowapp k8s render`` expects, so that::

    flowapp k8s images shop --image-prefix registry.example/shop/
    docker build -f shop/k8s/images/append/Dockerfile -t <printed name> shop && docker push ...
    flowapp k8s render shop --image-prefix registry.example/shop/ | kubectl apply -f -

An image is named ``<prefix><app>-<function>:<tag>``, the tag being the first 12 hex digits
of a digest of the function's folder (the files a revision is made of, as in the app's
digest), its runtime and command: new code, new tag, new Knative revision; the same code,
the same name, nothing to roll. Each Dockerfile packages the function with the language
host that serves it locally, listening on ``$PORT`` as Knative requires:

- python: the ``flowapp`` package (its host, ``python -m flowapp.functions.host``) and
  the folder's ``requirements.txt``;
- node: Node.js 20, the folder's ``package.json`` dependencies, and flowapp's ``host.js``
  (copied next to the Dockerfile, since the build context is the project);
- java: built with Debian's JDK 17 and Jackson jars (as ``flowapp up`` builds it, class
  data sharing archive included), run by the JRE with flowapp's host
  (``dev.flowapp.Host``; its sources are copied next to the Dockerfile for a folder that
  carries none);
- go: built by the Go image with no module proxy, the static binary alone in a distroless
  image (flowapp's host package and ``serve.go`` copied next to the Dockerfile, used
  when the folder lacks them);
- command: the folder, run by its ``command`` on a base image given as ``BASE_IMAGE``.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from pathlib import Path

from flowapp import __version__
from flowapp.apps.model import FlowApp
from flowapp.apps.project import FolderProject
from flowapp.apps.scaffold import host_files
from flowapp.functions.spec import FunctionSpec
from flowapp.operator import names

NODE_HOST = Path(__file__).resolve().parents[1] / "functions" / "node" / "host.js"
IMAGES_DIR = Path("k8s") / "images"


@dataclass(frozen=True)
class FunctionImage:
    function: str
    name: str
    dockerfile: str
    extra_files: dict[str, bytes]


def function_tag(spec: FunctionSpec) -> str:
    sha = hashlib.sha256(f"{spec.runtime}\0{spec.command or ''}\0".encode())
    for relative, data in FolderProject(spec.path).files_under("."):
        sha.update(relative.encode() + b"\0")
        sha.update(hashlib.sha256(data).digest())
    return sha.hexdigest()[:12]


def image_name(prefix: str, app: str, spec: FunctionSpec) -> str:
    return f"{prefix}{names.object_name(app, spec.name)}:{function_tag(spec)}"


def function_images(app: FlowApp, prefix: str) -> dict[str, str]:
    """The image of every function: ``spec.functions.<name>.image`` if the resource names
    one, else the name ``flowapp k8s images`` gives it under ``prefix`` (none without one)."""
    declared = (app.resource.get("spec") or {}).get("functions") or {}
    images = {}
    for name, spec in app.functions.items():
        image = (declared.get(name) or {}).get("image")
        if image:
            images[name] = image
        elif prefix:
            images[name] = image_name(prefix, app.name, spec)
    return images


def build_recipes(app: FlowApp, prefix: str) -> list[FunctionImage]:
    images = function_images(app, prefix)
    recipes = []
    for name, spec in sorted(app.functions.items()):
        folder = spec.path.resolve().relative_to(app.base_dir.resolve()).as_posix()
        extra = _extra_files(spec)
        dockerfile = DOCKERFILES[spec.runtime](app.name, spec, folder)
        recipes.append(FunctionImage(name, images.get(name, ""), dockerfile, extra))
    return recipes


def _extra_files(spec: FunctionSpec) -> dict[str, bytes]:
    """Files of flowapp's hosts the image's build copies from next to its Dockerfile."""
    if spec.runtime == "node":
        return {"host.js": NODE_HOST.read_bytes()}
    if spec.runtime in ("java", "go"):
        files = host_files(spec.runtime, _go_module(spec.path) if spec.runtime == "go" else "")
        return {f"host/{relative}": text.encode() for relative, text in files.items()}
    return {}


def _go_module(folder: Path) -> str:
    for line in (folder / "go.mod").read_text("utf-8", errors="replace").splitlines():
        words = line.split("//", 1)[0].split()
        if len(words) == 2 and words[0] == "module":
            return words[1].strip('"')
    return folder.name


def _environment(app: str, spec: FunctionSpec) -> str:
    return (
        f"ENV HOST=0.0.0.0 PORT=8080 FLOWAPP_APP={app} FLOWAPP_FUNCTION={spec.name} "
        "PYTHONUNBUFFERED=1"
    )


def _python(app: str, spec: FunctionSpec, folder: str) -> str:
    return f"""\
# The function `{spec.name}` of {app}, served by flowapp's Python host on $PORT.
# Build from the project folder: docker build -f {IMAGES_DIR}/{spec.name}/Dockerfile .
FROM python:3.11-slim
ARG FLOWAPP_PACKAGE=flowapp=={__version__}
RUN pip install --no-cache-dir "$FLOWAPP_PACKAGE"
WORKDIR /function
COPY {folder}/ /function/
RUN if [ -f requirements.txt ]; then pip install --no-cache-dir -r requirements.txt; fi
{_environment(app, spec)}
EXPOSE 8080
CMD ["python", "-m", "flowapp.functions.host", "--path", "/function"]
"""


def _node(app: str, spec: FunctionSpec, folder: str) -> str:
    return f"""\
# The function `{spec.name}` of {app}, served by flowapp's Node.js host on $PORT.
# Build from the project folder: docker build -f {IMAGES_DIR}/{spec.name}/Dockerfile .
FROM node:20-slim
WORKDIR /function
COPY {folder}/ /function/
RUN if [ -f package.json ]; then npm install --omit=dev --no-audit --no-fund; fi
COPY {IMAGES_DIR}/{spec.name}/host.js /flowapp/host.js
{_environment(app, spec)}
EXPOSE 8080
CMD ["node", "/flowapp/host.js", "--path", "/function"]
"""


JACKSON = ":".join(
    f"/usr/share/java/jackson-{part}.jar" for part in ("databind", "core", "annotations")
)


def _java(app: str, spec: FunctionSpec, folder: str) -> str:
    here = f"{IMAGES_DIR}/{spec.name}"
    return f"""\
# The function `{spec.name}` of {app}, served by flowapp's Java host on $PORT: compiled
# with javac against Debian's Jackson jars, as flowapp up compiles it.
# Build from the project folder: docker build -f {here}/Dockerfile .
FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \\
    openjdk-17-jdk-headless libjackson2-databind-java && rm -rf /var/lib/apt/lists/*
WORKDIR /function
COPY {folder}/ /function/
COPY {here}/host/ /flowapp-host/
# The folder's own dev/flowapp host if it carries one, else flowapp's.
RUN host=""; [ -d src/main/java/dev/flowapp ] || host=$(find /flowapp-host -name '*.java'); \\
    mkdir -p lib && javac -encoding UTF-8 -nowarn -d /out/classes \\
      -cp "{JACKSON}:$(find lib -name '*.jar' | tr '\\n' ':')" \\
      $(find src/main/java -name '*.java') $host && cp -r lib /out/lib && \\
    jar cf /out/function.jar -C /out/classes .

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \\
    openjdk-17-jre-headless libjackson2-databind-java && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /function/
WORKDIR /function
# The JVM reads its class path from CLASSPATH (a trailing /* takes every jar in lib/).
ENV CLASSPATH=/function/function.jar:{JACKSON}:/function/lib/*
# A rehearsal of the host's start writes the class data sharing archive every start
# loads its classes from (about half the JVM's start; no user code runs). Without it
# (-Xshare:auto) the function still starts.
RUN java -XX:ArchiveClassesAtExit=/function/app.jsa -XX:+UseSerialGC \\
    dev.flowapp.Host --classes /function/classes --train || echo "no class data archive"
{_environment(app, spec)}
USER 65532
EXPOSE 8080
CMD ["java", "-XX:+UseSerialGC", "-XX:SharedArchiveFile=/function/app.jsa", "-Xshare:auto", \\
     "dev.flowapp.Host", "--classes", "/function/classes"]
"""


def _go(app: str, spec: FunctionSpec, folder: str) -> str:
    here = f"{IMAGES_DIR}/{spec.name}"
    return f"""\
# The function `{spec.name}` of {app}, served by flowapp's Go host on $PORT: built with
# no module proxy (the host is the standard library only), the binary alone in the image.
# Build from the project folder: docker build -f {here}/Dockerfile .
FROM golang:1.22-bookworm AS build
WORKDIR /function
COPY {folder}/ /function/
COPY {here}/host/ /flowapp-host/
# The folder's own flowapp/ package and serve.go if it carries them, else flowapp's.
RUN [ -f flowapp/host.go ] || (mkdir -p flowapp && cp /flowapp-host/flowapp/*.go flowapp/); \\
    grep -qs 'func main()' *.go || cp /flowapp-host/serve.go .; \\
    CGO_ENABLED=0 GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local \\
      go build -trimpath -o /out/function .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/function /function
{_environment(app, spec)}
EXPOSE 8080
CMD ["/function"]
"""


def _command(app: str, spec: FunctionSpec, folder: str) -> str:
    argv = ", ".join(f'"{part}"' for part in shlex.split(spec.command or ""))
    return f"""\
# The function `{spec.name}` of {app}: its own program, serving flowapp's function
# contract (docs/functions.md) on $PORT. Choose the base image it needs with
# --build-arg BASE_IMAGE=...; build from the project folder:
# docker build -f {IMAGES_DIR}/{spec.name}/Dockerfile .
ARG BASE_IMAGE=python:3.11-slim
FROM $BASE_IMAGE
WORKDIR /function
COPY {folder}/ /function/
{_environment(app, spec)}
EXPOSE 8080
CMD [{argv}]
"""


DOCKERFILES = {"python": _python, "node": _node, "java": _java, "go": _go, "command": _command}
ENGINE_USER = 10001


def engine_dockerfile() -> str:
    """The image of flowapp itself: the engine Deployments (``flowapp cluster-engine``)
    and the operator (``flowapp operator``) run it, each with its own arguments. It runs
    as a numeric non-root user (the manifests say ``runAsNonRoot``) and writes only to
    ``/var/lib/flowapp`` (an ``emptyDir`` in the engine's pods)."""
    return f"""\
# flowapp {__version__}: the engine of every app (flowapp cluster-engine) and the
# FlowApp operator (flowapp operator). Build it anywhere (it copies nothing):
# docker build -f Dockerfile -t <the name flowapp k8s engine-image printed> .
FROM python:3.11-slim
ARG FLOWAPP_PACKAGE=flowapp=={__version__}
RUN pip install --no-cache-dir "$FLOWAPP_PACKAGE" \\
 && useradd --uid {ENGINE_USER} --no-create-home --shell /usr/sbin/nologin flowapp \\
 && mkdir -p /var/lib/flowapp && chown {ENGINE_USER} /var/lib/flowapp
ENV PYTHONUNBUFFERED=1
USER {ENGINE_USER}
EXPOSE 8080 8081
ENTRYPOINT ["flowapp"]
"""

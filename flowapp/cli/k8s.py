"""``flowapp k8s``: what an app becomes on Kubernetes + Knative, printed for ``kubectl``.

- ``crd``: the ``flowapps.flowapp.dev`` CustomResourceDefinition;
- ``render DIR``: every object the operator would create for the app (``--explain``
  says on stderr whether it runs on the engine or as a Knative Sequence, and why);
- ``resource DIR``: the app as a ``FlowApp`` object for the operator (workflow inline,
  images named, the environment's config merged);
- ``images DIR``: a Dockerfile per function under ``DIR/k8s/images/<function>/``, and the
  image names ``render`` expects;
- ``operator-manifests``: the operator's own ServiceAccount, RBAC and Deployment.

Output is multi-document YAML on stdout, ready for ``kubectl apply -f -``. A problem (an
invalid app, a function without image) is a message on stderr and exit status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # the rest is imported when a command runs (flowapp.cli.main)
    from flowapp.apps.model import FlowApp
    from flowapp.operator.target import Mode

k8s = typer.Typer(
    help="Kubernetes + Knative: the CRD, rendered objects, images.", no_args_is_help=True
)

Folder = Annotated[Path, typer.Argument(help="The project folder (or its flowapp.yaml).")]
Env = Annotated[
    str | None, typer.Option("--env", "-e", help="Merge config/ENV.yaml into the spec.")
]
Prefix = Annotated[
    str, typer.Option(help="Registry prefix of the images, e.g. registry.example/team/.")
]


def _say(message: str) -> None:
    typer.echo(message, err=True)


def print_documents(objects: list[dict[str, Any]]) -> None:
    from flowapp.operator.engine import dump_yaml

    typer.echo("---\n".join(dump_yaml(obj) for obj in objects), nl=False)


def _load(folder: Path, environment: str | None) -> FlowApp:
    from flowapp.apps import load_app
    from flowapp.dsl.problems import DefinitionError

    try:
        return load_app(folder, environment)
    except DefinitionError as error:
        for problem in error.problems:
            _say(str(problem))
        raise typer.Exit(2) from None


@k8s.command()
def crd() -> None:
    """Print the FlowApp CustomResourceDefinition."""
    from flowapp.operator.crd import flowapp_crd

    print_documents([flowapp_crd()])


@k8s.command("render")
def render_command(
    folder: Folder,
    environment: Env = None,
    namespace: Annotated[str | None, typer.Option(help="Namespace of every object.")] = None,
    image_prefix: Prefix = "",
    engine_image: Annotated[str | None, typer.Option(help="The engine's image.")] = None,
    replicas: Annotated[int, typer.Option(min=1, help="Engine replicas.")] = 2,
    database_secret: Annotated[
        str, typer.Option(help="Secret with the engine's PostgreSQL URL (key `url`).")
    ] = "flowapp-database",
    broker: Annotated[
        str | None, typer.Option(help="A shared Broker to use instead of one per app.")
    ] = None,
    mode: Annotated[str, typer.Option(help="auto, engine or flows.")] = "auto",
    explain: Annotated[bool, typer.Option(help="Say which mode the app gets and why.")] = False,
) -> None:
    """Print every object the operator would create for an app."""
    from flowapp.operator.images import function_images
    from flowapp.operator.render import render
    from flowapp.operator.target import Target

    if mode not in ("auto", "engine", "flows"):
        _say(f"--mode must be auto, engine or flows, not {mode!r}")
        raise typer.Exit(2)
    app = _load(folder, environment)
    target = Target(
        namespace=namespace,
        image_prefix=image_prefix,
        engine_image=engine_image,
        engine_replicas=replicas,
        database_secret=database_secret,
        broker=broker,
        mode=_mode(mode),
    )
    try:
        rendering = render(app, target, function_images(app, image_prefix))
    except ValueError as error:  # MissingImages, or a forced mode that does not fit
        _say(f"flowapp: {error}")
        raise typer.Exit(2) from None
    if explain:
        _say(f"{rendering.app}: mode {rendering.mode}")
        for reason in rendering.reasons:
            _say(f"  - {reason}")
    print_documents(rendering.objects)


def _mode(value: str) -> Mode:
    return "flows" if value == "flows" else "engine" if value == "engine" else "auto"


@k8s.command()
def resource(
    folder: Folder,
    environment: Env = None,
    namespace: Annotated[str | None, typer.Option(help="The FlowApp's namespace.")] = None,
    image_prefix: Prefix = "",
) -> None:
    """Print the app as a FlowApp object for the operator (workflow inline, images named)."""
    from flowapp.operator.engine import flowapp_object
    from flowapp.operator.images import function_images
    from flowapp.operator.render import MissingImages

    app = _load(folder, environment)
    images = function_images(app, image_prefix)
    missing = sorted(set(app.functions) - set(images))
    if missing:
        _say(f"flowapp: {MissingImages(missing)}")
        raise typer.Exit(2)
    obj = flowapp_object(app, images)
    if namespace:
        obj["metadata"]["namespace"] = namespace
    print_documents([obj])


@k8s.command()
def images(folder: Folder, image_prefix: Prefix = "", environment: Env = None) -> None:
    """Write a Dockerfile per function and print the image names render expects."""
    from flowapp.operator.images import IMAGES_DIR, build_recipes

    app = _load(folder, environment)
    for recipe in build_recipes(app, image_prefix):
        where = app.base_dir / IMAGES_DIR / recipe.function
        where.mkdir(parents=True, exist_ok=True)
        (where / "Dockerfile").write_text(recipe.dockerfile)
        for name, data in recipe.extra_files.items():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            (where / name).write_bytes(data)
        dockerfile = (IMAGES_DIR / recipe.function / "Dockerfile").as_posix()
        name = recipe.name or "(no image name: give --image-prefix)"
        typer.echo(f"{recipe.function}\t{name}\t{dockerfile}")


@k8s.command("engine-image")
def engine_image(
    image_prefix: Prefix = "",
    image: Annotated[str | None, typer.Option(help="The image's whole name instead.")] = None,
) -> None:
    """Print the Dockerfile of flowapp's own image (the engine and the operator); its
    name, the one render and operator-manifests use, goes to stderr."""
    from flowapp.operator.images import engine_dockerfile
    from flowapp.operator.target import Target

    typer.echo(engine_dockerfile(), nl=False)
    name = Target(image_prefix=image_prefix, engine_image=image).engine_image_name
    typer.echo(f"image: {name}", err=True)


@k8s.command("operator-manifests")
def manifests(
    namespace: Annotated[str, typer.Option(help="Where the operator runs.")] = "flowapp-system",
    image: Annotated[str | None, typer.Option(help="The operator's image.")] = None,
    image_prefix: Prefix = "",
) -> None:
    """Print the operator's ServiceAccount, ClusterRole, binding and Deployment."""
    from flowapp.operator.manifests import operator_manifests
    from flowapp.operator.target import Target

    print_documents(
        operator_manifests(namespace, Target(image_prefix=image_prefix, engine_image=image))
    )


def register(app: typer.Typer, *, panel: str | None = None) -> None:
    app.add_typer(k8s, name="k8s", rich_help_panel=panel)

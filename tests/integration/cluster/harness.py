"""An app's engine as the FlowApp operator renders it, run on 127.0.0.1 for real.

``ClusterOnLoopback`` takes what ``flowapp k8s render`` makes of an app (the ConfigMap,
the engine Deployment's container, the Triggers) and runs it without a cluster:

- the function Services are the language hosts (``python -m flowapp.functions.host``,
  the Node host), one process per function, at the URLs the engine is given;
- the Broker is ``StandInBroker``: an aiohttp server that records every CloudEvent
  posted to its ingress and, like Knative's broker filter, delivers each one to the
  subscriber of every rendered Trigger whose filters match (to one replica, in turn);
- each engine replica is a ``flowapp cluster-engine`` process started with the rendered
  container's arguments and environment, where only what a cluster would supply is
  replaced: the ConfigMap's file, ports and addresses, the pod's name, the database
  Secret's URL, the Services' and the Broker's URLs. An argument or variable the
  harness does not know fails the test: the manifest and the command stay in step.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
from aiohttp import web

from flowapp.apps.model import FlowApp
from flowapp.events.cloudevents import from_http, to_binary
from flowapp.events.filters import matches, parse_trigger_filter
from flowapp.functions.launch import NODE_HOST
from flowapp.functions.remote import url_variable
from flowapp.operator.engine import CONFIG_DIR, CONFIG_FILE, DATA_DIR
from flowapp.operator.render import render
from flowapp.operator.target import DELIVERY_PORT, ENGINE_PORT, Target
from tests.integration.triggers.servers import free_port

ROOT = Path(__file__).resolve().parents[3]
Obj = dict[str, Any]


def find(objects: list[Obj], kind: str, name: str) -> Obj:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


@dataclass
class Replica:
    name: str
    api: str
    deliveries: str
    process: asyncio.subprocess.Process
    log: Path
    data_dir: Path

    def client(self, token: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(base_url=self.api, headers=headers, timeout=60)

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()


@dataclass
class Delivery:
    trigger: str
    replica: str
    status: int
    body: bytes


@dataclass
class StandInBroker:
    """Knative's Broker as far as the engine can tell: an ingress that takes CloudEvents
    (202), and Triggers that deliver them, filtered, to their subscribers."""

    namespace: str
    name: str
    triggers: list[Obj] = field(default_factory=list)
    replicas: list[Replica] = field(default_factory=list)
    received: list[tuple[dict[str, str], Obj]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    _turn: Any = field(default_factory=lambda: itertools.count())
    _runner: web.AppRunner | None = None
    _pending: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.namespace}/{self.name}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(f"/{self.namespace}/{self.name}", self._ingress)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        for task in self._pending:
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _ingress(self, request: web.Request) -> web.Response:
        headers = dict(request.headers)
        for event in from_http(headers, await request.read()):
            self.received.append((headers, event))
            for trigger in self.triggers:
                if matches(parse_trigger_filter(trigger["spec"]), event):
                    task = asyncio.create_task(self.deliver(trigger, event))
                    self._pending.add(task)
                    task.add_done_callback(self._pending.discard)
        return web.Response(status=202)

    async def deliver(self, trigger: Obj, event: Obj, replica: Replica | None = None) -> Delivery:
        """One delivery of ``event`` by ``trigger`` to a replica (the next one in turn),
        in binary mode, as Knative's dispatcher sends it."""
        replica = replica or self.replicas[next(self._turn) % len(self.replicas)]
        uri = urlsplit(trigger["spec"]["subscriber"]["uri"])
        assert uri.port == DELIVERY_PORT, "Triggers deliver to the engine's deliveries port"
        headers, body = to_binary(event)
        async with aiohttp.ClientSession() as session:
            url = f"{replica.deliveries}{uri.path}"
            async with session.post(url, data=body, headers=headers) as response:
                delivery = Delivery(
                    trigger["metadata"]["name"],
                    replica.name,
                    response.status,
                    await response.read(),
                )
        self.deliveries.append(delivery)
        return delivery


class FunctionHosts:
    """Each function's language host, as its Knative Service would run it (from the
    function's folder, or from ``folders[name]``: another revision's code)."""

    def __init__(self, app: FlowApp, folders: dict[str, Path] | None = None) -> None:
        self.app = app
        self.folders = folders or {}
        self.processes: list[asyncio.subprocess.Process] = []
        self.urls: dict[str, str] = {}

    async def start(self) -> None:
        for name, spec in self.app.functions.items():
            port = free_port()
            folder = str(self.folders.get(name, spec.path))
            if spec.runtime == "node":
                argv = [shutil.which("node") or "node", str(NODE_HOST), "--path", folder]
            else:
                argv = [sys.executable, "-m", "flowapp.functions.host", "--path", folder]
            env = os.environ | {
                "PORT": str(port),
                "FLOWAPP_APP": self.app.name,
                "FLOWAPP_FUNCTION": name,
                "FLOWAPP_GRACE_PERIOD": "2",
            }
            process = await asyncio.create_subprocess_exec(
                *argv, env=env, stderr=asyncio.subprocess.DEVNULL
            )
            self.processes.append(process)
            self.urls[name] = f"http://127.0.0.1:{port}"
        for url in self.urls.values():
            await wait_for(f"{url}/healthz")

    async def stop(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.terminate()
        for process in self.processes:
            await process.wait()


async def wait_for(
    url: str, timeout: float = 60.0, process: Any = None, log: Path | None = None
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while loop.time() < deadline:
            if process is not None and process.returncode is not None:
                text = log.read_text() if log is not None else ""
                raise AssertionError(f"{url}: the process exited ({process.returncode}):\n{text}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    text = log.read_text() if log is not None else ""
    raise AssertionError(f"{url} did not answer 200 within {timeout} s:\n{text}")


class ClusterOnLoopback:
    """The rendered engine of ``app`` with ``replicas`` replicas on database ``db``."""

    def __init__(
        self,
        app: FlowApp,
        *,
        db: str,
        workdir: Path,
        replicas: int = 2,
        tags: dict[str, dict[str, Path]] | None = None,
    ) -> None:
        """``tags``: for each traffic tag of ``spec.traffic``, the folders its revision's
        functions are served from (hosts of their own, at the tag's addresses)."""
        self.app = app
        self.db = db
        self.workdir = workdir
        self.count = replicas
        images = {name: f"registry.example/{app.name}-{name}:1" for name in app.functions}
        self.objects = render(app, Target(), images).objects
        self.deployment = find(self.objects, "Deployment", f"{app.name}-engine")
        self.container = self.deployment["spec"]["template"]["spec"]["containers"][0]
        triggers = [o for o in self.objects if o["kind"] == "Trigger"]
        self.broker = StandInBroker(app.namespace, app.name, triggers)
        self.hosts = FunctionHosts(app)
        self.tag_hosts = {tag: FunctionHosts(app, folders) for tag, folders in (tags or {}).items()}
        self.replicas: list[Replica] = []
        self.token = ""

    def trigger(self, name: str) -> Obj:
        return find(self.objects, "Trigger", name)

    async def __aenter__(self) -> ClusterOnLoopback:
        config = find(self.objects, "ConfigMap", f"{self.app.name}-flowapp")
        self.config_file = self.workdir / "config" / CONFIG_FILE
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(config["data"][CONFIG_FILE])
        await self.broker.start()
        await self.hosts.start()
        for hosts in self.tag_hosts.values():
            await hosts.start()
        try:
            for number in range(self.count):
                self.replicas.append(await self.start_replica(f"{self.app.name}-engine-{number}"))
            for replica in self.replicas:
                await wait_for(
                    f"{replica.deliveries}/readyz", process=replica.process, log=replica.log
                )
            self.broker.replicas = self.replicas
            self.token = await self._admin_token()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        for replica in self.replicas:
            await replica.stop()
        await self.hosts.stop()
        for hosts in self.tag_hosts.values():
            await hosts.stop()
        await self.broker.stop()

    async def start_replica(self, name: str) -> Replica:
        api_port, delivery_port = free_port(), free_port()
        data_dir = self.workdir / name
        log = self.workdir / f"{name}.log"
        argv = self._arguments(api_port, delivery_port, data_dir)
        env = self._environment(name)
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "flowapp.cli.main",
                *argv,
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        return Replica(
            name,
            f"http://127.0.0.1:{api_port}",
            f"http://127.0.0.1:{delivery_port}",
            process,
            log,
            data_dir,
        )

    def _arguments(self, api_port: int, delivery_port: int, data_dir: Path) -> list[str]:
        """The rendered arguments, with what a pod would have replaced by this machine's."""
        replaced = {
            f"--app-file={CONFIG_DIR}/{CONFIG_FILE}": f"--app-file={self.config_file}",
            "--host=0.0.0.0": "--host=127.0.0.1",
            f"--port={ENGINE_PORT}": f"--port={api_port}",
            f"--delivery-port={DELIVERY_PORT}": f"--delivery-port={delivery_port}",
            f"--data-dir={DATA_DIR}": f"--data-dir={data_dir}",
        }
        argv = []
        for arg in self.container["args"]:
            if arg in replaced:
                argv.append(replaced[arg])
            elif arg == "cluster-engine" or arg.startswith("--knative-source="):
                argv.append(arg)
            else:
                raise AssertionError(f"the rendered engine has an argument the test lacks: {arg}")
        return argv

    def _environment(self, pod: str) -> dict[str, str]:
        """The rendered environment, with the cluster's values replaced by this machine's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWAPP_")}
        functions = {url_variable(name): url for name, url in self.hosts.urls.items()}
        for variable in self.container["env"]:
            name = variable["name"]
            source = variable.get("valueFrom", {})
            if source.get("fieldRef", {}).get("fieldPath") == "metadata.name":
                env[name] = pod
            elif name == "FLOWAPP_DATABASE_URL":
                assert "secretKeyRef" in source
                env[name] = self.db
            elif name.startswith("FLOWAPP_SECRETS_"):
                assert source["secretKeyRef"]["optional"] is True  # no Secret here: none
            elif name == "FLOWAPP_BROKER_URL":
                assert variable["value"].endswith(f"/{self.app.namespace}/{self.app.name}")
                env[name] = self.broker.url
            elif name in functions:
                env[name] = functions.pop(name)
            elif name == "FLOWAPP_TRAFFIC":
                env[name] = self._split(variable["value"])
            else:
                raise AssertionError(f"the rendered engine has a variable the test lacks: {name}")
        assert not functions, f"functions the rendered engine has no URL for: {functions}"
        return env

    def _split(self, rendered: str) -> str:
        """The rendered split, each tag's addresses replaced by its hosts'."""
        routes = json.loads(rendered)
        for route in routes:
            hosts = self.tag_hosts[route["tag"]]
            for name, url in route["urls"].items():
                assert urlsplit(url).hostname.startswith(f"{route['tag']}-"), url  # type: ignore[union-attr]
                route["urls"][name] = hosts.urls[name]
        return json.dumps(routes)

    async def _admin_token(self) -> str:
        """The first replica to start made the app's admin token and saved it."""
        for _ in range(100):
            for replica in self.replicas:
                file = replica.data_dir / "admin-token"
                if file.is_file():
                    return file.read_text().strip()
            await asyncio.sleep(0.1)
        raise AssertionError("no replica saved an admin token")


def copy_project(source: Path, target: Path, *, text: str | None = None) -> Path:
    """A copy of a project folder (its functions' folders), with another flowapp.yaml."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    if text is not None:
        (target / "flowapp.yaml").write_text(text)
    return target

"""A wheel carries the web dashboard: its built files go inside the package.

``make install`` builds them into ``flowapp/server/dashboard_assets`` (not committed).
A wheel built from the repository (``pip wheel .``, ``python -m build``) takes them from
there, building them first with npm when they are missing; an editable install needs
nothing (the server reads the folder where the build puts it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ASSETS = Path("flowapp", "server", "dashboard_assets")


class DashboardBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        if not (root / ASSETS / "index.html").is_file():
            build_dashboard(root)


def build_dashboard(root: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "the wheel must contain the dashboard, which is not built and cannot be: npm "
            "is not installed (install Node.js 20+ with npm, or run `make install` first)"
        )
    folder = root / "dashboard"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=folder, check=True)
    subprocess.run([npm, "run", "build"], cwd=folder, check=True)

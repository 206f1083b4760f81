"""``python -m deploy.grafana``: write the dashboards' JSON; ``--check``: exit 1 (and say
which) if a committed file differs from what the code makes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from deploy.grafana.app import app
from deploy.grafana.overview import overview

HERE = Path(__file__).resolve().parent
DASHBOARDS: dict[str, Callable[[], Dashboard]] = {
    "flowapp-overview.json": overview,
    "flowapp-app.json": app,
}


def render(make: Callable[[], Dashboard]) -> str:
    """The dashboard as Grafana imports it: stable key order, one trailing newline."""
    return JSONEncoder(sort_keys=True, indent=2).encode(make().build()) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.grafana", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--out", type=Path, default=HERE, help="where the JSON goes")
    args = parser.parse_args(argv)
    stale = []
    for name, make in DASHBOARDS.items():
        path = args.out / name
        text = render(make)
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(path)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    for path in stale:
        print(f"{path} is stale: run `make dashboards`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

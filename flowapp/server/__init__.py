"""The API server: FastAPI over the ``Platform`` port (``platform.py``) and the stores.

``create_app`` (``app.py``) builds the application over any implementation of the port;
the one this package is served with is ``flowapp.local.platform.LocalPlatform``. The
package itself imports nothing heavy, because the platform implementations import
``flowapp.server.platform`` and must not pay for FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowapp.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from flowapp.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

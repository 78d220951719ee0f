"""What stands in front of the guarded app: allowed Host names, CORS, requests served at once.

:func:`protected` wraps an ASGI app, outermost first, in

* Starlette's ``TrustedHostMiddleware``: a ``Host`` header not in ``allowed_hosts`` gets HTTP
  400 ``Invalid host header`` (DNS rebinding: a page elsewhere cannot reach the server
  through a name of its own);
* Starlette's ``CORSMiddleware`` when ``allowed_origins`` are given; no CORS header otherwise;
* :class:`ConcurrencyLimit`: at most ``max_concurrency`` requests in progress; one more gets
  HTTP 503 in JSON with ``Retry-After``. Connections that have sent no request count for
  nothing (uvicorn's ``limit_concurrency`` counts every open connection, idle ones included).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
RETRY_AFTER_S = "1"


def allowed_host_names(host: str, extra: Sequence[str] = ()) -> list[str]:
    """Return the Host names a server bound to ``host`` answers: loopback, ``host``, ``extra``.

    Args:
        host: The bind address (``0.0.0.0`` and ``::`` name no host of their own).
        extra: More names (``*.example.com`` patterns; ``*`` allows any).

    Returns:
        The names, IPv6 literals in brackets as they appear in a ``Host`` header.
    """
    names = list(LOOPBACK_NAMES)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        names.append(host)
    else:
        if not address.is_unspecified:
            names.append(f"[{address}]" if address.version == 6 else str(address))
    return list(dict.fromkeys([*names, *extra]))


class ConcurrencyLimit:
    """An ASGI app that answers HTTP 503 while ``limit`` requests are already in progress."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        """Serve ``app`` with at most ``limit`` requests in progress at once."""
        self.app = app
        self.limit = limit
        self.active = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request, or refuse it when the limit is reached."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            message = (
                f"the server is serving {self.limit} requests at once (its --max-concurrency); "
                "retry shortly"
            )
            busy = {"error_code": "TEMPORARILY_UNAVAILABLE", "message": message}
            headers = {"retry-after": RETRY_AFTER_S}
            await JSONResponse(busy, 503, headers)(scope, receive, send)
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1


def protected(
    app: ASGIApp,
    allowed_hosts: Sequence[str],
    allowed_origins: Sequence[str] = (),
    max_concurrency: int | None = None,
) -> ASGIApp:
    """Return ``app`` behind the Host check, CORS (when asked) and the concurrency limit.

    Args:
        app: The ASGI app to serve.
        allowed_hosts: The Host names answered (:func:`allowed_host_names`).
        allowed_origins: Origins allowed to call it from a browser page (CORS); none: no
            CORS headers at all.
        max_concurrency: Requests in progress at once (``None``: no limit).

    Returns:
        The wrapped ASGI app.
    """
    if max_concurrency is not None:
        app = ConcurrencyLimit(app, max_concurrency)
    if allowed_origins:
        app = CORSMiddleware(
            app,
            allow_origins=list(allowed_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["content-type"],
        )
    return TrustedHostMiddleware(app, allowed_hosts=list(allowed_hosts), www_redirect=False)

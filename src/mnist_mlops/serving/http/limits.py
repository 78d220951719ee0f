"""What stands in front of the guarded app: allowed Host names, CORS, requests served at once."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mnist_mlops.serving.http.observed import Observed

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
RETRY_AFTER_S = "1"


def allowed_host_names(host: str, extra: Sequence[str] = ()) -> list[str]:
    """Return the Host names a server bound to ``host`` answers: loopback, ``host``, ``extra``.

    ``0.0.0.0`` and ``::`` add no name; IPv6 literals come in brackets, as in a ``Host``
    header; ``extra`` may hold ``*.example.com`` patterns (``*``: any name).
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
    """An ASGI app: HTTP 503 in JSON with ``Retry-After`` while ``limit`` requests are in progress.

    Connections that have sent no request count for nothing (unlike uvicorn's
    ``limit_concurrency``).
    """

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
    ready: Callable[[], bool] = lambda: True,
) -> ASGIApp:
    """Return ``app`` behind, outermost first, the Host check, metrics, CORS and the limit.

    The metrics layer (:class:`~.observed.Observed`) answers ``/metrics`` and ``/ready`` and
    counts every request that passes the Host check.

    Args:
        app: The ASGI app to serve.
        allowed_hosts: The Host names answered; others get HTTP 400 ``Invalid host header``.
        allowed_origins: Origins allowed by CORS; none: no CORS headers at all.
        max_concurrency: Requests in progress at once (:class:`ConcurrencyLimit`; ``None``: any).
        ready: Whether ``app``'s model is loaded (``/ready``: 200, else 503).
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
    app = Observed(app, ready)
    return TrustedHostMiddleware(app, allowed_hosts=list(allowed_hosts), www_redirect=False)

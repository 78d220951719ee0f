"""``GET /metrics`` and ``GET /ready``, and the count and duration of every request.

:class:`Observed` wraps the served app: it answers ``/metrics`` (Prometheus' text format,
:mod:`.metrics`) and ``/ready`` itself, ahead of the bound on requests in progress, so that a
scrape or a probe is answered when the server is busy, and times every other request to its
answer's last byte.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mnist_mlops.serving.http.metrics import (
    EXPOSITION_TYPE,
    exposition,
    observe_request,
    route_of,
)

METRICS, READY = "/metrics", "/ready"
NO_ANSWER = 500  # counted when the app ends without starting an answer (uvicorn then sends 500)


class Observed:
    """An ASGI app: ``/metrics``, ``/ready`` (200 when ``ready()``, else 503), then ``app``."""

    def __init__(self, app: ASGIApp, ready: Callable[[], bool]) -> None:
        """Serve ``app``; ``ready`` tells whether its model is loaded and answering."""
        self.app = app
        self.ready = ready

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer ``/metrics`` or ``/ready``, or serve ``app``, counting the request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = NO_ANSWER

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        method, path = scope.get("method", ""), scope.get("path", "")
        try:
            if method in ("GET", "HEAD") and path == METRICS:
                body = await asyncio.to_thread(exposition)
                await Response(body, 200, media_type=EXPOSITION_TYPE)(scope, receive, send_counted)
            elif method in ("GET", "HEAD") and path == READY:
                await self._readiness()(scope, receive, send_counted)
            else:
                await self.app(scope, receive, send_counted)
        finally:
            observe_request(route_of(path), method, status, time.perf_counter() - started)

    def _readiness(self) -> Response:
        if self.ready():
            return JSONResponse({"status": "ready"}, 200)
        message = "the model is not loaded yet; retry shortly"
        return JSONResponse(
            {"error_code": "TEMPORARILY_UNAVAILABLE", "message": message},
            503,
            {"retry-after": "1"},
        )

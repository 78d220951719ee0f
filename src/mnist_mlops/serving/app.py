"""MLflow's scoring server with a guard in front: a body limit, JSON errors and a fast path.

``mlflow models serve`` runs MLflow's generic scoring app. This module serves the same app
(built by MLflow's own ``scoring_server.init`` from the same ``models:/`` URI, same protocol,
same signature enforcement) behind a small ASGI guard that adds what the generic app lacks:

* **a body limit**: a request whose ``Content-Length`` or streamed body exceeds
  ``max_body_bytes`` gets HTTP 413 before the body is buffered (MLflow reads any size);
* **JSON errors everywhere**: an unsupported content type gets HTTP 415 with a JSON
  ``message`` (MLflow answers it in plain text);
* **28x28 images**: ``{"inputs": ...}`` / ``{"instances": ...}`` may hold ``(28, 28)`` or
  ``(N, 28, 28)`` arrays (MLflow's tensor check admits one rank, ``(-1, 784)``);
* **a fast path** for ``inputs`` / ``instances`` JSON: the body is decoded once, validated
  and scaled by :func:`~mnist_mlops.serving.inputs.to_pixel_rows`, and handed to the loaded
  pyfunc's ``predict`` as a ``(N, 784)`` float32 array, where MLflow enforces the signature.
  MLflow's generic path decodes the JSON twice and deep-copies it, which costs more than the
  network itself for one digit.

Everything else (``dataframe_split``, ``dataframe_records``, ``params``, CSV, Parquet, ``/ping``,
``/health``, ``/version``) goes to MLflow's app unchanged, body replayed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mlflow.exceptions import MlflowException

from mnist_mlops.serving.inputs import InputError, to_pixel_rows

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024  # 1,000 digits of 784 full-precision floats fit
CONTENT_TYPES = ("application/json", "text/csv", "application/vnd.apache.parquet")
FAST_FIELDS = ("inputs", "instances")
DRAIN_FACTOR = 4  # bytes read and dropped after a 413, per byte of the limit
INLINE_ROWS = 64  # larger batches run in a worker thread, so /ping stays responsive


class RequestRejected(Exception):
    """A request the guard answers itself with a 4xx JSON error."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


async def _send_json(send: Send, status: int, payload: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _check_content_type(scope: Scope) -> str:
    """Return the request's media type, or reject an unsupported one (415)."""
    content_type = _header(scope, b"content-type")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in CONTENT_TYPES:
        raise RequestRejected(
            415,
            "BAD_REQUEST",
            f"unsupported content type {content_type!r}; allowed: {', '.join(CONTENT_TYPES)} "
            "(send JSON with Content-Type: application/json)",
        )
    return media_type


async def _drain(receive: Receive, budget: int) -> None:
    """Receive and discard the rest of a body (at most ``budget`` bytes).

    A client that is still sending when the server answers and closes gets a broken pipe
    instead of the answer; reading the rest (without keeping it) lets it see the 413.
    """
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        budget -= len(message.get("body", b""))


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """Read the whole request body, refusing (413) more than ``limit`` bytes.

    Nothing beyond ``limit`` is kept in memory; up to ``DRAIN_FACTOR * limit`` more bytes are
    read and discarded so that the client receives the answer, then the connection closes.

    Raises:
        RequestRejected: The declared or the streamed size is over ``limit``.
        ConnectionAbortedError: The client went away.
    """
    too_large = RequestRejected(
        413, "RESOURCE_EXHAUSTED", f"the request body is larger than the limit of {limit} bytes"
    )
    declared = _header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        await _drain(receive, DRAIN_FACTOR * limit)
        raise too_large
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError("client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        more = message.get("more_body", False)
        if size > limit:
            if more:
                await _drain(receive, DRAIN_FACTOR * limit)
            raise too_large
        chunks.append(chunk)
        if not more:
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """Return a ``receive`` that hands ``body`` to the wrapped app in one message."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class GuardedScoringApp:
    """An ASGI app: the guard described in the module docstring, then MLflow's scoring app."""

    def __init__(self, model: Any, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        """Build MLflow's scoring app for ``model`` (a loaded ``PyFuncModel``) and guard it."""
        from mlflow.pyfunc import scoring_server

        self.model = model
        self.max_body_bytes = max_body_bytes
        self.scoring_app = scoring_server.init(model)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection event."""
        if not (
            scope["type"] == "http"
            and scope["path"] == "/invocations"
            and scope["method"] == "POST"
        ):
            await self.scoring_app(scope, receive, send)
            return
        try:
            media_type = _check_content_type(scope)
            body = await read_body(scope, receive, self.max_body_bytes)
            answer = await self._fast_path(body) if media_type == "application/json" else None
        except RequestRejected as exc:
            payload = {"error_code": exc.error_code, "message": exc.message}
            await _send_json(send, exc.status, json.dumps(payload).encode())
            return
        except ConnectionAbortedError:
            return
        if answer is None:
            await self.scoring_app(scope, _replay(body), send)
        else:
            await _send_json(send, 200, answer)

    async def _fast_path(self, body: bytes) -> bytes | None:
        """Answer an ``inputs``/``instances`` request, or return ``None`` to defer to MLflow."""
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RequestRejected(
                400, "BAD_REQUEST", f"the body is not valid JSON: {exc}"
            ) from None
        if (
            not isinstance(request, dict)
            or len(request) != 1
            or next(iter(request)) not in FAST_FIELDS
        ):
            return None  # MLflow's own parsing and error messages
        try:
            rows = to_pixel_rows(next(iter(request.values())))
            if len(rows) <= INLINE_ROWS:
                predictions = self.model.predict(rows)
            else:
                predictions = await asyncio.to_thread(self.model.predict, rows)
        except InputError as exc:
            raise RequestRejected(400, "INVALID_PARAMETER_VALUE", str(exc)) from None
        except MlflowException as exc:
            raise RequestRejected(exc.get_http_status_code(), exc.error_code, exc.message) from None
        return json.dumps({"predictions": predictions}).encode()


def create_app(model_uri: str, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> GuardedScoringApp:
    """Load ``model_uri`` with MLflow and return the guarded scoring app serving it.

    Args:
        model_uri: Any MLflow model URI, e.g. ``models:/mnist-classifier@champion``.
        max_body_bytes: The largest request body accepted (HTTP 413 above it).

    Returns:
        An ASGI application (run it with uvicorn).
    """
    from mlflow.pyfunc.scoring_server import load_model_with_mlflow_config

    model = load_model_with_mlflow_config(model_uri)
    logger.info("serving %s (body limit %d bytes)", model_uri, max_body_bytes)
    return GuardedScoringApp(model, max_body_bytes)

"""The ASGI plumbing of the serving guard: headers, a bounded body read, JSON answers.

* :func:`check_content_type` - the media types the scoring protocol accepts (else 415);
* :func:`read_body` - the whole body, refusing (413) more than a limit without buffering it;
* :func:`send_json` - a JSON answer; :func:`replay` - a read body handed on to another app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mnist_mlops.errors import RequestRejectedError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CONTENT_TYPES = ("application/json", "text/csv", "application/vnd.apache.parquet")
DRAIN_FACTOR = 4  # bytes read and dropped after a 413, per byte of the limit


async def send_json(send: Send, status: int, payload: bytes) -> None:
    """Answer with ``status`` and the JSON ``payload``."""
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


def header(scope: Scope, name: bytes) -> str | None:
    """Return the request header ``name`` (lower-case bytes), or ``None``."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def check_content_type(scope: Scope) -> str:
    """Return the request's media type, or reject an unsupported one (415)."""
    content_type = header(scope, b"content-type")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in CONTENT_TYPES:
        raise RequestRejectedError(
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
        RequestRejectedError: The declared or the streamed size is over ``limit``.
        ConnectionAbortedError: The client went away.
    """
    too_large = RequestRejectedError(
        413, "RESOURCE_EXHAUSTED", f"the request body is larger than the limit of {limit} bytes"
    )
    declared = header(scope, b"content-length")
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


def replay(body: bytes) -> Receive:
    """Return a ``receive`` that hands ``body`` to the wrapped app in one message."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive

"""The ASGI plumbing of the serving guard: headers, a bounded body read, JSON answers.

* :func:`check_content_type` - the media types an endpoint accepts (else 415);
* :func:`read_body` - the whole body, refusing (413) more than a limit without buffering it;
* :func:`send_json` - a JSON answer, :func:`send_bytes` any other; :func:`replay` - a read body
  handed on to another app.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mnist_mlops.errors import RequestRejectedError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CONTENT_TYPES = ("application/json", "text/csv", "application/vnd.apache.parquet")
JSON_TYPE = "application/json"
DRAIN_FACTOR = 4  # bytes read and dropped after a 413, per byte of the limit


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    headers: tuple[tuple[str, str], ...] = (),
    head: bool = False,
) -> None:
    """Answer with ``status``, a ``content_type`` and ``body`` (only its length for HEAD).

    Args:
        send: The ASGI ``send`` callable.
        status: The HTTP status code.
        body: The whole answer.
        content_type: Its ``Content-Type`` header.
        headers: More headers, as ``(name, value)`` strings.
        head: Answer a HEAD request: the headers of ``body`` without the body.
    """
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode()),
                *((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else body})


async def send_json(send: Send, status: int, payload: bytes) -> None:
    """Answer with ``status`` and the JSON ``payload``."""
    await send_bytes(send, status, payload, JSON_TYPE)


async def send_error(send: Send, error: RequestRejectedError) -> None:
    """Answer with the status of ``error`` and its ``error_code`` and ``message`` as JSON."""
    payload = {"error_code": error.error_code, "message": error.message}
    await send_json(send, error.status, json.dumps(payload).encode())


def header(scope: Scope, name: bytes) -> str | None:
    """Return the request header ``name`` (lower-case bytes), or ``None``."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def check_content_type(scope: Scope, allowed: tuple[str, ...] = CONTENT_TYPES) -> str:
    """Return the request's media type, or reject (415) one that is not ``allowed``.

    Args:
        scope: The request's ASGI scope.
        allowed: The accepted media types (lower case, without parameters).

    Returns:
        The media type, lower case, without parameters such as ``charset``.

    Raises:
        RequestRejectedError: 415, naming the allowed types.
    """
    content_type = header(scope, b"content-type")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in allowed:
        hint = JSON_TYPE if JSON_TYPE in allowed else allowed[0]
        raise RequestRejectedError(
            415,
            "BAD_REQUEST",
            f"unsupported content type {content_type!r}; allowed: {', '.join(allowed)} "
            f"(e.g. Content-Type: {hint})",
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

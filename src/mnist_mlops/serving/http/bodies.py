"""Request bodies: media type checked (415), read within limits (413, 408), replayed."""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.types import Message, Receive

from mnist_mlops.errors import RequestRejectedError

CONTENT_TYPES = ("application/json", "text/csv", "application/vnd.apache.parquet")
JSON_TYPE = "application/json"
CLOSING_STATUSES = (408,)  # the rest of the body may still come: the connection closes
DRAIN_FACTOR = 4  # bytes read and dropped after a 413, per byte of the limit


def error_response(error: RequestRejectedError) -> JSONResponse:
    """The refusal ``error`` as JSON: its status, ``error_code`` and ``message``."""
    closing = {"connection": "close"} if error.status in CLOSING_STATUSES else None
    payload = {"error_code": error.error_code, "message": error.message}
    return JSONResponse(payload, error.status, closing)


def check_content_type(request: Request, allowed: tuple[str, ...] = CONTENT_TYPES) -> str:
    """Return the request's media type (lower case, no parameters); 415 unless ``allowed``."""
    content_type = request.headers.get("content-type")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in allowed:
        hint = JSON_TYPE if JSON_TYPE in allowed else allowed[0]
        problem = (
            "the request has no Content-Type header"
            if content_type is None
            else f"unsupported content type {content_type[:100]!r}"
        )
        message = f"{problem}; allowed: {', '.join(allowed)} (e.g. Content-Type: {hint})"
        raise RequestRejectedError(415, "BAD_REQUEST", message)
    return media_type


def check_charset(request: Request) -> None:
    """Refuse (415, naming it) any ``Content-Type`` parameter but ``charset=utf-8``."""
    for parameter in request.headers.get("content-type", "").split(";")[1:]:
        name, _, value = (part.strip().lower() for part in parameter.partition("="))
        if name != "charset" or value.strip('"') != "utf-8":
            raise RequestRejectedError(
                415,
                "BAD_REQUEST",
                f"unsupported Content-Type parameter {parameter.strip()[:100]!r}; the body must "
                "be UTF-8 (allowed: none, or charset=utf-8)",
            )


async def read_body(request: Request, limit: int, timeout_s: float | None = None) -> bytes:
    """Read the whole body; up to ``DRAIN_FACTOR * limit`` bytes past ``limit`` are dropped.

    Raises:
        RequestRejectedError: 413 over ``limit`` (declared or streamed); 408 not arrived
            within ``timeout_s`` (the answer closes the connection).
        ConnectionAbortedError: The client went away.
    """
    declared = request.headers.get("content-length", "")
    too_large = declared.isdigit() and int(declared) > limit
    chunks: list[bytes] = []
    size = 0
    deadline = None if timeout_s is None else asyncio.get_running_loop().time() + timeout_s
    try:
        async with asyncio.timeout_at(deadline):
            async for chunk in request.stream():
                size += len(chunk)
                too_large = too_large or size > limit
                if too_large:
                    chunks.clear()
                    if size > (DRAIN_FACTOR + 1) * limit:
                        break
                else:
                    chunks.append(chunk)
    except TimeoutError:
        chunks.clear()
        if not too_large:
            raise RequestRejectedError(
                408,
                "DEADLINE_EXCEEDED",
                f"the request body did not arrive within {timeout_s:g} s ({size} bytes came); "
                "send it at once (the server's --read-timeout-s)",
            ) from None
    except ClientDisconnect:
        raise ConnectionAbortedError("client disconnected") from None
    if too_large:
        raise RequestRejectedError(
            413, "RESOURCE_EXHAUSTED", f"the request body is larger than the limit of {limit} bytes"
        )
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

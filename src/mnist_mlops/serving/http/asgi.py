"""The ASGI plumbing of the serving guard: headers, a bounded body read, JSON answers.

* :func:`check_content_type` - the media types an endpoint accepts (else 415), and
  :func:`check_charset` - UTF-8 only, as MLflow's app requires (else 415, in JSON);
* :func:`send_json` - a JSON answer, :func:`send_bytes` any other, :func:`send_error` a
  refusal; :func:`with_media_type` - the checked Content-Type for the app a request goes on to.

Reading the body is :mod:`.request_body`'s.
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
CLOSING_STATUSES = (408,)  # the rest of the body may still come: the connection closes


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
    payload = json.dumps({"error_code": error.error_code, "message": error.message}).encode()
    closing = (("connection", "close"),) if error.status in CLOSING_STATUSES else ()
    await send_bytes(send, error.status, payload, JSON_TYPE, closing)


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
        problem = (
            "the request has no Content-Type header"
            if content_type is None
            else f"unsupported content type {content_type[:100]!r}"
        )
        raise RequestRejectedError(
            415,
            "BAD_REQUEST",
            f"{problem}; allowed: {', '.join(allowed)} (e.g. Content-Type: {hint})",
        )
    return media_type


def check_charset(scope: Scope) -> None:
    """Refuse (415) a ``Content-Type`` with parameters other than ``charset=utf-8``.

    MLflow's app answers those in plain text; the guard answers them in JSON first.

    Raises:
        RequestRejectedError: 415 naming the parameter.
    """
    for parameter in (header(scope, b"content-type") or "").split(";")[1:]:
        name, _, value = (part.strip().lower() for part in parameter.partition("="))
        if name != "charset" or value.strip('"') != "utf-8":
            raise RequestRejectedError(
                415,
                "BAD_REQUEST",
                f"unsupported Content-Type parameter {parameter.strip()[:100]!r}; the body must "
                "be UTF-8 (allowed: none, or charset=utf-8)",
            )


def with_media_type(scope: Scope, media_type: str) -> Scope:
    """Return ``scope`` with its ``Content-Type`` header replaced by the bare ``media_type``.

    MLflow's app compares the media type case-sensitively and answers parameters it does not
    know in plain text: it gets the checked, normalised type.
    """
    headers = [(key, value) for key, value in scope["headers"] if key.lower() != b"content-type"]
    return {**scope, "headers": [*headers, (b"content-type", media_type.encode("latin-1"))]}

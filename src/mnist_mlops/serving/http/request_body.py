"""The request body, read by the guard within a size and a time limit, and replayed.

* :func:`read_body` - the whole body, refusing (413) more than a limit without buffering it
  and (408) a body that has not arrived within a time limit;
* :func:`replay` - a read body handed on to another app (MLflow's) as its ``receive``.
"""

from __future__ import annotations

import asyncio

from mnist_mlops.errors import RequestRejectedError
from mnist_mlops.serving.http.asgi import Message, Receive, Scope, header

DRAIN_FACTOR = 4  # bytes read and dropped after a 413, per byte of the limit


async def _receive(receive: Receive, deadline: float | None) -> Message:
    """Return the next ASGI message, or raise :class:`TimeoutError` after ``deadline``."""
    if deadline is None:
        return await receive()
    remaining = deadline - asyncio.get_running_loop().time()
    if remaining <= 0:
        raise TimeoutError
    return await asyncio.wait_for(receive(), remaining)


async def _drain(receive: Receive, budget: int, deadline: float | None) -> None:
    """Receive and discard the rest of a body (at most ``budget`` bytes, until ``deadline``).

    A client that is still sending when the server answers and closes gets a broken pipe
    instead of the answer; reading the rest (without keeping it) lets it see the 413.
    """
    try:
        while budget > 0:
            message = await _receive(receive, deadline)
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
            budget -= len(message.get("body", b""))
    except TimeoutError:
        return


def _too_large(limit: int) -> RequestRejectedError:
    return RequestRejectedError(
        413, "RESOURCE_EXHAUSTED", f"the request body is larger than the limit of {limit} bytes"
    )


async def read_body(
    scope: Scope, receive: Receive, limit: int, timeout_s: float | None = None
) -> bytes:
    """Read the whole request body, refusing more than ``limit`` bytes or ``timeout_s`` seconds.

    Nothing beyond ``limit`` is kept in memory; up to ``DRAIN_FACTOR * limit`` more bytes are
    read and discarded (within the same time) so that the client receives the answer.

    Args:
        scope: The request's ASGI scope.
        receive: The ASGI ``receive`` callable.
        limit: The largest body accepted, in bytes.
        timeout_s: The time the whole body may take to arrive (``None``: no limit).

    Returns:
        The body.

    Raises:
        RequestRejectedError: 413, the declared or the streamed size is over ``limit``; 408,
            the body did not arrive within ``timeout_s`` (the answer closes the connection).
        ConnectionAbortedError: The client went away.
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout_s is None else loop.time() + timeout_s
    declared = header(scope, b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        await _drain(receive, DRAIN_FACTOR * limit, deadline)
        raise _too_large(limit)
    # The chunks are dropped before raising: the traceback keeps this frame alive (until the
    # garbage collector's next full pass, if it is part of a cycle), not the body.
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            message = await _receive(receive, deadline)
        except TimeoutError:
            chunks.clear()
            raise RequestRejectedError(
                408,
                "DEADLINE_EXCEEDED",
                f"the request body did not arrive within {timeout_s:g} s ({size} bytes came); "
                "send it at once (the server's --read-timeout-s)",
            ) from None
        if message["type"] == "http.disconnect":
            chunks.clear()
            raise ConnectionAbortedError("client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        more = message.get("more_body", False)
        if size > limit:
            chunks.clear()
            if more:
                await _drain(receive, DRAIN_FACTOR * limit, deadline)
            raise _too_large(limit)
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

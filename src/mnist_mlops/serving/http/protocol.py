"""uvicorn's h11 protocol with deadlines for the request head and JSON errors.

Subclasses uvicorn's ``H11Protocol`` (hence ``uvicorn<0.55``): uvicorn 0.54 holds a connection
that sends nothing, or part of a head, for ever (measured, serving-idle-connections.md).
"""

from __future__ import annotations

import asyncio
import json
import sys
from http import HTTPStatus
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from mnist_mlops.config.constants import SERVE_READ_TIMEOUT_S


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines and JSON errors.

    On a connection, it:

    * closes it when it has sent nothing within ``min(timeout_keep_alive, read_timeout_s)``;
    * answers HTTP 408 in JSON and closes it when a request head has not ended within
      ``read_timeout_s`` of its first byte;
    * closes it ``read_timeout_s`` after an answer given before the body ended (a 413);
    * answers what h11 cannot parse, a half-closed body included, with HTTP 400 in JSON
      naming h11's reason (431 for a head past h11's 16 KiB).
    """

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        read_timeout_s: float = SERVE_READ_TIMEOUT_S,
    ) -> None:
        """Take uvicorn's arguments and ``read_timeout_s`` (bind it with functools.partial)."""
        super().__init__(config, server_state, app_state, _loop)
        self.read_timeout_s = read_timeout_s
        self._timer: asyncio.TimerHandle | None = None
        self._timing_head = False
        self._head_bytes = 0  # bytes of a request head that has not ended yet

    def _arm(self, head: bool, seconds: float | None = None) -> None:
        self._disarm()
        delay = self.read_timeout_s if seconds is None else seconds
        self._timer = self.loop.call_later(delay, self._timed_out)
        self._timing_head = head

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _answered(self) -> bool:
        return self.cycle is not None and self.cycle.response_started

    def _send_json_error(self, status: int, error_code: str, message: str) -> None:
        """Write an answer outside h11's state machine, then close the connection."""
        body = json.dumps({"error_code": error_code, "message": message}).encode()
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: application/json"
            f"\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()

    def _timed_out(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.IDLE:  # between requests: no cycle is running
            if not self._head_bytes:
                self.transport.close()
                return
            message = (
                f"the request head did not arrive within {self.read_timeout_s:g} s "
                f"({self._head_bytes} bytes came); send it at once (the server's --read-timeout-s)"
            )
            self._send_json_error(408, "DEADLINE_EXCEEDED", message)
        elif state is h11.SEND_BODY and self.cycle is not None and self.cycle.response_complete:
            self.transport.close()  # answered already; the rest of the body is not waited for

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the idle deadline of a connection that has sent nothing yet."""
        super().connection_made(transport)
        self._arm(head=True, seconds=min(self.timeout_keep_alive, self.read_timeout_s))

    def data_received(self, data: bytes) -> None:
        """Feed h11; time a request head from its first byte until it has ended."""
        waiting = self.conn.their_state is h11.IDLE
        if waiting:
            if self._timer is None or not self._head_bytes:
                self._arm(head=True)  # the head's deadline runs from its first byte
            self._head_bytes += len(data)
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head_bytes = 0
            if self._timing_head:
                self._disarm()

    def eof_received(self) -> None:
        """At a half-close within a request, let h11 name what is missing (HTTP 400)."""
        state = self.conn.their_state
        if state is h11.SEND_BODY or (state is h11.IDLE and self._head_bytes):
            self.conn.receive_data(b"")
            self.handle_events()  # raises inside h11: send_400_response answers
        super().eof_received()  # None: asyncio closes the transport

    def on_response_complete(self) -> None:
        """After an answer, stop waiting ``read_timeout_s`` later for a body still coming."""
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.SEND_BODY:
            self._arm(head=False)

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the deadline, then let uvicorn end the request cycle."""
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """Answer a request h11 cannot parse in JSON (uvicorn calls this in its except).

        Args:
            msg: uvicorn's plain-text message, used when h11 gives no reason.
        """
        if self.transport.is_closing():
            return
        if self._answered():  # an answer was given (a 413 before the body ended): just close
            self.transport.close()
            return
        error = sys.exception()
        if isinstance(error, h11.RemoteProtocolError):  # 431: a head unfinished past h11's limit
            status, reason = error.error_status_hint, str(error) or msg
        else:
            status, reason = 400, msg
        self._send_json_error(status, "BAD_REQUEST", f"invalid HTTP request: {reason}")

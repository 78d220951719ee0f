"""A real HTTP server on loopback for download tests: serves chosen bytes per path."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What one path answers: ``body``, optionally a lying Content-Length or errors first."""

    body: bytes
    declared_length: int | None = None
    fail_first: int = 0
    requests: int = 0


@dataclass
class FileServer:
    """Routes by path; ``base_url`` ends with '/'."""

    base_url: str
    routes: dict[str, Route] = field(default_factory=dict)


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[FileServer]:
    """Run a threaded HTTP server on 127.0.0.1 for the duration of the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            route = routes.get(self.path.lstrip("/"))
            if route is None:
                self.send_error(404)
                return
            route.requests += 1
            if route.requests <= route.fail_first:
                self.send_error(503, "try again")
                return
            self.send_response(200)
            length = route.declared_length or len(route.body)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(route.body)
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FileServer(f"http://127.0.0.1:{server.server_address[1]}/", routes)
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """Return a loopback URL on which nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"

"""The draw-a-digit page: the package's ``static/`` files listed in :data:`PAGE_FILES`, no other."""

from __future__ import annotations

from functools import cache
from importlib import resources

from starlette.responses import JSONResponse, Response

STATIC_FOLDER = "static"
STATIC_PREFIX = "/static/"
PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
    "/static/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
# Everything the page loads comes from this server; pictures are data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
HEADERS = (
    ("cache-control", "no-cache"),
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", CONTENT_SECURITY_POLICY),
)


def is_page_path(path: str) -> bool:
    """Whether a request path is the page's: ``/`` or anything under ``/static/``."""
    return path in PAGE_FILES or path.startswith(STATIC_PREFIX)


@cache
def read_page_file(name: str) -> bytes:
    """Return the bytes of the page's file ``name`` (``"index.html"``) in the installed package.

    Raises:
        FileNotFoundError: The package was installed without its static files.
    """
    return resources.files(__package__).joinpath(STATIC_FOLDER, name).read_bytes()


def page_response(path: str) -> Response:
    """Answer a ``GET`` (or ``HEAD``) of a page path: the file, or 404 with a JSON message."""
    entry = PAGE_FILES.get(path)
    if entry is None:
        return JSONResponse({"error_code": "NOT_FOUND", "message": "no such file"}, 404)
    name, content_type = entry
    return Response(read_page_file(name), 200, dict(HEADERS), content_type)

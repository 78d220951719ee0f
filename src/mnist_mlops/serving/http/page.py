"""The draw-a-digit page: static files shipped inside the package, served by the guard.

``GET /`` is ``static/index.html``; ``/static/`` has its script, style sheet and icon.
Only the files listed in :data:`PAGE_FILES` are served (no path is ever joined from a
request). The page needs nothing from outside the server: no CDN, no build step. It calls
``/model-info`` and ``/predict/image`` (see :mod:`mnist_mlops.serving.http.app`).
"""

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
    """Return the bytes of one of the page's files, from the installed package.

    Args:
        name: A file name of :data:`PAGE_FILES` (``"index.html"``).

    Returns:
        The file's content.

    Raises:
        FileNotFoundError: The package was installed without its static files.
    """
    return resources.files(__package__).joinpath(STATIC_FOLDER, name).read_bytes()


def page_response(path: str) -> Response:
    """Answer a ``GET`` (or ``HEAD``) of a page path: the file, or 404 with a JSON message.

    Args:
        path: The request path (:func:`is_page_path` is true for it).
    """
    entry = PAGE_FILES.get(path)
    if entry is None:
        return JSONResponse({"error_code": "NOT_FOUND", "message": "no such file"}, 404)
    name, content_type = entry
    return Response(read_page_file(name), 200, dict(HEADERS), content_type)

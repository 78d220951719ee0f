"""Digits sent as pictures: an ``image/png`` or ``image/jpeg`` body, or a multipart upload."""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass

import numpy as np

from mnist_mlops.config.constants import MAX_IMAGE_PIXELS, MAX_REQUEST_PIXELS, MAX_UPLOAD_FILES
from mnist_mlops.errors import InputError, RequestRejectedError
from mnist_mlops.serving.pictures.images import read_digit_image

IMAGE_TYPES = ("image/png", "image/jpeg")
MULTIPART_TYPE = "multipart/form-data"
MEDIA_TYPES = (*IMAGE_TYPES, MULTIPART_TYPE)
BODY_NAME = "request body"
BAD_VALUE = "INVALID_PARAMETER_VALUE"
ALLOWED = "allowed: PNG or JPEG pictures"
UPLOAD_HINT = "send each picture as a file part, e.g. curl -F file=@digit.png"


@dataclass(frozen=True)
class Picture:
    """One picture of a request: what to call it in messages and answers, and its bytes."""

    name: str
    data: bytes


def _rejected(message: str, status: int = 400) -> RequestRejectedError:
    code = BAD_VALUE if status == 400 else "RESOURCE_EXHAUSTED"
    return RequestRejectedError(status, code, message)


def _multipart_pictures(content_type: str, body: bytes) -> list[Picture]:
    """Return the file parts of a ``multipart/form-data`` body, in order."""
    from werkzeug.exceptions import RequestEntityTooLarge
    from werkzeug.formparser import MultiPartParser
    from werkzeug.http import parse_options_header

    boundary = parse_options_header(content_type)[1].get("boundary", "")
    if not 0 < len(boundary) <= 200:
        raise _rejected("a multipart/form-data request needs a boundary parameter of 1-200 chars")
    parser = MultiPartParser(
        stream_factory=lambda *args, **kwargs: io.BytesIO(),  # in memory: the body already is
        max_form_parts=MAX_UPLOAD_FILES,
    )
    try:
        fields, files = parser.parse(io.BytesIO(body), boundary.encode("latin-1"), len(body))
    except RequestEntityTooLarge:
        raise _rejected(f"the upload has more than {MAX_UPLOAD_FILES} parts") from None
    except ValueError as exc:
        raise _rejected(f"the multipart/form-data body cannot be parsed: {exc}") from None
    if fields:
        raise _rejected(
            f"the upload has fields that are not files ({', '.join(fields)}); " + UPLOAD_HINT
        )
    parts = [(field, upload.filename, upload.read()) for field, upload in files.items(multi=True)]
    # A form's file input with no file chosen sends an empty part named "": skipped.
    pictures = [Picture(name or field, data) for field, name, data in parts if name or data]
    if not pictures:
        raise _rejected(f"the upload holds no file; {UPLOAD_HINT}")
    return pictures


def request_pictures(media_type: str, content_type: str, body: bytes) -> list[Picture]:
    """Return the pictures of a body of ``media_type`` (one of :data:`MEDIA_TYPES`), in order.

    Raises:
        RequestRejectedError: 400: an empty body, a malformed or empty upload, fields that
            are not files, more than :data:`MAX_UPLOAD_FILES` parts.
    """
    if media_type == MULTIPART_TYPE:
        return _multipart_pictures(content_type, body)
    if not body:
        raise _rejected(f"the {media_type} request body is empty; send the picture's bytes")
    return [Picture(BODY_NAME, body)]


def check_dimensions(pictures: list[Picture]) -> None:
    """Refuse (413) pictures too large to decode, from their headers; unreadable ones pass.

    Limits: :data:`MAX_IMAGE_PIXELS` per picture, :data:`MAX_REQUEST_PIXELS` together.
    """
    from PIL import Image, UnidentifiedImageError

    total = 0
    for picture in pictures:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(picture.data)) as image:
                    width, height = image.size
        except Image.DecompressionBombError as exc:  # PIL refuses even to open it
            raise _rejected(
                f"{picture.name}: {exc}; at most {MAX_IMAGE_PIXELS:,} pixels are allowed",
                status=413,
            ) from None
        except (UnidentifiedImageError, OSError, ValueError):
            continue
        if width * height > MAX_IMAGE_PIXELS:
            raise _rejected(
                f"{picture.name}: the picture is {width}x{height} pixels; at most "
                f"{MAX_IMAGE_PIXELS:,} pixels are allowed (scale it down)",
                status=413,
            )
        total += width * height
        if total > MAX_REQUEST_PIXELS:
            raise _rejected(
                f"the pictures of this request have more than {MAX_REQUEST_PIXELS:,} pixels "
                "together; send fewer or smaller ones",
                status=413,
            )


def read_image_request(
    media_type: str, content_type: str, body: bytes
) -> tuple[list[str], np.ndarray]:
    """Return the pictures' names (``"request body"`` for an image body) and their digits.

    Args:
        media_type: The media type, lower case (one of :data:`MEDIA_TYPES`).
        content_type: The whole ``Content-Type`` header (a multipart boundary is in it).
        body: The request body.

    Returns:
        The names and the ``(N, 28, 28)`` uint8 digits, bright on black, in order.

    Raises:
        RequestRejectedError: 400 a malformed request or unreadable picture; 413 too large.
    """
    pictures = request_pictures(media_type, content_type, body)
    check_dimensions(pictures)
    digits = []
    for picture in pictures:
        try:
            digits.append(read_digit_image(picture.data, picture.name))
        except InputError as exc:
            message = str(exc)
            raise _rejected(message if "allowed" in message else f"{message}; {ALLOWED}") from None
    return [picture.name for picture in pictures], np.stack(digits)


def png_data_url(digit: np.ndarray) -> str:
    """Return a 2-D uint8 image as a ``data:image/png;base64,...`` URL."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(digit, dtype=np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

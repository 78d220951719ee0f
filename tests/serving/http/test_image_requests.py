"""Pictures in requests: image bodies, multipart uploads, their limits and their messages."""

import base64
import io
import struct
import zlib

import httpx
import numpy as np
import pytest
from PIL import Image

from mnist_mlops.config.constants import MAX_IMAGE_PIXELS, MAX_UPLOAD_FILES
from mnist_mlops.errors import RequestRejectedError
from mnist_mlops.serving.http.image_requests import png_data_url, read_image_request
from mnist_mlops.serving.pictures.images import read_digit_image
from tests.helpers.digits import make_digits, picture_bytes

DIGITS = make_digits(per_class=1)[0]
PNG = picture_bytes(DIGITS[0], scale=4)
JPEG = picture_bytes(DIGITS[1], "JPEG", scale=3)


def multipart(files=(), data=None):
    """A multipart/form-data body and its Content-Type, encoded by httpx as clients do."""
    request = httpx.Request("POST", "http://server/", files=list(files), data=data)
    return request.headers["content-type"], request.read()


def form_part(disposition, content=b"", boundary="b0undary"):
    """A multipart body of one part with this Content-Disposition (as a browser writes it)."""
    part = f"--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n\r\n".encode()
    body = part + content + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def read(content_type, body):
    media_type = content_type.split(";")[0]
    return read_image_request(media_type, content_type, body)


def rejected(content_type, body):
    with pytest.raises(RequestRejectedError) as error:
        read(content_type, body)
    return error.value


def png_header_only(width, height):
    """A PNG that declares ``width`` x ``height`` pixels (a decompression bomb's header)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("content_type", "body"), [("image/png", PNG), ("image/jpeg", JPEG)])
def test_an_image_body_is_one_normalised_digit(content_type, body):
    names, digits = read(content_type, body)
    assert names == ["request body"]
    assert digits.shape == (1, 28, 28) and digits.dtype == np.uint8
    np.testing.assert_array_equal(digits[0], read_digit_image(body))


def test_an_upload_of_several_files_keeps_their_order_and_names():
    content_type, body = multipart(
        [("file", ("one.png", PNG, "image/png")), ("file", ("two.jpg", JPEG, "image/jpeg"))]
    )
    names, digits = read(content_type, body)
    assert names == ["one.png", "two.jpg"]
    np.testing.assert_array_equal(digits, [read_digit_image(PNG), read_digit_image(JPEG)])


def test_a_file_part_without_a_file_name_is_named_by_its_field():
    names, digits = read(*form_part('name="drawing"; filename=""', PNG))
    assert names == ["drawing"]
    np.testing.assert_array_equal(digits[0], read_digit_image(PNG))


def test_pictures_are_decoded_by_content_not_by_the_declared_type():
    names, digits = read("image/png", JPEG)
    np.testing.assert_array_equal(digits[0], read_digit_image(JPEG))


@pytest.mark.parametrize(
    ("request_parts", "message"),
    [
        (("image/png", b""), "body is empty"),
        (("image/png", b"not a picture"), "allowed: PNG or JPEG"),
        (("image/png", picture_bytes(DIGITS[0], "GIF")), "GIF images are not accepted"),
        (multipart([("file", ("a.txt", b"hello", "text/plain"))]), "a.txt: not a readable image"),
        (form_part('name="digit"', b"7"), "fields that are not files (digit)"),
        (form_part('name="file"; filename=""'), "holds no file"),  # "no file chosen"
        (("multipart/form-data", b"--x\r\n"), "needs a boundary"),
        (("multipart/form-data; boundary=x", b"--x\r\nContent-Disp"), "cannot be parsed"),
    ],
)
def test_bad_pictures_and_uploads_get_400_naming_the_problem(request_parts, message):
    error = rejected(*request_parts)
    assert error.status == 400 and error.error_code == "INVALID_PARAMETER_VALUE"
    assert message in error.message


def test_an_upload_of_too_many_files_is_refused():
    files = [("file", (f"{i}.png", PNG, "image/png")) for i in range(MAX_UPLOAD_FILES + 1)]
    error = rejected(*multipart(files))
    assert error.status == 400 and f"more than {MAX_UPLOAD_FILES} parts" in error.message


def test_a_picture_with_too_many_pixels_gets_413_naming_its_size():
    side = int(MAX_IMAGE_PIXELS**0.5) + 1
    large = io.BytesIO()
    Image.new("L", (side, side)).save(large, format="PNG")  # real, compresses to ~30 KB
    error = rejected("image/png", large.getvalue())
    assert error.status == 413 and error.error_code == "RESOURCE_EXHAUSTED"
    assert f"request body: the picture is {side}x{side} pixels" in error.message
    assert f"at most {MAX_IMAGE_PIXELS:,} pixels" in error.message
    bomb = rejected(*multipart([("file", ("bomb.png", png_header_only(60000, 60000), "x/y"))]))
    assert bomb.status == 413 and bomb.message.startswith("bomb.png: ")


def test_many_large_pictures_together_are_refused():
    side = int(MAX_IMAGE_PIXELS**0.5) - 1
    large = io.BytesIO()
    Image.new("L", (side, side)).save(large, format="PNG")
    files = [("file", (f"{i}.png", large.getvalue(), "image/png")) for i in range(5)]
    error = rejected(*multipart(files))
    assert error.status == 413 and "together" in error.message


def test_the_image_the_model_saw_comes_back_as_a_png_data_url():
    digit = read_digit_image(PNG)
    url = png_data_url(digit)
    assert url.startswith("data:image/png;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert decoded.format == "PNG" and decoded.mode == "L"
    np.testing.assert_array_equal(np.asarray(decoded), digit)

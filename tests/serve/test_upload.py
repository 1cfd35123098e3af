"""Checks of an upload before any pixel is decoded."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from resattn.serve.limits import Limits
from resattn.serve.upload import BadRequest, check_image, media_type


def encoded(size, fmt="PNG", mode="L") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF"])
def test_common_formats_pass_with_their_size(fmt):
    assert check_image(encoded((40, 30), fmt), max_pixels=10_000) == (40, 30)


@pytest.mark.parametrize("data, status, words", [
    (b"", 400, "empty body"),
    (b"%PDF-1.7 not a picture", 422, "no known image format"),
    (b"\x89PNG\r\n\x1a\n", 422, "not an image"),  # a PNG signature and nothing after it
])
def test_bad_bytes(data, status, words):
    with pytest.raises(BadRequest) as err:
        check_image(data, max_pixels=10_000)
    assert err.value.status == status and words in err.value.reason


def test_pixel_limit_is_read_from_the_header():
    data = encoded((101, 100), mode="1")
    assert check_image(data, max_pixels=10_100) == (101, 100)
    with pytest.raises(BadRequest) as err:
        check_image(data, max_pixels=10_099)
    assert err.value.status == 413 and "101x100 = 10,100 pixels" in err.value.reason


def test_media_type_drops_parameters():
    assert media_type("Multipart/Form-Data; boundary=xyz") == "multipart/form-data"
    assert media_type(None) == "" and media_type("image/png") == "image/png"


def test_limits_are_checked():
    with pytest.raises(ValueError, match="max_body_bytes"):
        Limits(max_body_bytes=0)
    with pytest.raises(ValueError, match="max_waiting"):
        Limits(max_waiting=-1)

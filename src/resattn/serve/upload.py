"""Take the image out of a request and check it before any pixel is decoded: a 4xx with one line for bad input."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, UnidentifiedImageError

from .limits import BadRequest

FILE_FIELD = "file"
RAW_TYPES = ("application/octet-stream",)  # besides every image/* type
ACCEPTED = (f"send multipart/form-data with a '{FILE_FIELD}' field, or the raw image with an image/* or "
            "application/octet-stream Content-Type")


def media_type(content_type: str | None) -> str:
    """``"multipart/form-data; boundary=x"`` -> ``"multipart/form-data"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


async def read_upload(request: Any) -> bytes:
    """The uploaded file's bytes from a Starlette request: a multipart ``file`` field or the raw body."""
    media = media_type(request.headers.get("content-type"))
    if not media:
        raise BadRequest(415, f"no Content-Type header: {ACCEPTED}")
    if media == "multipart/form-data":
        return await _multipart_file(request)
    if media.startswith("image/") or media in RAW_TYPES:
        return await request.body()
    raise BadRequest(415, f"Content-Type {media} is not accepted: {ACCEPTED}")


async def _multipart_file(request: Any) -> bytes:
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartException

    try:
        # One file and a few fields at most: a form with thousands of parts would only cost parsing time.
        form = await request.form(max_files=1, max_fields=8)
    except (HTTPException, MultiPartException) as err:
        raise BadRequest(400, f"malformed multipart body: {getattr(err, 'detail', None) or err}") from err
    upload = form.get(FILE_FIELD)
    if upload is None:
        raise BadRequest(400, f"the multipart body has no '{FILE_FIELD}' field: {ACCEPTED}")
    if isinstance(upload, str):
        raise BadRequest(400, f"the '{FILE_FIELD}' field is text, not a file: {ACCEPTED}")
    try:
        return await upload.read()
    finally:
        await upload.close()


def check_image(data: bytes, max_pixels: int) -> tuple[int, int]:
    """``(width, height)`` of an encoded image, read from its header only; raises :class:`BadRequest` when the
    bytes are empty, not an image, or over ``max_pixels`` (checked before decoding, so a huge image costs nothing)."""
    if not data:
        raise BadRequest(400, "empty body: no image was sent")
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except Image.DecompressionBombError as err:  # PIL's own, higher limit: refused while reading the header
        raise BadRequest(413, f"image over the pixel limit of {max_pixels:,}: {err}") from err
    except UnidentifiedImageError as err:  # its message names only the in-memory buffer
        raise BadRequest(422, f"not an image: the {len(data):,} bytes are in no known image format (send PNG, "
                              "JPEG, BMP, GIF, WebP or TIFF)") from err
    except (OSError, SyntaxError, ValueError) as err:
        raise BadRequest(422, f"not an image that can be read: {first_line(err)}") from err
    if width * height > max_pixels:
        raise BadRequest(413, f"image is {width}x{height} = {width * height:,} pixels, over the limit of "
                              f"{max_pixels:,}")
    return width, height


def first_line(err: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__

"""A small client of the JSON API on the standard library only (tests, the latency benchmark, scripts)::

    status, out = post_image("http://127.0.0.1:8000/api/predict", Path("shirt.png").read_bytes())
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any


def multipart_body(data: bytes, filename: str = "image.png", field: str = "file",
                   content_type: str = "image/png") -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body holding one file, and its Content-Type header (as ``curl -F`` sends it)."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), {"Content-Type": f"multipart/form-data; "
                                                                              f"boundary={boundary}"}


def call(url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None,
         timeout: float = 120.0) -> tuple[int, Any]:
    """``(status, decoded JSON body)``; an error status is returned with its body, not raised."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def post_image(url: str, data: bytes, filename: str = "image.png", content_type: str = "image/png",
               timeout: float = 120.0) -> tuple[int, Any]:
    """POST one image file as multipart/form-data to ``url`` (``.../api/predict`` or ``.../api/masks``)."""
    body, headers = multipart_body(data, filename, content_type=content_type)
    return call(url, body, headers, timeout=timeout)

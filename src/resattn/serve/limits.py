"""What the server accepts, and the one-line 4xx errors it answers with when a request is outside it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on one request.

    Args:
        max_body_bytes: largest request body (the multipart envelope included); larger ones get 413 before the
            server reads them.
        max_pixels: largest decoded image (width x height); the header is checked before the pixels are decoded.
        max_waiting: requests allowed to wait for a free inference worker; one more gets 503 at once.
    """

    max_body_bytes: int = 10 * MiB
    max_pixels: int = 25_000_000
    max_waiting: int = 8

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_pixels"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_waiting < 0:
            raise ValueError(f"max_waiting must be 0 or more, got {self.max_waiting}")


class BadRequest(Exception):
    """A request the server refuses: an HTTP status and a one-line reason meant for the person who sent it."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def error_body(reason: str) -> bytes:
    """The JSON body of every error answer: FastAPI's ``{"detail": ...}`` shape, so clients read one format."""
    return json.dumps({"detail": reason}).encode()


class BodyLimitMiddleware:
    """ASGI middleware: refuses a request body over ``max_bytes`` with 413, whether announced or streamed.

    A declared ``Content-Length`` over the limit is refused before any byte is read; a chunked body is counted as it
    arrives and refused as soon as it passes the limit. The body is buffered (it is at most ``max_bytes``) and
    replayed to the application, so no handler ever sees a partial upload.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> str:
        return f"request body over the limit of {self.max_bytes:,} bytes ({self.max_bytes / MiB:.1f} MiB)"

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, self._too_large())
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:  # the application asks again only to wait for a disconnect
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(send: Any, reason: str) -> None:
        body = error_body(reason)
        # "connection: close": the unread rest of the body must not be taken for the next request.
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

"""A real uvicorn server on a loopback port, serving the released Fashion-MNIST model, for the API and browser tests."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from resattn.engine.restore import load_model
from resattn.serve import Limits, ModelService, create_app

SERVE_EXTRA = "the server needs the serve extra: pip install 'resattn[serve]' (make install does)"

EXAMPLES = Path(__file__).parents[2] / "src" / "resattn" / "serve" / "static" / "examples"
RELEASED = "attention56_cifar.fmnist"
# Small limits, so that the tests can pass them with small requests.
TEST_LIMITS = Limits(max_body_bytes=256 * 1024, max_pixels=1_000_000, max_waiting=2)


class LiveServer:
    """uvicorn in a thread on a socket bound to a free loopback port; ``stop`` ends it."""

    def __init__(self, app) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs=dict(sockets=[self.sock]), daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


class Api:
    """Plain urllib requests to a live server; error statuses are returned with their JSON body, not raised."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None,
             method: str | None = None) -> tuple[int, dict]:
        req = urllib.request.Request(self.url + path, data=data, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def post_file(self, path: str, data: bytes, filename: str = "image.png", field: str = "file",
                  content_type: str = "image/png") -> tuple[int, dict]:
        """POST one file as multipart/form-data, as the page and ``curl -F`` send it."""
        boundary = "resattn-test-boundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
                f"Content-Type: {content_type}\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        return self.call(path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


@pytest.fixture(scope="session")
def released_service():
    loaded = load_model(model=RELEASED, pretrained=True)
    service = ModelService(loaded, f"released weights {RELEASED}", limits=TEST_LIMITS)
    yield service
    service.close()


@pytest.fixture(scope="session")
def live_server(released_service):
    pytest.importorskip("fastapi", reason=SERVE_EXTRA)
    pytest.importorskip("uvicorn", reason=SERVE_EXTRA)
    server = LiveServer(create_app(released_service)).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def api(live_server) -> Api:
    return Api(live_server.url)


@pytest.fixture(scope="session")
def example():
    """The bytes of a bundled example image by name (``"trouser"``)."""
    return lambda name: (EXAMPLES / f"{name}.png").read_bytes()

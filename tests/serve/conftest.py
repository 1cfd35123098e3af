"""A real uvicorn server on a loopback port, serving the released Fashion-MNIST model, for the API and browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from resattn.engine.restore import load_model
from resattn.serve import Limits, ModelService, client, create_app

SERVE_EXTRA = "the server needs the serve extra: pip install 'resattn[serve]' (make install does)"

EXAMPLES = Path(__file__).parents[2] / "src" / "resattn" / "serve" / "static" / "examples"
RELEASED = "attention56_cifar.fmnist"
# Small limits, so that the tests can pass them with small requests.
TEST_LIMITS = Limits(max_body_bytes=256 * 1024, max_pixels=1_000_000, max_waiting=2)


class Api:
    """Requests to the live server; error statuses are returned with their JSON body, not raised."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None,
             method: str | None = None) -> tuple[int, dict]:
        return client.call(self.url + path, data, headers, method)

    def post_file(self, path: str, data: bytes, filename: str = "image.png",
                  content_type: str = "image/png") -> tuple[int, dict]:
        """POST one file as multipart/form-data, as the page and ``curl -F`` send it."""
        return client.post_image(self.url + path, data, filename, content_type)


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
    from resattn.serve.background import BackgroundServer

    server = BackgroundServer(create_app(released_service)).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def api(live_server) -> Api:
    return Api(live_server.url)


@pytest.fixture(scope="session")
def example():
    """The bytes of a bundled example image by name (``"trouser"``)."""
    return lambda name: (EXAMPLES / f"{name}.png").read_bytes()

"""The JSON API of `resattn serve` on a real uvicorn server with the released Fashion-MNIST weights."""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

from resattn.analysis.mask_health import FLAT_CONTRAST

MODULES = ["stages.0.blocks.1", "stages.1.blocks.1", "stages.2.blocks.1"]  # attention56_cifar: one per stage


def png_of(data_url: str) -> Image.Image:
    assert data_url.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))


def encoded(size: tuple[int, int], fmt: str = "PNG", mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 0).save(buffer, format=fmt)
    return buffer.getvalue()


@contextmanager
def page_text(url: str) -> Iterator[str]:
    with urllib.request.urlopen(url, timeout=60) as resp:  # raises on a 4xx / 5xx
        yield resp.read().decode("utf-8", "replace")


def test_model_describes_the_input_and_every_module(api):
    status, info = api.call("/api/model")
    assert status == 200
    assert info["name"] == "attention56_cifar.fmnist" and info["dataset"] == "fashion_mnist"
    assert info["classes"][1] == "Trouser" and len(info["classes"]) == 10
    assert info["input"]["in_chans"] == 1 and info["input"]["size"] == 28
    assert info["input"]["mean"] == pytest.approx([0.2860]) and info["input"]["std"] == pytest.approx([0.3530])
    assert [m["name"] for m in info["modules"]] == MODULES
    assert [m["shape"] for m in info["modules"]] == [[64, 28, 28], [128, 14, 14], [256, 7, 7]]
    assert info["mask_scale"] == [0.0, 1.0] and info["flat_threshold"] == FLAT_CONTRAST
    assert "/static/examples/trouser.png" in info["examples"]


@pytest.mark.parametrize("name, label", [("trouser", "Trouser"), ("ankle_boot", "Ankle boot")])
def test_predict_names_the_garment(api, example, name, label):
    status, out = api.post_file("/api/predict?topk=3", example(name))
    assert status == 200
    preds = out["predictions"]
    assert [p["label"] for p in preds][0] == label and len(preds) == 3
    assert preds[0]["prob"] > 0.5 and preds[0]["prob"] >= preds[1]["prob"] >= preds[2]["prob"]


def test_raw_image_body_is_accepted_like_a_form(api, example):
    status, raw = api.call("/api/predict", example("trouser"), {"Content-Type": "image/png"})
    assert status == 200
    assert raw == api.post_file("/api/predict", example("trouser"))[1]


def test_masks_give_one_picture_and_health_per_module(api, example):
    status, out = api.post_file("/api/masks", example("trouser"))
    assert status == 200
    assert out["predictions"][0]["label"] == "Trouser"
    assert png_of(out["input_png"]).size == (28, 28)
    assert [m["name"] for m in out["modules"]] == MODULES
    for module in out["modules"]:
        for key in ("mask_png", "overlay_png"):
            picture = png_of(module[key])
            assert picture.size == (28, 28) and picture.mode == "RGB"  # upsampled to the input, coloured
        stats = module["stats"]
        assert 0.0 <= stats["min"] <= stats["mean"] <= stats["max"] <= 1.0
        assert module["flat"] == (stats["contrast_median"] < FLAT_CONTRAST)
    assert out["flat_stages"] == [s for s, c in out["stage_contrast"].items() if c < FLAT_CONTRAST]


def test_input_picture_is_the_image_as_sent(api, example):
    """A 28x28 grey image reaches the model unchanged, so undoing the normalisation must give its pixels back."""
    status, out = api.post_file("/api/masks", example("shirt"))
    assert status == 200
    shown = np.asarray(png_of(out["input_png"]).convert("L"), dtype=np.int16)
    sent = np.asarray(Image.open(io.BytesIO(example("shirt"))).convert("L"), dtype=np.int16)
    assert np.abs(shown - sent).max() <= 1


def test_max_reduction_draws_the_strongest_channel(api, example):
    _, mean = api.post_file("/api/masks?reduction=mean", example("trouser"))
    status, top = api.post_file("/api/masks?reduction=max", example("trouser"))
    assert status == 200 and top["reduction"] == "max"
    for a, b in zip(mean["modules"], top["modules"], strict=True):
        assert b["drawn_max"] > a["drawn_max"]


BAD_REQUESTS = [
    # (what, path, body, headers, status, words in the reason)
    ("empty body", "/api/predict", b"", {"Content-Type": "image/png"}, 400, "empty body"),
    ("text file", "/api/predict", b"just some words\n", {"Content-Type": "image/png"}, 422, "not an image"),
    ("no content type", "/api/masks", b"\x89PNG", {"Content-Type": ""}, 415, "no Content-Type"),
    ("JSON", "/api/predict", b"{}", {"Content-Type": "application/json"}, 415, "application/json is not accepted"),
    ("form without file", "/api/predict",
     b"--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--\r\n",
     {"Content-Type": "multipart/form-data; boundary=b"}, 400, "no 'file' field"),
    ("bad reduction", "/api/masks?reduction=median", None, None, 422, "reduction"),
    ("bad topk", "/api/predict?topk=0", None, None, 422, "topk"),
]


@pytest.mark.parametrize("what, path, body, headers, status, words", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_request_is_a_one_line_4xx_and_the_server_goes_on(api, example, what, path, body, headers, status, words):
    if body is None:  # a good image with a bad query
        body, headers = example("trouser"), {"Content-Type": "image/png"}
    got, out = api.call(path, body, headers, method="POST")
    assert got == status, out
    assert words in out["detail"] and "\n" not in out["detail"]
    assert api.post_file("/api/predict", example("trouser"))[1]["predictions"][0]["label"] == "Trouser"


def test_truncated_image_is_refused(api):
    png = encoded((64, 64))
    status, out = api.post_file("/api/predict", png[: len(png) // 2])
    assert status == 422 and "truncated" in out["detail"]
    jpeg = encoded((64, 64), "JPEG")
    status, out = api.post_file("/api/masks", jpeg[: len(jpeg) // 2], content_type="image/jpeg")
    assert status == 422 and "truncated" in out["detail"].lower()
    assert api.call("/api/model")[0] == 200


def test_too_many_pixels_is_refused_before_decoding(api):
    status, out = api.post_file("/api/predict", encoded((1001, 1000), mode="1"))  # 1,001,000 > the test limit
    assert status == 413 and "1001x1000 = 1,001,000 pixels" in out["detail"]
    assert api.call("/api/model")[0] == 200


def test_oversized_body_is_refused_announced_or_chunked(api, live_server, example):
    too_big = b"\0" * (300 * 1024)  # over the test limit of 256 KiB
    status, out = api.call("/api/predict", too_big, {"Content-Type": "image/png"})
    assert status == 413 and "over the limit of 262,144 bytes" in out["detail"]
    # chunked: no Content-Length, so the server must count while reading
    url = urlparse(live_server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    conn.putrequest("POST", "/api/masks")
    conn.putheader("Content-Type", "image/png")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    try:
        for start in range(0, len(too_big), 64 * 1024):
            chunk = too_big[start : start + 64 * 1024]
            conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before the last chunk
    response = conn.getresponse()
    assert response.status == 413 and "over the limit" in json.loads(response.read())["detail"]
    conn.close()
    assert api.post_file("/api/predict", example("trouser"))[0] == 200


def test_concurrent_requests_all_answered(api, example):
    """More requests than workers plus waiting places: each is answered 200 or, past the bound, 503 at once."""
    data = example("pullover")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: api.post_file("/api/masks", data), range(8)))
    statuses = [s for s, _ in results]
    assert set(statuses) <= {200, 503} and statuses.count(200) >= 3  # 1 worker + 2 waiting places
    assert all("server busy" in out["detail"] for s, out in results if s == 503)
    labels = {out["predictions"][0]["label"] for s, out in results if s == 200}
    assert len(labels) == 1  # concurrent passes did not mix up each other's results
    assert api.post_file("/api/predict", data)[0] == 200


def test_openapi_documents_the_three_endpoints(api):
    status, schema = api.call("/openapi.json")
    assert status == 200
    paths = schema["paths"]
    assert set(paths) >= {"/api/model", "/api/predict", "/api/masks"}
    for path in ("/api/predict", "/api/masks"):
        body = paths[path]["post"]["requestBody"]["content"]
        assert {"multipart/form-data", "image/*"} <= set(body)
        assert {"413", "415", "422"} <= set(paths[path]["post"]["responses"])
    assert "MasksResponse" in schema["components"]["schemas"]


@pytest.mark.parametrize("path", ["/", "/docs", "/static/app.js", "/static/style.css"])
def test_pages_load_nothing_from_the_internet(live_server, path):
    with page_text(live_server.url + path) as text:
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), "an asset from another host"
        assert "fetch(\"http" not in text and "cdn" not in text.lower()


def test_docs_assets_are_served_locally(live_server):
    with page_text(live_server.url + "/docs") as text:
        for asset in re.findall(r"""(?:src|href)="(/[^"]+)\"""", text):
            with page_text(live_server.url + asset) as body:
                assert body

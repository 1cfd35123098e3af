"""ModelService on masks whose values the test sets: flat flags, fixed-scale colours, input preparation."""

from __future__ import annotations

import asyncio
import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

import resattn
from resattn.analysis.mask_health import FLAT_CONTRAST, knock_out_masks
from resattn.data.input_spec import spec_for_dataset
from resattn.engine.restore import LoadedModel
from resattn.serve import BadRequest, ModelService
from resattn.serve.render import colormap_lut
from resattn.viz.recorder import mask_modules


@pytest.fixture(scope="module")
def service():
    model = resattn.create_model("attention56_cifar", in_chans=1, num_classes=10).eval()
    loaded = LoadedModel(model, "attention56_cifar", "fashion_mnist", [f"c{i}" for i in range(10)])
    svc = ModelService(loaded, "random initialisation", spec=spec_for_dataset("fashion_mnist", in_chans=1))
    yield svc
    svc.close()


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def pixels(data_url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB"))


def checkerboard(module, args, out):
    h, w = out.shape[-2:]
    board = ((torch.arange(h)[:, None] + torch.arange(w)[None, :]) % 2).to(out.dtype)
    return board.expand_as(out).clone()


def test_flat_and_living_masks_are_told_apart_and_drawn_on_one_scale(service):
    model = service.replicas[0].model
    first = next(iter(mask_modules(model).values()))
    image = png_bytes(np.full((28, 28), 200, np.uint8))
    handle = first.register_forward_hook(checkerboard)  # stage 1: M alternates 0 and 1, as spatial as it gets
    try:
        with knock_out_masks(model, ["stages.1.blocks.1"], "constant"):  # stage 2: M = 0.5 everywhere
            out = asyncio.run(service.masks(image, k=3))
    finally:
        handle.remove()
    living, flat = out["modules"][0], out["modules"][1]
    assert living["stats"]["contrast_median"] == pytest.approx(0.5) and not living["flat"]
    assert living["stats"]["frac_outside"] == pytest.approx(1.0)
    assert flat["stats"]["contrast_median"] == pytest.approx(0.0) and flat["flat"]
    assert "stage2" in out["flat_stages"] and "stage1" not in out["flat_stages"]
    assert out["flat_threshold"] == FLAT_CONTRAST

    lut = colormap_lut()
    board = pixels(living["mask_png"])  # stage 1 is at the input's 28x28: no upsampling between the cells
    assert (board[0, 0] == lut[0]).all() and (board[0, 1] == lut[255]).all()
    constant = pixels(flat["mask_png"])
    assert (constant == lut[128]).all()  # 0.5 is the middle colour, not stretched to either end
    assert [p["label"] for p in out["predictions"]][0].startswith("c") and len(out["predictions"]) == 3


def test_recorder_hooks_are_gone_after_a_request(service):
    model = service.replicas[0].model
    before = sum(len(m._forward_hooks) for m in model.modules())
    asyncio.run(service.masks(png_bytes(np.zeros((28, 28), np.uint8))))
    asyncio.run(service.predict(png_bytes(np.zeros((28, 28), np.uint8))))
    assert sum(len(m._forward_hooks) for m in model.modules()) == before


def test_colour_image_becomes_one_grey_channel_at_the_dataset_size(service):
    rgb = np.zeros((60, 90, 3), np.uint8)
    rgb[..., 1] = 255  # pure green: grey 150 by PIL's luma
    x = service.preprocess(png_bytes(rgb))
    assert x.shape == (1, 1, 28, 28)
    grey = x * 0.3530 + 0.2860
    assert torch.allclose(grey, torch.full_like(grey, 150 / 255), atol=1e-3)


def test_unknown_reduction_is_refused(service):
    with pytest.raises(BadRequest, match="reduction must be one of mean, max"):
        asyncio.run(service.masks(png_bytes(np.zeros((28, 28), np.uint8)), reduction="median"))


def test_default_spec_is_the_one_predict_uses():
    model = resattn.create_model("attention56", num_classes=10).eval()
    svc = ModelService(LoadedModel(model, "attention56"), "random initialisation")
    try:
        assert (svc.spec.preset, svc.spec.in_chans, svc.spec.img_size) == ("imagenet", 3, 224)
        x = svc.preprocess(png_bytes(np.zeros((300, 400, 3), np.uint8)))
        assert x.shape == (1, 3, 224, 224)  # shorter side to 256, centre crop 224
    finally:
        svc.close()


def test_a_model_without_masks_is_refused():
    net = resattn.create_model("preact_resnet164_cifar", num_classes=10).eval()
    with pytest.raises(ValueError, match="no soft masks"):
        ModelService(LoadedModel(net, "preact_resnet164_cifar", "cifar10"), "random")

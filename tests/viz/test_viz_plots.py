"""mask_grid figures (RGB and grayscale) and `resattn visualize` end to end; CLI errors are one clear line."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import resattn
from resattn.cli import main
from resattn.engine.checkpoint import export_safetensors
from resattn.viz import describe_mask, display_images, mask_grid

NAMES = [f"stages.{i}.blocks.1.mask.head.act" for i in range(3)]



def _masks(n: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return {name: torch.rand(n, chs, size, size, generator=gen)
            for name, chs, size in zip(NAMES, (64, 128, 256), (16, 8, 4))}


def _png_size(path) -> tuple[int, int]:
    with Image.open(path) as img:
        assert img.format == "PNG"
        return img.size


@pytest.mark.parametrize("chans, overlay, columns", [(3, True, 4), (1, False, 4), (1, "both", 7)])
def test_mask_grid_writes_png(tmp_path, chans, overlay, columns):
    images = torch.randn(2, chans, 16, 16)
    path = tmp_path / "sub" / "grid.png"
    fig = mask_grid(images, _masks(2), titles=["a.png", "b.png"], overlay=overlay, path=path,
                    mean=(0.5,) * chans, std=(0.25,) * chans)
    grid = [ax for ax in fig.axes if ax.images]  # the colour bar draws no image
    assert len(grid) == 2 * columns
    assert grid[1].get_title().startswith("stage 1 · 16x16, 64 ch\nstages.0.blocks.1")
    assert grid[0].get_ylabel() == "a.png" and grid[columns].get_ylabel() == "b.png"
    width, height = _png_size(path)
    assert width > height > 100


def test_mask_grid_fixed_range_and_channel(tmp_path):
    fig = mask_grid(torch.randn(1, 3, 16, 16), _masks(1), reduction=3, value_range=(0.0, 1.0),
                    path=tmp_path / "g.png")
    assert "channel 3" in fig.axes[-1].get_ylabel()  # the colour bar names the reduction
    assert _png_size(tmp_path / "g.png")


def _mask_norms(fig):
    return [(ax.images[-1].norm.vmin, ax.images[-1].norm.vmax) for ax in fig.axes[:-1] if len(ax.images) > 1]


def test_every_map_shares_one_scale_by_default():
    # a nearly flat mask and a strong one: both on 0..1, so the flat one cannot look like attention
    masks = {NAMES[0]: 0.5 + 0.001 * torch.rand(2, 4, 4, 4), NAMES[1]: torch.rand(2, 4, 4, 4)}
    fig = mask_grid(torch.randn(2, 1, 8, 8), masks)
    assert set(_mask_norms(fig)) == {(0.0, 1.0)}
    assert "one scale for every map" in fig.axes[-1].get_ylabel()
    assert not fig.get_suptitle()
    # masks outside [0, 1] (channel-normalised) share the range of all their values
    signed = {NAMES[0]: torch.linspace(-0.5, 0.25, 16).view(1, 1, 4, 4), NAMES[1]: torch.full((1, 1, 4, 4), 0.75)}
    assert set(_mask_norms(mask_grid(torch.randn(1, 1, 8, 8), signed))) == {(-0.5, 0.75)}


def test_stretching_is_explicit_and_said_on_the_figure():
    masks = {NAMES[0]: 0.5 + 0.01 * torch.rand(1, 4, 4, 4)}
    fig = mask_grid(torch.randn(1, 1, 8, 8), masks, stretch=True)
    (vmin, vmax), = _mask_norms(fig)
    assert 0.5 <= vmin < vmax <= 0.51
    assert "STRETCHED" in fig.get_suptitle() and "own range" in fig.axes[-1].get_ylabel()


def test_flat_mask_is_flagged_in_its_title():
    flat = 0.5 + 0.001 * torch.rand(2, 8, 4, 4)  # spatial std about 0.0003
    board = ((torch.arange(4)[:, None] + torch.arange(4)) % 2).float().expand(2, 8, 4, 4)
    fig = mask_grid(torch.randn(2, 1, 8, 8), {NAMES[0]: flat, NAMES[1]: board})
    titles = [ax.get_title() for ax in fig.axes[1:3]]
    assert "FLAT" in titles[0] and "FLAT" not in titles[1]


def test_constant_mask_is_labelled_not_stretched():
    fig = mask_grid(torch.randn(1, 3, 8, 8), {NAMES[0]: torch.full((1, 4, 4, 4), 0.75)}, stretch=True)
    assert fig.axes[1].get_xlabel() == "M = 0.75 everywhere"
    image = fig.axes[1].images[-1]
    assert image.norm.vmin < 0.75 < image.norm.vmax  # drawn in the middle colour, not as the lowest one


def test_display_images_undoes_the_normalisation():
    raw = torch.rand(2, 3, 5, 5)
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
    normed = (raw - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    np.testing.assert_allclose(display_images(normed, mean, std), raw.permute(0, 2, 3, 1).numpy(), atol=1e-6)
    gray = display_images(torch.linspace(-3, 5, 16).view(1, 1, 4, 4))  # no stats: stretched to [0, 1]
    assert gray.shape == (1, 4, 4, 1) and gray.min() == 0.0 and gray.max() == 1.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(masks={}), "No masks"),
        (dict(titles=["only one"]), "Got 1 titles for 2 images"),
        (dict(overlay="yes"), "overlay must be"),
        (dict(masks={"m": torch.rand(3, 4, 4, 4)}), r"Mask 'm' has shape \(3, 4, 4, 4\)"),
        (dict(images=torch.randn(2, 2, 8, 8)), r"\(N, 1 or 3, H, W\)"),
        (dict(reduction=100), "Mask 'stages.0.blocks.1': Channel index 100 is out of range"),
    ],
)
def test_mask_grid_errors(kwargs, message):
    args = dict(images=torch.randn(2, 3, 8, 8), masks=_masks(2)) | kwargs
    with pytest.raises(ValueError, match=message):
        mask_grid(**args)


def test_describe_mask():
    assert describe_mask(NAMES[2], torch.zeros(1, 256, 8, 8)) == "stage 3 · 8x8, 256 ch\nstages.2.blocks.1"
    assert describe_mask("mask.head.act", torch.zeros(1, 4, 2, 2)) == "2x2, 4 ch\nmask.head.act"


# ------------------------------------------------------------------------------------------------------------ CLI
@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """An untrained attention56_cifar saved the way `resattn train` saves best.safetensors (no training needed)."""
    path = tmp_path_factory.mktemp("ckpt") / "best.safetensors"
    model = resattn.create_model("attention56_cifar", num_classes=4)
    meta = dict(model="attention56_cifar", model_args=json.dumps(dict(num_classes=4)), dataset="fake",
                class_names=json.dumps(["cat", "dog", "ship", "tree"]))
    return export_safetensors(model.state_dict(), path, metadata=meta)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imgs")
    for i in range(3):
        Image.fromarray(np.full((20, 30, 3), 70 * i, dtype=np.uint8)).save(folder / f"im{i}.png")
    Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16)).save(folder / "gray.jpg")
    return folder


def test_cli_checkpoint_writes_png(weights, images, tmp_path, capsys):
    out = tmp_path / "figs" / "masks.png"
    assert main(["visualize", "--checkpoint", str(weights), "--images", str(images), "--output", str(out),
                 "--max-images", "2", "--modules", "stages.0.blocks.1", "stages.2", "--reduction", "max"]) == 0
    printed = capsys.readouterr().out
    assert "first 2 of 4 images" in printed and f"Wrote {out} (2 images x 2 masks" in printed
    assert _png_size(out)


def test_cli_untrained_grayscale_model(images, tmp_path, capsys):
    # --dataset fashion_mnist builds the zoo model with one input channel; images are read as grayscale
    out = tmp_path / "fm.png"
    assert main(["visualize", "--model", "attention56_cifar", "--dataset", "fashion_mnist", "--images",
                 str(images / "gray.jpg"), str(images / "im1.png"), "--output", str(out), "--reduction", "3",
                 "--no-overlay"]) == 0
    assert "Wrote" in capsys.readouterr().out and _png_size(out)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--modules", "stages.0.blocks.0"], "holds no soft mask; available: stages.0.blocks.1"),
        (["--reduction", "64"], "Channel index 64 is out of range"),
        (["--model", "attention92_cifar"], "does not fit attention92_cifar"),  # weights of another architecture
    ],
)
def test_cli_user_errors_are_one_line(weights, images, tmp_path, capsys, extra, message):
    argv = ["visualize", "--checkpoint", str(weights), "--images", str(images / "im0.png"),
            "--output", str(tmp_path / "x.png"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not (tmp_path / "x.png").exists()
    assert len(err.strip().splitlines()) == 1 and len(err) < 500


@pytest.mark.parametrize("name, content", [("best.pt", b"PK\x03\x04 truncated zip"),
                                           ("best.safetensors", b"not a safetensors file")])
def test_cli_corrupt_checkpoint_is_clear(images, tmp_path, capsys, name, content):
    bad = tmp_path / name
    bad.write_bytes(content)
    assert main(["visualize", "--checkpoint", str(bad), "--images", str(images), "--output",
                 str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("resattn visualize: error:") and name in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_folder_output_writes_one_png_per_image_and_a_contact_sheet(weights, images, tmp_path, capsys):
    (images.parent / "with_bad").mkdir(exist_ok=True)
    bad_dir = images.parent / "with_bad"
    (bad_dir / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path / "masks"
    code = main(["visualize", "--checkpoint", str(weights), "--images", str(images), str(bad_dir), "--output",
                 str(out), "--max-images", "2"])
    captured = capsys.readouterr()
    assert code == 1  # one unreadable file: said, the rest drawn, non-zero exit
    assert "broken.png" in captured.out and "1 of 5 images could not be read" in captured.err
    written = sorted(p.name for p in out.iterdir())
    assert written == ["contact_sheet.png", "gray_masks.png", "im0_masks.png", "im1_masks.png", "im2_masks.png"]
    assert "one colour scale for every map" in captured.out
    sheet_w, sheet_h = _png_size(out / "contact_sheet.png")
    one_w, one_h = _png_size(out / "im0_masks.png")
    assert sheet_h > one_h  # two rows against one

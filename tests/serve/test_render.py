"""The pictures: masks on one fixed colour scale, and the input with its normalisation undone."""

from __future__ import annotations

import numpy as np
import torch

from resattn.serve.render import MASK_SCALE, blend, color_mask, colorbar, colormap_lut, display_image


def test_scale_is_fixed_not_stretched_per_map():
    lut = colormap_lut()
    narrow = torch.tensor([[0.45, 0.55]])  # a nearly flat mask must look nearly flat
    colors = color_mask(narrow, lut)
    assert (colors[0, 0] == lut[round(0.45 * 255)]).all() and (colors[0, 1] == lut[round(0.55 * 255)]).all()
    assert not (colors[0, 0] == lut[0]).all() and not (colors[0, 1] == lut[-1]).all()


def test_scale_ends_and_clipping():
    lut = colormap_lut()
    assert MASK_SCALE == (0.0, 1.0)
    colors = color_mask(torch.tensor([[0.0, 1.0, -0.2, 1.3]]), lut)
    assert (colors[0, 0] == lut[0]).all() and (colors[0, 1] == lut[-1]).all()
    assert (colors[0, 2] == lut[0]).all() and (colors[0, 3] == lut[-1]).all()


def test_colormap_runs_from_dark_to_light():
    lut = colormap_lut().astype(float)
    luminance = lut @ np.array([0.299, 0.587, 0.114])
    assert lut.shape == (256, 3) and (np.diff(luminance) > -1.0).all() and luminance[-1] - luminance[0] > 150


def test_colorbar_is_the_lookup_table_left_to_right():
    lut = colormap_lut()
    bar = colorbar(lut, width=256, height=4)
    assert bar.shape == (4, 256, 3) and (bar[0] == lut).all() and (bar[3] == lut).all()


def test_display_image_undoes_the_normalisation():
    pixels = torch.tensor([[[0.0, 0.2860, 1.0]]])  # (1, 1, 3) in [0, 1]
    x = (pixels - 0.2860) / 0.3530
    shown = display_image(x, (0.2860,), (0.3530,))
    assert shown.shape == (1, 3, 3) and shown.dtype == np.uint8
    assert shown[0, :, 0].tolist() == [0, 73, 255] and (shown[..., 0] == shown[..., 2]).all()


def test_blend_mixes_by_opacity():
    image = np.zeros((1, 1, 3), np.uint8)
    colors = np.full((1, 1, 3), 200, np.uint8)
    assert blend(image, colors, 0.25)[0, 0].tolist() == [50, 50, 50]

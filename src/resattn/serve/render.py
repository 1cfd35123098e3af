"""Pictures for the page: the input as the model saw it, and masks coloured on one fixed scale (never per map)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

# Every mask is coloured on this one scale, so that the same colour means the same M in every module and every
# image; a map stretched to its own range would make a mask of 0.49-0.51 look as decided as one of 0-1.
MASK_SCALE = (0.0, 1.0)
# Perceptually uniform and readable in grey: equal steps of M look like equal steps of colour.
COLORMAP = "viridis"


def colormap_lut(name: str = COLORMAP) -> np.ndarray:
    """The colour map as a ``(256, 3)`` uint8 lookup table."""
    from matplotlib import colormaps

    return (colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3] * 255.0).round().astype(np.uint8)


def color_mask(mask: torch.Tensor, lut: np.ndarray, scale: tuple[float, float] = MASK_SCALE) -> np.ndarray:
    """A ``(H, W)`` map -> ``(H, W, 3)`` uint8 colours on the fixed ``scale``; values outside it are clipped."""
    lo, hi = scale
    unit = ((mask.detach().float().cpu() - lo) / (hi - lo)).clamp(0.0, 1.0)
    index = (unit * (len(lut) - 1)).round().long().numpy()
    return lut[index]


def display_image(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """A normalised model input ``(C, H, W)`` -> ``(H, W, 3)`` uint8 with the normalisation undone."""
    mean_t = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)
    pixels = (x.detach().float().cpu() * std_t + mean_t).clamp(0.0, 1.0)
    if pixels.shape[0] == 1:
        pixels = pixels.expand(3, -1, -1)
    return (pixels * 255.0).round().to(torch.uint8).permute(1, 2, 0).numpy()


def blend(image: np.ndarray, colors: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """``colors`` laid over ``image`` (both ``(H, W, 3)`` uint8) with opacity ``alpha``."""
    mixed = (1.0 - alpha) * image.astype(np.float32) + alpha * colors.astype(np.float32)
    return mixed.round().astype(np.uint8)


def colorbar(lut: np.ndarray, width: int = 256, height: int = 12) -> np.ndarray:
    """A horizontal bar from the low end of the scale (left) to the high end (right)."""
    row = lut[np.linspace(0, len(lut) - 1, width).round().astype(int)]
    return np.repeat(row[None], height, axis=0)


def png(array: np.ndarray) -> bytes:
    """PNG bytes of a ``(H, W, 3)`` uint8 array."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(png_bytes: bytes) -> str:
    """A ``data:`` URL an ``<img>`` shows as it is, so one JSON answer carries every picture."""
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")

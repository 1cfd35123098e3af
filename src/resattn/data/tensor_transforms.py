"""Per-sample transforms on uint8 ``(C, H, W)`` tensors, cheap enough that small-image training is not loader-bound.

Each op costs a handful of tensor calls (a few microseconds), against tens of microseconds for a PIL round trip.
All randomness comes from torch's global RNG, so augmentation is reproducible from ``torch.manual_seed`` in the process
that runs the transform.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

__all__ = ["NormalizeUint8", "RandomHorizontalFlip", "RandomPadCrop", "ToFloatTensor", "ToUint8Tensor"]


def _as_chw_tensor(image: Any) -> torch.Tensor:
    if isinstance(image, torch.Tensor):
        return image.unsqueeze(0) if image.ndim == 2 else image
    if isinstance(image, Image.Image):
        image = np.asarray(image)
    if isinstance(image, np.ndarray):
        array = image[:, :, None] if image.ndim == 2 else image
        # PIL/numpy images are HWC; the rest of the pipeline is CHW. Copy: PIL-backed arrays are read-only.
        return torch.from_numpy(np.array(array.transpose(2, 0, 1), order="C"))
    raise TypeError(f"expected a PIL image, numpy array or tensor, got {type(image).__name__}")


class ToUint8Tensor:
    """Converts a PIL image, HWC numpy array or CHW/HW tensor to a uint8 ``(C, H, W)`` tensor (no-op if it is one)."""

    def __call__(self, image: Any) -> torch.Tensor:
        tensor = _as_chw_tensor(image)
        if tensor.dtype != torch.uint8:
            raise TypeError(f"ToUint8Tensor expects uint8 pixel data, got {tensor.dtype}")
        return tensor

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToFloatTensor:
    """Converts a PIL image, numpy array or tensor to a float ``(C, H, W)`` tensor in ``[0, 1]``.

    uint8 data is divided by 255; float tensors are passed through unchanged.
    """

    def __call__(self, image: Any) -> torch.Tensor:
        tensor = _as_chw_tensor(image)
        if tensor.dtype == torch.uint8:
            return tensor.to(torch.float32).div_(255.0)
        return tensor.to(torch.float32)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RandomPadCrop:
    """Zero-pads each side by ``padding`` pixels, then takes a random ``size x size`` crop.

    Args:
        size: Output height and width.
        padding: Pixels of zeros added on every side before cropping.
    """

    def __init__(self, size: int, padding: int) -> None:
        if size < 1 or padding < 0:
            raise ValueError(f"RandomPadCrop needs size >= 1 and padding >= 0, got size={size}, padding={padding}")
        self.size, self.padding = size, padding

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        padded = F.pad(image, (self.padding,) * 4) if self.padding else image
        height, width = padded.shape[-2:]
        if height < self.size or width < self.size:
            raise ValueError(f"RandomPadCrop: padded image {height}x{width} is smaller than crop size {self.size}")
        # One RNG call for both offsets: the per-call overhead dominates at this image size.
        top, left = torch.randint(0, 1 << 30, (2,)).tolist()
        top %= height - self.size + 1
        left %= width - self.size + 1
        return padded[..., top : top + self.size, left : left + self.size]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirrors a ``(..., H, W)`` tensor left-right with probability ``p``.

    Args:
        p: Flip probability.
    """

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        if torch.rand(()).item() < self.p:
            return image.flip(-1)
        return image

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class NormalizeUint8:
    """Maps uint8 pixels to ``(x / 255 - mean) / std`` as float32 in one fused multiply-add per pixel.

    Float input is taken to be in ``[0, 1]`` already.

    Args:
        mean: Per-channel mean in ``[0, 1]`` units (one value is broadcast to all channels).
        std: Per-channel standard deviation in ``[0, 1]`` units.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        if len(mean) != len(std) or any(s <= 0 for s in std):
            raise ValueError(f"NormalizeUint8 needs equally long mean/std with std > 0, got mean={mean}, std={std}")
        self.mean, self.std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
        std_t = torch.tensor(self.std).view(-1, 1, 1)
        # (x/255 - m)/s == x * (1/(255 s)) + (-m/s): precomputing the affine form saves two passes over the image.
        self._scale_u8 = 1.0 / (255.0 * std_t)
        self._scale_f = 1.0 / std_t
        self._shift = -torch.tensor(self.mean).view(-1, 1, 1) / std_t

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        if image.shape[-3] != self._shift.shape[0] and self._shift.shape[0] != 1:
            raise ValueError(
                f"NormalizeUint8 has {self._shift.shape[0]} channel stats, image has {image.shape[-3]} channels"
            )
        scale = self._scale_u8 if image.dtype == torch.uint8 else self._scale_f
        return torch.addcmul(self._shift, image.to(torch.float32), scale)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"

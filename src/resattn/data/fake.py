"""Synthetic, deterministic, learnable image-classification data for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .base import TargetsDataset

__all__ = ["FakeDataset"]


class FakeDataset(TargetsDataset):
    """Random uint8 images whose per-channel colour depends on the label, generated on the fly.

    Item ``i`` is a pure function of ``(seed, i)``, so the dataset is reproducible without storing images (ImageNet-size
    fakes would not fit in memory). The class-dependent colour makes the task learnable, which smoke tests rely on.

    Args:
        size: Number of items.
        image_size: Height and width.
        num_classes: Number of classes.
        in_chans: Number of channels.
        seed: Seed for labels, class colours and pixels.
        transform: Optional callable applied to each uint8 ``(in_chans, image_size, image_size)`` tensor.

    Attributes:
        targets: int64 tensor ``(size,)``.
        classes: ``["class_0", ...]``.
    """

    def __init__(
        self,
        size: int = 1000,
        image_size: int = 32,
        num_classes: int = 10,
        in_chans: int = 3,
        seed: int = 0,
        transform: Callable[[Any], Any] | None = None,
    ) -> None:
        if size < 0 or image_size < 1 or num_classes < 1 or in_chans < 1:
            raise ValueError(
                f"FakeDataset needs size >= 0 and positive image_size/num_classes/in_chans, got size={size}, "
                f"image_size={image_size}, num_classes={num_classes}, in_chans={in_chans}"
            )
        self.size = size
        self.image_size = image_size
        self.num_classes = num_classes
        self.in_chans = in_chans
        self.seed = seed
        self.transform = transform
        generator = torch.Generator().manual_seed(seed)
        self.targets = torch.randint(0, num_classes, (size,), generator=generator)
        self._colours = torch.randint(0, 256, (num_classes, in_chans, 1, 1), generator=generator, dtype=torch.uint8)
        self.classes = [f"class_{i}" for i in range(num_classes)]

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[Any, int]:
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(f"FakeDataset index {index} out of range for size {self.size}")
        # Mix seed and index into one 63-bit seed so different (seed, index) pairs give different streams.
        generator = torch.Generator().manual_seed((self.seed * 0x9E3779B97F4A7C15 + index) % (1 << 63))
        shape = (self.in_chans, self.image_size, self.image_size)
        noise = torch.randint(0, 256, shape, generator=generator, dtype=torch.uint8)
        label = self._labels[index]
        image = (noise >> 1) + (self._colours[label] >> 1)
        if self.transform is not None:
            image = self.transform(image)
        return image, label

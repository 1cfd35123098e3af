"""What a trained network expects of an image (size, channels, normalisation), and the transforms that produce it.

Training on a folder, fine-tuning and ``resattn predict`` all need the same answer: a network only works on images
prepared the way its training images were. :class:`InputSpec` is that answer; the trainer records it in the run's
config (``preset``, ``in_chans``, ``img_size``, ``mean``, ``std``) and prediction reads it back from there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torchvision import transforms as T

from .datasets import dataset_info
from .folder import load_image
from .tensor_transforms import ToFloatTensor
from .transforms import IMAGENET_MEAN, IMAGENET_STD, create_transform

__all__ = ["FOLDER_PRESETS", "InputSpec", "adapt_stats", "folder_spec", "read_input", "spec_for_dataset",
           "spec_transform"]

# Image-folder presets -> the transform preset they use. "small": CIFAR-style (the whole image resized to a square,
# pad-and-crop and flip); "large": ImageNet-style (random resized crops; resize and centre crop for evaluation).
FOLDER_PRESETS: dict[str, str] = {"small": "cifar", "large": "imagenet"}


@dataclass(frozen=True)
class InputSpec:
    """How images are prepared for one network.

    Attributes:
        preset: A :func:`~resattn.data.create_transform` preset ("cifar", "fashion_mnist", "imagenet", ...).
        in_chans: 1 (images decoded as grayscale) or 3 (RGB).
        img_size: Side of the square input.
        mean: Per-channel normalisation mean, ``[0, 1]`` units, ``in_chans`` entries.
        std: Per-channel normalisation std.
    """

    preset: str
    in_chans: int
    img_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def small(self) -> bool:
        """Small-image presets take the whole image resized to a square; the ImageNet one crops its centre."""
        return self.preset != "imagenet"

    def describe(self) -> str:
        kind = "grayscale" if self.in_chans == 1 else "RGB"
        fit = "whole image resized to" if self.small else "shorter side resized, centre crop"
        stats = ", ".join(f"{m:.3f}/{s:.3f}" for m, s in zip(self.mean, self.std, strict=True))
        return f"{kind}, {fit} {self.img_size}x{self.img_size}, normalised with mean/std {stats}"


def adapt_stats(values: Sequence[float], in_chans: int) -> tuple[float, ...]:
    """Per-channel statistics for another channel count: one grey value repeated, colour values averaged.

    This matches how the stem's weights are adapted (:mod:`resattn.engine.finetune`): a grey image normalised with
    the repeated statistics gives the adapted network the response the original network had.
    """
    values = tuple(float(v) for v in values)
    if len(values) == in_chans:
        return values
    if len(values) == 1:
        return values * in_chans
    if in_chans == 1:
        return (sum(values) / len(values),)
    raise ValueError(f"Cannot map {len(values)}-channel normalisation statistics to {in_chans} channels")


def spec_for_dataset(dataset: str, in_chans: int | None = None, img_size: int | None = None) -> InputSpec:
    """The spec of a named dataset (``fashion_mnist``, ``cifar10``, ...), optionally for another channel count."""
    info = dataset_info(dataset)
    chans = in_chans or info["in_chans"]
    return InputSpec(info["transform_preset"], chans, img_size or info["image_size"],
                     adapt_stats(info["mean"], chans), adapt_stats(info["std"], chans))


def folder_spec(preset: str, in_chans: int, img_size: int, mean: Sequence[float] | None = None,
                std: Sequence[float] | None = None) -> InputSpec:
    """The spec of an image-folder run; without statistics, ImageNet's (averaged to one value for grayscale)."""
    if preset not in FOLDER_PRESETS:
        raise ValueError(f"Unknown image-folder preset {preset!r}; choose one of {', '.join(FOLDER_PRESETS)}")
    if in_chans not in (1, 3):
        raise ValueError(f"in_chans must be 1 (grayscale) or 3 (colour) for image folders, got {in_chans}")
    return InputSpec(FOLDER_PRESETS[preset], in_chans, int(img_size), adapt_stats(mean or IMAGENET_MEAN, in_chans),
                     adapt_stats(std or IMAGENET_STD, in_chans))


def _gray_large_train(spec: InputSpec) -> Callable[[Any], Any]:
    # The ImageNet training pipeline ends in PCA lighting noise, which is defined on RGB only; grayscale images get
    # the same crops, flips and brightness / contrast jitter without it.
    return T.Compose([T.RandomResizedCrop(spec.img_size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)),
                      T.RandomHorizontalFlip(), T.ColorJitter(brightness=0.4, contrast=0.4), ToFloatTensor(),
                      T.Normalize(spec.mean, spec.std)])


def spec_transform(spec: InputSpec, train: bool, random_erasing: float = 0.0) -> Callable[[Any], Any]:
    """Maps one decoded PIL image (mode "L" or "RGB" per ``spec.in_chans``) to a normalised float tensor."""
    if not spec.small:
        if train and spec.in_chans == 1:
            return _gray_large_train(spec)
        return create_transform(spec.preset, train, img_size=spec.img_size, mean=spec.mean, std=spec.std)
    # Small-image presets assume images of one size (a dataset's native one): resize every image to it first.
    tail = create_transform(spec.preset, train, img_size=spec.img_size, mean=spec.mean, std=spec.std,
                            random_erasing=random_erasing)
    return T.Compose([T.Resize((spec.img_size, spec.img_size), interpolation=T.InterpolationMode.BILINEAR), tail])


def read_input(path: str, spec: InputSpec, transform: Callable[[Any], Any] | None = None) -> torch.Tensor:
    """One image file as the network's input ``(C, H, W)``.

    Raises:
        ImageLoadError: The file cannot be decoded (a ValueError naming the file).
    """
    image = load_image(str(path), "L" if spec.in_chans == 1 else "RGB")
    return (transform or spec_transform(spec, train=False))(image)


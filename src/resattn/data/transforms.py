"""Training / evaluation transform presets following the Residual Attention Network paper (Wang et al., 2017)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from typing import Any

from torchvision import transforms as T

from .lighting import PCALighting
from .tensor_transforms import NormalizeUint8, RandomHorizontalFlip, RandomPadCrop, ToFloatTensor, ToUint8Tensor

__all__ = [
    "CIFAR100_MEAN",
    "CIFAR100_STD",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "DEFAULT_CROP_PCT",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "TRANSFORM_PRESETS",
    "create_transform",
]

IMAGENET_MEAN: tuple[float, ...] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, ...] = (0.229, 0.224, 0.225)
CIFAR10_MEAN: tuple[float, ...] = (0.4914, 0.4822, 0.4465)
CIFAR10_STD: tuple[float, ...] = (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN: tuple[float, ...] = (0.5071, 0.4865, 0.4409)
CIFAR100_STD: tuple[float, ...] = (0.2673, 0.2564, 0.2762)
FASHION_MNIST_MEAN: tuple[float, ...] = (0.2860,)
FASHION_MNIST_STD: tuple[float, ...] = (0.3530,)
DEFAULT_CROP_PCT = 0.875

# preset -> (family, default image size, default mean, default std). cifar10/cifar100 only differ in statistics.
_PRESETS: dict[str, tuple[str, int, tuple[float, ...], tuple[float, ...]]] = {
    "cifar": ("cifar", 32, CIFAR10_MEAN, CIFAR10_STD),
    "cifar10": ("cifar", 32, CIFAR10_MEAN, CIFAR10_STD),
    "cifar100": ("cifar", 32, CIFAR100_MEAN, CIFAR100_STD),
    "imagenet": ("imagenet", 224, IMAGENET_MEAN, IMAGENET_STD),
    "fashion_mnist": ("fashion_mnist", 28, FASHION_MNIST_MEAN, FASHION_MNIST_STD),
}
TRANSFORM_PRESETS: tuple[str, ...] = tuple(_PRESETS)


def _small_image_transform(train: bool, img_size: int, padding: int, mean: Sequence[float], std: Sequence[float],
                           random_erasing: float = 0.0):
    # Pure tensor ops on uint8 data: a PIL round trip per 28x28 / 32x32 sample would make training loader-bound.
    steps: list[Callable[[Any], Any]] = [ToUint8Tensor()]
    if train:
        steps += [RandomPadCrop(img_size, padding), RandomHorizontalFlip()]
    steps.append(NormalizeUint8(mean, std))
    if train and random_erasing:
        # Random Erasing (Zhong et al., 2020): a rectangle of 2-40% of the image, aspect 0.3-3.3, set to the
        # dataset mean (0 after normalisation). Draws from torch's RNG, like the other steps.
        steps.append(T.RandomErasing(p=random_erasing, scale=(0.02, 0.4), ratio=(0.3, 3.3), value=0))
    return T.Compose(steps)


def _imagenet_transform(
    train: bool, img_size: int, crop_pct: float, mean: Sequence[float], std: Sequence[float]
) -> Callable[[Any], Any]:
    if train:
        return T.Compose(
            [
                # Inception-style scale (8%-100% of the area) and aspect-ratio (3/4-4/3) augmentation.
                T.RandomResizedCrop(img_size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)),
                T.RandomHorizontalFlip(),
                T.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4),
                ToFloatTensor(),
                PCALighting(alpha_std=0.1),
                T.Normalize(mean, std),
            ]
        )
    return T.Compose(
        [
            # Resize the shorter side so that the centre crop covers crop_pct of it (224 / 0.875 = 256).
            T.Resize(math.floor(img_size / crop_pct)),
            T.CenterCrop(img_size),
            ToFloatTensor(),
            T.Normalize(mean, std),
        ]
    )


def create_transform(
    preset: str,
    train: bool,
    img_size: int | None = None,
    crop_pct: float | None = None,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    random_erasing: float = 0.0,
) -> Callable[[Any], Any]:
    """Builds the train or eval transform of a preset.

    Presets:
        * ``cifar`` (also ``cifar10`` / ``cifar100``, which only change the default statistics): train = zero-pad 4,
          random ``img_size`` crop (default 32), horizontal flip, normalise; eval = normalise. The paper subtracts the
          per-pixel mean; we use per-channel mean/std normalisation instead, the common equivalent that does not need
          a mean image computed from the training set. Inputs: uint8 tensors ``(3, H, W)`` or PIL images.
        * ``imagenet``: train = RandomResizedCrop(``img_size``, default 224), horizontal flip, ColorJitter(0.4, 0.4,
          0.4), PCA lighting noise (std 0.1), normalise; eval = resize shorter side to ``img_size / crop_pct`` (crop_pct
          default 0.875), centre crop ``img_size``, normalise. Inputs: PIL images or uint8 tensors.
        * ``fashion_mnist``: train = zero-pad 2, random 28 crop, horizontal flip, normalise (mean 0.2860, std 0.3530);
          eval = normalise. Inputs: uint8 tensors ``(1, 28, 28)`` (fast path) or PIL images.

    For the small-image presets ``img_size`` only sets the training crop; it should equal the stored image size so
    that train and eval shapes agree.

    Args:
        preset: One of :data:`TRANSFORM_PRESETS`.
        train: Training (random augmentation) or evaluation (deterministic) pipeline.
        img_size: Output size; preset default if None.
        crop_pct: Eval centre-crop fraction for ``imagenet``; ignored by the other presets.
        mean: Per-channel normalisation mean in ``[0, 1]`` units; preset default if None.
        std: Per-channel normalisation std; preset default if None.
        random_erasing: Probability of Random Erasing in the training pipeline of the small-image presets
            (``cifar*``, ``fashion_mnist``); 0 disables it. Not supported by ``imagenet``.

    Returns:
        A callable mapping one image to a normalised float tensor ``(C, img_size, img_size)``.

    Raises:
        ValueError: On an unknown preset or invalid sizes.
    """
    key = preset.lower().replace("-", "_")
    if key not in _PRESETS:
        close = difflib.get_close_matches(key, TRANSFORM_PRESETS, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"Unknown transform preset {preset!r}; choose one of {list(TRANSFORM_PRESETS)}.{hint}")
    family, default_size, default_mean, default_std = _PRESETS[key]
    img_size = default_size if img_size is None else int(img_size)
    if img_size < 1:
        raise ValueError(f"img_size must be positive, got {img_size}")
    crop_pct = DEFAULT_CROP_PCT if crop_pct is None else float(crop_pct)
    if not 0.0 < crop_pct <= 1.0:
        raise ValueError(f"crop_pct must be in (0, 1], got {crop_pct}")
    mean = tuple(default_mean if mean is None else mean)
    std = tuple(default_std if std is None else std)
    if not 0.0 <= random_erasing <= 1.0:
        raise ValueError(f"random_erasing is a probability in [0, 1], got {random_erasing}")
    if family == "imagenet":
        if random_erasing:
            raise ValueError("random_erasing is only built into the small-image presets (cifar*, fashion_mnist)")
        return _imagenet_transform(train, img_size, crop_pct, mean, std)
    padding = 4 if family == "cifar" else 2
    return _small_image_transform(train, img_size, padding, mean, std, random_erasing)

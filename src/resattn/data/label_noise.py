"""Symmetric label noise for the noisy-label experiment (paper Table 5; Sukhbaatar et al., 2014)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from .views import ParentAttributes

__all__ = ["NoisyLabels", "apply_label_noise"]


def _check(noise_rate: float, num_classes: int) -> None:
    if not 0.0 <= noise_rate < 1.0:
        raise ValueError(f"noise_rate must be in [0, 1) (it is 1 - r, the chance a label is changed), got {noise_rate}")
    if num_classes < 2 and noise_rate > 0:
        raise ValueError(f"label noise needs at least 2 classes, got num_classes={num_classes}")


def apply_label_noise(
    targets: Sequence[int] | torch.Tensor, noise_rate: float, num_classes: int, seed: int
) -> tuple[torch.Tensor, float]:
    """Draws noisy labels once, from a seed, by the label-corruption matrix ``Q`` of the noisy-label experiment.

    ``Q[i, j] = P(noisy label j | true label i)`` is ``r = 1 - noise_rate`` on the diagonal and ``(1 - r) / (K - 1)``
    elsewhere: each label is kept with probability ``r``, otherwise replaced by one of the other ``K - 1`` classes
    uniformly, which is sampling row ``y`` of ``Q``. Apply this to the training subset only.

    Args:
        targets: True labels in ``[0, num_classes)``.
        noise_rate: ``1 - r`` in ``[0, 1)``.
        num_classes: ``K``.
        seed: Seed of a private ``torch.Generator``; the global RNG is untouched.

    Returns:
        ``(noisy_targets, realised_rate)``: int64 tensor of the same length, and the fraction of labels that changed.

    Raises:
        ValueError: If ``noise_rate`` is outside ``[0, 1)`` or a label is outside ``[0, num_classes)``.
    """
    _check(noise_rate, num_classes)
    clean = torch.as_tensor(targets, dtype=torch.long).flatten()
    if clean.numel() and (clean.min() < 0 or clean.max() >= num_classes):
        raise ValueError(f"targets must lie in [0, {num_classes}), got range [{clean.min()}, {clean.max()}]")
    if clean.numel() == 0 or noise_rate == 0.0:
        return clean.clone(), 0.0
    generator = torch.Generator().manual_seed(seed)
    flip = torch.rand(clean.shape, generator=generator, dtype=torch.float64) < noise_rate
    # A non-zero offset modulo K lands on each of the other K - 1 classes with equal probability.
    offset = torch.randint(1, num_classes, clean.shape, generator=generator)
    noisy = torch.where(flip, (clean + offset) % num_classes, clean)
    return noisy, (noisy != clean).double().mean().item()


class NoisyLabels(ParentAttributes, Dataset):
    """Wraps a dataset (usually the training subset) and returns replacement labels.

    The wrapped dataset is not modified, so other views of the same storage (validation, test) keep clean labels.

    Args:
        dataset: Dataset yielding ``(image, label)``.
        noisy_targets: One label per item of ``dataset``.

    Attributes:
        targets: The noisy labels (int64 tensor); the wrapped dataset keeps the clean ones.
    """

    def __init__(self, dataset: Dataset, noisy_targets: Sequence[int] | torch.Tensor) -> None:
        targets = torch.as_tensor(noisy_targets, dtype=torch.long).flatten()
        if targets.numel() != len(dataset):
            raise ValueError(f"NoisyLabels got {targets.numel()} labels for a dataset of {len(dataset)} items")
        self.dataset = dataset
        self.targets = targets
        self._labels: list[int] = targets.tolist()

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image, _ = self.dataset[index]
        return image, self._labels[index]
